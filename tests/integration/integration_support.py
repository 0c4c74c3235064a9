"""Shared helpers of the integration tier (importable by its tests, unlike conftest)."""

from imds_ext.emulator.client import AdminClient

FEATURE = "Microsoft.ContainerService/IMDSRestrictionPreview"
RG = "rg1"



class Admin(AdminClient):
    """The emulator's admin API (docs/emulator.md), with the filters these tests ask for."""

    def __init__(self, emulator):
        super().__init__(emulator.arm_endpoint, emulator.ca_bundle_path)
        self.sub = emulator.env()["AZURE_SUBSCRIPTION_ID"]

    def reset(self):
        super().reset()
        self.config(lro_delay=0, registration_delay=0)

    def seed(self, **doc):
        return super().seed(doc)

    def requests(self, method=None, contains=""):
        return [e for e in super().requests() if (method is None or e["method"] == method)
                and contains.lower() in e["path"].lower()]

    def nodes(self, rg, cluster):
        """What each pool's nodes enforce: {pool: podLinkLocalAccess}."""
        pools = super().nodes(rg, cluster, self.sub)["pools"]
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
