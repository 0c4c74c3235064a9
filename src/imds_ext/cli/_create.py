"""What `az-imds aks create` sends: the managed cluster `az aks create` would build from the same options, with
az's defaults for the ones not given."""
from imds_ext.core import constants
from imds_ext.core.addons import AZ_ADDONS


def cluster_body(resource_group_name, name, location, subscription_id, node_count=3, node_vm_size=None,
                 kubernetes_version=None, enable_oidc_issuer=False, enable_workload_identity=False,
                 enable_addons=None, enable_imds_restriction=False, tags=None):
    """The managed cluster `az aks create` would send, with its defaults."""
    props = {
        "dnsPrefix": f"{name[:10]}-{resource_group_name[:16]}-{subscription_id[:6]}".replace("_", "-"),
        "agentPoolProfiles": [{
            "name": "nodepool1", "count": node_count or 3, "vmSize": node_vm_size or "Standard_DS2_v2",
            "osType": "Linux", "osSKU": "Ubuntu", "mode": "System", "type": "VirtualMachineScaleSets",
            "enableNodePublicIP": False, "maxPods": 250,
        }],
        "enableRBAC": True,
        "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay",
                           "loadBalancerSku": "standard", "outboundType": "loadBalancer"},
        "addonProfiles": {},
    }
    if kubernetes_version:
        props["kubernetesVersion"] = kubernetes_version
    if enable_oidc_issuer or enable_workload_identity:
        props["oidcIssuerProfile"] = {"enabled": True}
    if enable_workload_identity:
        props["securityProfile"] = {"workloadIdentity": {"enabled": True}}
    if enable_imds_restriction:
        props["networkProfile"][constants.POD_LINK_LOCAL_ACCESS] = constants.RESTRICTED
    for addon in enable_addons or []:  # validated: names az knows
        section, key = AZ_ADDONS[addon]
        props.setdefault(section, {})[key] = {"enabled": True}
    body = {"location": location, "identity": {"type": "SystemAssigned"}, "sku": {"name": "Base", "tier": "Free"},
            "properties": props}
    if tags:
        body["tags"] = tags
    return body
