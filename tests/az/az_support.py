"""Helpers of the az tier, importable by its tests (conftest is not)."""

from imds_ext.emulator import WELL_KNOWN_SUBSCRIPTION_ID

FEATURE = "Microsoft.ContainerService/IMDSRestrictionPreview"
SUB = WELL_KNOWN_SUBSCRIPTION_ID
PREVIEW_API = "2026-05-02-preview"



def puts(admin, contains=""):
    return [e for e in admin.requests() if e["method"] == "PUT" and contains.lower() in e["path"].lower()]


def seed_cluster(admin, rg="rg1", name="c1", feature="Registered", restricted=False, pools=("nodepool1", "userpool")):
    """A two-pool cluster (the emulator fills what the service sets, such as the kubelet identity)."""
    props = {
        "dnsPrefix": f"{name}-dns", "kubernetesVersion": "1.33.2",
        "agentPoolProfiles": [{"name": p, "count": 2, "vmSize": "Standard_DS2_v2", "osType": "Linux",
                               "mode": "System" if i == 0 else "User", "type": "VirtualMachineScaleSets"}
                              for i, p in enumerate(pools)],
        "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay",
                           **({"podLinkLocalAccess": "None"} if restricted else {})},
        "oidcIssuerProfile": {"enabled": True},
        "securityProfile": {"workloadIdentity": {"enabled": True}},
    }
    admin.seed({
        "resourceGroups": [{"name": rg, "location": "westus2"}],
        "features": {FEATURE: feature},
        "providers": {"Microsoft.ContainerService": "Registered"},
        "clusters": [{"resourceGroup": rg, "name": name,
                      "cluster": {"location": "westus2", "identity": {"type": "SystemAssigned"}, "properties": props},
                      **({"nodes": {p: {"podLinkLocalAccess": "None"} for p in pools}} if restricted else {})}],
    })
    admin.clear_requests()
    return name


def enforced(admin, rg, name):
    return {pool: v["podLinkLocalAccess"] for pool, v in admin.nodes(rg, name)["pools"].items()}
