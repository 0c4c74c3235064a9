"""Helpers of the emulator tier, importable by its tests."""
from imds_ext.emulator import WELL_KNOWN_SUBSCRIPTION_ID

SUB = WELL_KNOWN_SUBSCRIPTION_ID
PREVIEW = "2026-05-02-preview"
GA = "2026-08-01"
FEATURE = "Microsoft.ContainerService/IMDSRestrictionPreview"
CUSTOM = {"AKSHTTPCustomFeatures": FEATURE}



def cluster_body(restricted=False, oidc=True, pools=None, location="westeurope", **props):
    properties = {"kubernetesVersion": "1.33.1", "dnsPrefix": "c1",
                  "agentPoolProfiles": pools or [{"name": "nodepool1", "count": 3, "mode": "System",
                                                  "osType": "Linux", "type": "VirtualMachineScaleSets"}],
                  "oidcIssuerProfile": {"enabled": oidc},
                  "networkProfile": {"networkPlugin": "azure",
                                     "podLinkLocalAccess": "None" if restricted else "IMDS"}}
    properties.update(props)
    return {"location": location, "identity": {"type": "SystemAssigned"}, "properties": properties}
