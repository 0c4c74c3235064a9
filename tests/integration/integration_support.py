"""Shared helpers of the integration tier (importable by its tests, unlike conftest)."""
import json
from dataclasses import dataclass

import requests

FEATURE = "Microsoft.ContainerService/IMDSRestrictionPreview"
RG = "rg1"


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)


class Admin:
    """The emulator's admin API (docs/emulator.md), over HTTPS with its CA."""

    def __init__(self, emulator):
        self.base = emulator.arm_endpoint + "/_emulator"
        self.verify = emulator.ca_bundle_path
        self.sub = emulator.env()["AZURE_SUBSCRIPTION_ID"]

    def _call(self, method, path, body=None):
        response = requests.request(method, self.base + path, json=body, verify=self.verify, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self):
        self._call("POST", "/reset")
        self._call("PUT", "/config", {"lroDelaySeconds": 0, "registrationDelaySeconds": 0})

    def seed(self, **doc):
        return self._call("POST", "/seed", doc)

    def fault(self, **spec):
        return self._call("POST", "/faults", spec)

    def requests(self, method=None, contains=""):
        entries = self._call("GET", "/requests")
        return [e for e in entries if (method is None or e["method"] == method) and contains.lower()
                in e["path"].lower()]

    def clear_requests(self):
        self._call("DELETE", "/requests")

    def nodes(self, rg, cluster):
        pools = self._call("GET", f"/nodes/{self.sub}/{rg}/{cluster}")["pools"]
        return {name: pool["podLinkLocalAccess"] for name, pool in pools.items()}



def cluster_body(location="westus2", oidc=True, workload_identity=True, pools=None, **props):
    properties = {
        "dnsPrefix": "c1-dns",
        "kubernetesVersion": "1.33.2",
        "agentPoolProfiles": pools or [
            {"name": "nodepool1", "count": 3, "vmSize": "Standard_DS2_v2", "osType": "Linux", "mode": "System",
             "type": "VirtualMachineScaleSets"},
            {"name": "userpool", "count": 2, "vmSize": "Standard_DS2_v2", "osType": "Linux", "mode": "User",
             "type": "VirtualMachineScaleSets"},
        ],
        "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay"},
        "oidcIssuerProfile": {"enabled": oidc},
        "securityProfile": {"workloadIdentity": {"enabled": workload_identity}},
    }
    properties.update(props)
    return {"location": location, "identity": {"type": "SystemAssigned"}, "properties": properties}
