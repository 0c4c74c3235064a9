"""What the service fills in when a PUT leaves a field out (or sends it empty), as the 2025 service answers in the
recordings (docs/emulator.md): given values always win; only what is missing is filled."""
from __future__ import annotations

import copy
import uuid
from typing import Optional

from imds_ext.emulator.constants import DEFAULT_VM_SIZE, WELL_KNOWN_TENANT_ID
from imds_ext.emulator.providers.containerservice import paths

_POOL = {
    "kubeletDiskType": "OS", "workloadRuntime": "OCIContainer", "osDiskType": "Managed", "scaleDownMode": "Delete",
    "enableNodePublicIP": False, "enableEncryptionAtHost": False,
    "enableUltraSSD": False, "enableFIPS": False, "networkProfile": {}, "enableAutoScaling": False,
    "upgradeSettings": {"maxSurge": "10%", "maxUnavailable": "0"},
    # Answered for every pool since 2025-09 (test_aks_create_with_blue_green_upgrade_nodepool, 2025-09-09, and
    # every later recording), in reads and writes alike.
    "upgradeStrategy": "Rolling",
}
# enableCustomCATrust is not filled in: the service answers it only for a pool whose PUT sent it (every 2022-2025
# PUT that sent false reads back false; test_aks_managed_namespace, 2025-10-29, and the 2025-11 Deployment
# Safeguards recordings sent none and read none).
_LINUX_POOL_SECURITY = {"sshAccess": "LocalUser", "enableVTPM": False, "enableSecureBoot": False}
_SSH_ACCESS = {"localuser": "LocalUser", "disabled": "Disabled", "entraid": "EntraId"}
_CLUSTER = {
    "supportPlan": "KubernetesOfficial", "enableRBAC": True, "disableLocalAccounts": False, "securityProfile": {},
    "autoUpgradeProfile": {"nodeOSUpgradeChannel": "NodeImage"}, "workloadAutoScalerProfile": {},
    "oidcIssuerProfile": {"enabled": False}, "metricsProfile": {"costAnalysis": {"enabled": False}},
    "bootstrapProfile": {"artifactSource": "Direct"},
    # Answered since 2025-11 (test_aks_deployment_safeguards_basic, 2025-11-05, and _with_pss, the newest; the
    # 2025-10-29 recording lacks them).
    "hostedSystemProfile": {"enabled": False}, "enableFIPS": False,
    # Every 2025 answer has these (newest: test_aks_deployment_safeguards_with_pss, 2025-11-06, with
    # secure-tls-bootstrap since test_aks_nodepool_create_machines_pool, 2025-09-02); a create's first answer too.
    "controlPlanePluginProfiles": {plugin: {"enableV2": True} for plugin in (
        "azure-monitor-metrics-ccp", "gpu-provisioner", "karpenter", "kubelet-serving-csr-approver",
        "live-patching-controller", "secure-tls-bootstrap", "static-egress-controller")},
    # Manual unless a PUT says Auto (test_aks_create_node_provisioning_profile), defaultNodePools Auto either way.
    "nodeProvisioningProfile": {"mode": "Manual", "defaultNodePools": "Auto"},
    "storageProfile": {"diskCSIDriver": {"enabled": True, "version": "v1"}, "fileCSIDriver": {"enabled": True},
                       "snapshotController": {"enabled": True}},
}
_NETWORK = {
    "loadBalancerSku": "standard", "outboundType": "loadBalancer", "serviceCidr": "10.0.0.0/16",
    "dnsServiceIP": "10.0.0.10", "ipFamilies": ["IPv4"], "networkPolicy": "none",
}
# A managed NAT gateway's defaults (test_aks_automatic_sku, 2025-08-26): one managed IP, a 4 minutes idle timeout;
# its load balancer then has only its backend pool type.
_NAT_GATEWAY = {"managedOutboundIPProfile": {"count": 1}, "idleTimeoutInMinutes": 4}
_BACKEND_POOL_TYPES = {"nodeipconfiguration": "nodeIPConfiguration", "nodeip": "nodeIP"}
POD_CIDR = "10.244.0.0/16"
# AKS Automatic (sku.name "Automatic"): what a create turns on, as test_aks_automatic_sku (2025-08-26) answers it
# for a PUT that asked for none of it. Given values win.
_AUTOMATIC = {
    "addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": True, "config": {"enableSecretRotation": "true"}},
                      "azurepolicy": {"enabled": True, "config": None}},
    "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "networkDataplane": "cilium",
                       "networkPolicy": "cilium"},
    "aadProfile": {"managed": True, "adminGroupObjectIDs": None, "adminUsers": None, "enableAzureRBAC": True},
    "apiServerAccessProfile": {"enablePrivateCluster": False, "enableVnetIntegration": True, "subnetId": ""},
    "autoUpgradeProfile": {"upgradeChannel": "stable"},
    "securityProfile": {"imageCleaner": {"enabled": True, "intervalHours": 168}, "workloadIdentity": {"enabled": True}},
    "oidcIssuerProfile": {"enabled": True},
    "nodeResourceGroupProfile": {"restrictionLevel": "ReadOnly"},
    "ingressProfile": {"webAppRouting": {"enabled": True}},
    "workloadAutoScalerProfile": {"keda": {"enabled": True},
                                  "verticalPodAutoscaler": {"enabled": True, "addonAutoscaling": "Unspecified"}},
    "nodeProvisioningProfile": {"mode": "Auto"},
}
# Its System pool: Azure Linux in three zones, tainted for system pods only, and no SSH whatever the PUT said
# (test_aks_automatic_sku #8 sent sshAccess "localuser" and nodeTaints []).
_AUTOMATIC_SYSTEM_POOL = {"osSKU": "AzureLinux", "availabilityZones": ["1", "2", "3"]}
AUTOMATIC_SYSTEM_TAINT = "CriticalAddonsOnly=true:NoSchedule"
# App routing: its defaults, and the identity it gets once built (test_aks_create_with_app_routing_enabled,
# test_aks_approuting_enable_with_internal_nginx_then_disable, test_aks_automatic_sku).
_WEB_APP_ROUTING = {"dnsZoneResourceIds": None, "nginx": {"defaultIngressControllerType": "AnnotationControlled"}}
# Pools of single VMs (type VirtualMachines) hold their sizes and counts in virtualMachinesProfile, not in count
# and vmSize; a migration from another type takes the pool's count and size (test_aks_migrate_vmas_to_vms,
# 2025-07-14), and once built the pool reports the nodes it runs (virtualMachineNodesStatus).
_VM_SCALE_FIELDS = ("count", "vmSize")
# A managed system pool (mode ManagedSystem) is AKS's to size and configure: a VirtualMachines pool that answers
# none of a pool's VM and disk fields, no node image until built, and once built one Standard_D4s_v3 node
# (test_aks_update_with_managed_system_pool, 2025-07-09).
_MANAGED_SYSTEM_LEFT_OUT = ("count", "vmSize", "osDiskSizeGB", "workloadRuntime", "enableEncryptionAtHost",
                            "enableUltraSSD", "networkProfile", "enableAutoScaling", "availabilityZones",
                            "enableCustomCATrust")
_MANAGED_SYSTEM_SCALE = [{"size": "Standard_D4s_v3", "count": 1}]
# A Machines pool (mode Machines) holds machines added one by one: the pool answers only its type, mode, states and
# upgrade settings as sent (test_aks_nodepool_create_machines_pool, 2025-09-02).
_MACHINES_POOL_KEYS = ("name", "type", "mode", "upgradeSettings", "provisioningState", "powerState", "eTag")
# Spot-only fields: the service answers them for Spot pools only. Every Regular pool of the corpus was sent
# scaleSetPriority "Regular", scaleSetEvictionPolicy "Delete" and spotMaxPrice -1 by az, and none came back
# (44 cluster and 13 pool PUTs, e.g. test_aks_create_with_windows, test_aks_nodepool_add_with_ossku_flatcar).
_SPOT_ONLY = ("scaleSetPriority", "scaleSetEvictionPolicy", "spotMaxPrice")
# Empty collections the service leaves out of its answers, though az sends them (43 pool PUTs with nodeTaints [],
# 35 with nodeInitializationTaints []; test_aks_create_with_transit_encryption_type, test_aks_upgrade_nodepool).
_EMPTY_LEFT_OUT_OF_POOLS = ("nodeTaints", "nodeInitializationTaints", "nodeLabels")
# The same of a cluster: addonProfiles {} (41 cluster PUTs, e.g. test_aks_create_with_fips), the pod identity
# profile's empty lists (test_aks_create_with_pod_identity_enabled), authorizedIPRanges [] (test_aks_abort).
_EMPTY_LEFT_OUT_OF_CLUSTERS = (("addonProfiles",), ("podIdentityProfile", "userAssignedIdentities"),
                               ("podIdentityProfile", "userAssignedIdentityExceptions"),
                               ("apiServerAccessProfile", "authorizedIPRanges"))
# Switches answered only when on: run command's `disableRunCommand: false` (test_aks_update_run_command, 2025-07-29:
# re-enabling it answers no apiServerAccessProfile at all), pod identity's `enabled: false`
# (test_aks_create_with_pod_identity_enabled: answered {}).
_FALSE_LEFT_OUT_OF_CLUSTERS = (("apiServerAccessProfile", "disableRunCommand"), ("podIdentityProfile", "enabled"))
# Secrets the service takes and never answers (test_aks_create_with_windows sent windowsProfile.adminPassword;
# no answer of the corpus holds it, nor a servicePrincipalProfile.secret).
_SECRETS = (("windowsProfile", "adminPassword"), ("servicePrincipalProfile", "secret"))


def fill(target: dict, defaults: dict) -> dict:
    """Put into `target` what `defaults` has and `target` lacks (or holds as null), recursively."""
    for key, value in defaults.items():
        if target.get(key) is None:
            target[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(target[key], dict):
            fill(target[key], value)
    return target


def network(profile: dict) -> dict:
    """The network profile of a new cluster: Azure CNI overlay unless told otherwise, and what each plugin implies."""
    if not profile.get("networkPlugin"):
        profile["networkPlugin"] = "azure"
        profile.setdefault("networkPluginMode", "overlay")
    plugin, overlay = profile["networkPlugin"], profile.get("networkPluginMode") == "overlay"
    if str(profile.get("networkDataplane") or "").lower() == "cilium" and not profile.get("networkPolicy"):
        profile["networkPolicy"] = "cilium"  # Cilium enforces policy (test_aks_create_with_enable_acns, ...)
    fill(profile, _NETWORK)
    _outbound(profile)
    if plugin == "azure":
        profile.setdefault("networkDataplane", "azure")
    if plugin == "kubenet" or overlay:
        profile.setdefault("podCidr", POD_CIDR)
    if profile.get("podCidr"):
        profile.setdefault("podCidrs", [profile["podCidr"]])
    profile.setdefault("serviceCidrs", [profile["serviceCidr"]])
    cilium = str(profile.get("networkDataplane")).lower() == "cilium"
    if cilium:
        # Cilium takes kube-proxy's place: every Cilium cluster of the corpus answers an empty kube-proxy profile
        # (test_aks_create_with_enable_acns, test_aks_create_node_provisioning_profile, test_aks_automatic_sku).
        profile.setdefault("kubeProxyConfig", {})
    _advanced_networking(profile.get("advancedNetworking"), cilium)
    return profile


def _advanced_networking(acns, cilium: bool) -> None:
    """Advanced Container Networking Services: turned on or off as a whole, observability follows; its security
    features need the Cilium data plane (test_aks_create_with_enable_acns, test_aks_update_enable_acns: on with the
    Azure data plane, security stays off), with FQDN policies by default (test_aks_create_with_transit_encryption_
    type, 2025-06-11, the newest)."""
    if not isinstance(acns, dict) or acns.get("enabled") is None:
        return
    on = bool(acns["enabled"])
    acns["observability"] = dict(acns.get("observability") or {})
    acns["observability"].setdefault("enabled", on)
    security = acns["security"] = dict(acns.get("security") or {})
    security.setdefault("enabled", on and cilium)
    if security["enabled"] and cilium:
        security.setdefault("advancedNetworkPolicies", "FQDN")


def _outbound(profile: dict) -> None:
    """The load balancer's (or NAT gateway's) outbound profile, by outbound type and SKU."""
    if str(profile.get("loadBalancerSku")).lower() == "basic":
        return  # a Basic load balancer has no profile (test_aks_migrate_vmas_to_vms, 2025-07-14)
    balancer = profile["loadBalancerProfile"] = dict(profile.get("loadBalancerProfile") or {})
    kind = str(balancer.get("backendPoolType") or "nodeIPConfiguration")
    # Sent "NodeIPConfiguration", answered "nodeIPConfiguration" (test_aks_create_and_update_outbound_ips).
    balancer["backendPoolType"] = _BACKEND_POOL_TYPES.get(kind.lower(), kind)
    outbound = str(profile.get("outboundType") or "loadBalancer").lower()
    if outbound == "managednatgateway":
        profile["natGatewayProfile"] = fill(dict(profile.get("natGatewayProfile") or {}), _NAT_GATEWAY)
    elif outbound == "loadbalancer" and not balancer.get("outboundIPs") and not balancer.get("outboundIPPrefixes"):
        # Managed IPs only when the PUT names no public IPs or prefixes of its own: with `outboundIPs`, the
        # service answers those and no managedOutboundIPs (test_aks_create_and_update_outbound_ips, 2025-06-03).
        balancer.setdefault("managedOutboundIPs", {"count": 1})


def max_pods(network_profile: dict) -> int:
    """Pods per node by default: 110 with kubenet, 250 with an overlay or Cilium, 30 with flat Azure CNI."""
    if network_profile.get("networkPlugin") == "kubenet":
        return 110
    if network_profile.get("networkPluginMode") == "overlay" or network_profile.get("networkDataplane") == "cilium":
        return 250
    return 30


def pool(profile: dict, network_profile: dict) -> dict:
    windows = str(profile.get("osType") or "Linux").lower() == "windows"
    profile["osType"] = "Windows" if windows else "Linux"
    if not profile.get("osSKU"):
        profile["osSKU"] = "Windows2022" if windows else "Ubuntu"
    if not profile.get("osDiskSizeGB"):
        profile["osDiskSizeGB"] = 128
    if not profile.get("maxPods"):
        profile["maxPods"] = max_pods(network_profile)
    wanted = dict(_POOL)
    sent_settings = profile.get("upgradeSettings")
    if profile.get("type") == "AvailabilitySet":
        # An availability-set pool takes no surge settings and reports no node image (test_aks_migrate_vmas_to_vms:
        # upgradeSettings {} as sent, until it is migrated to VirtualMachines).
        del wanted["upgradeSettings"]
    elif windows:
        # ... and no surge settings filled in (the same recording: upgradeSettings {} as sent).
        del wanted["upgradeSettings"]
    elif isinstance(sent_settings, dict) and sent_settings and not sent_settings.get("maxSurge"):
        # Surge is filled in only for a pool that sent no upgrade settings at all: one that sent only
        # undrainableNodeBehavior has none (test_aks_nodepool_undrainable_node_behavior, 2024-09-12).
        wanted["upgradeSettings"] = {k: v for k, v in _POOL["upgradeSettings"].items() if k != "maxSurge"}
    fill(profile, wanted)
    security = profile["securityProfile"] = dict(profile.get("securityProfile") or {})
    if isinstance(security.get("sshAccess"), str):
        security["sshAccess"] = _SSH_ACCESS.get(security["sshAccess"].lower(), security["sshAccess"])
    if windows:
        # A Windows pool: vTPM and secure boot off, SSH as sent, and an empty Windows profile of its own
        # (test_aks_nodepool_add_with_ossku_windowsannual, 2024-04-23, the newest Windows pool).
        fill(security, {k: v for k, v in _LINUX_POOL_SECURITY.items() if k != "sshAccess"})
        profile.setdefault("windowsProfile", {})
    else:
        fill(security, _LINUX_POOL_SECURITY)
    if str(profile.get("scaleSetPriority") or "Regular").lower() != "spot":
        for key in _SPOT_ONLY:
            profile.pop(key, None)
    for key in _EMPTY_LEFT_OUT_OF_POOLS:
        if profile.get(key) in ([], {}):
            del profile[key]
    return profile


def pool_kind(profile: dict, old: Optional[dict]) -> str:
    """Before the defaults: the pool's type by its mode, and a VirtualMachines pool's scale from what was sent or
    was. Returns the mode (lower case)."""
    mode = str(profile.get("mode") or "").lower()
    if mode in ("managedsystem", "machines"):
        profile["type"] = "VirtualMachines"  # whatever was sent (the Machines pool's PUT said VMSS)
    old = old or {}
    if mode == "managedsystem":
        for key in ("virtualMachinesProfile", "virtualMachineNodesStatus"):  # the service's: kept
            if old.get(key):
                profile[key] = copy.deepcopy(old[key])
    if profile.get("type") != "VirtualMachines" or mode in ("managedsystem", "machines"):
        return mode
    if not profile.get("virtualMachinesProfile"):
        sent = {k: profile.get(k) for k in _VM_SCALE_FIELDS if profile.get(k) not in (None, "")}
        if sent or not old.get("virtualMachinesProfile"):
            before = (((old.get("virtualMachinesProfile") or {}).get("scale") or {}).get("manual") or [{}])[0]
            size = sent.get("vmSize") or old.get("vmSize") or before.get("size") or DEFAULT_VM_SIZE
            count = sent.get("count", old.get("count", before.get("count", 3)))
            profile["virtualMachinesProfile"] = {"scale": {"manual": [{"size": size, "count": count}]}}
        else:
            profile["virtualMachinesProfile"] = copy.deepcopy(old["virtualMachinesProfile"])
    if old.get("virtualMachineNodesStatus"):
        profile["virtualMachineNodesStatus"] = copy.deepcopy(old["virtualMachineNodesStatus"])
    return mode


def pool_shape(profile: dict, mode: str) -> None:
    """After the defaults: what a VirtualMachines, managed system or Machines pool does not answer."""
    if mode == "machines":
        for key in [k for k in profile if k not in _MACHINES_POOL_KEYS]:
            del profile[key]
        return
    if profile.get("type") != "VirtualMachines":
        return
    for key in _MANAGED_SYSTEM_LEFT_OUT if mode == "managedsystem" else _VM_SCALE_FIELDS:
        profile.pop(key, None)
    if mode == "managedsystem":
        profile["osDiskType"] = "Ephemeral"


def pool_built(profile: dict) -> None:
    """Once the pool's operation has succeeded: a managed system pool's size, and the nodes a VM pool runs."""
    if profile.get("type") != "VirtualMachines" or str(profile.get("mode")).lower() == "machines":
        return
    if str(profile.get("mode")).lower() == "managedsystem":
        profile.setdefault("virtualMachinesProfile", {"scale": {"manual": copy.deepcopy(_MANAGED_SYSTEM_SCALE)}})
    manual = ((profile.get("virtualMachinesProfile") or {}).get("scale") or {}).get("manual")
    if manual:
        profile["virtualMachineNodesStatus"] = [{"size": m.get("size"), "count": m.get("count")} for m in manual]


def scale_of(profile: dict):
    """What a scale changes: the count, or a VirtualMachines pool's sizes and counts."""
    if profile.get("type") == "VirtualMachines":
        return ((profile.get("virtualMachinesProfile") or {}).get("scale") or {}).get("manual")
    return profile.get("count")


def node_count(profile: dict) -> int:
    """The nodes a pool runs: its count, or a VirtualMachines pool's sizes' counts once built."""
    if profile.get("type") == "VirtualMachines":
        return sum(int(m.get("count") or 0) for m in profile.get("virtualMachineNodesStatus") or [])
    return int(profile.get("count") or 0)


def automatic(properties: dict) -> None:
    """A new AKS Automatic cluster: the features it turns on, and its System pools'."""
    fill(properties, _AUTOMATIC)
    for profile in properties.get("agentPoolProfiles") or []:
        if str(profile.get("mode") or "System").lower() == "system":
            fill(profile, _AUTOMATIC_SYSTEM_POOL)
            if not profile.get("nodeTaints"):
                profile["nodeTaints"] = [AUTOMATIC_SYSTEM_TAINT]
            security = profile["securityProfile"] = dict(profile.get("securityProfile") or {})
            security["sshAccess"] = "Disabled"


def web_app_routing(properties: dict, old_properties: dict) -> None:
    """App routing's defaults; its identity is the service's: {} until the operation has made it, kept after."""
    routing = (properties.get("ingressProfile") or {}).get("webAppRouting")
    if not isinstance(routing, dict):
        return
    fill(routing, _WEB_APP_ROUTING)
    old = ((old_properties.get("ingressProfile") or {}).get("webAppRouting") or {}).get("identity")
    routing["identity"] = copy.deepcopy(old) if old else {}


def _drop(properties: dict, path, only_empty: bool) -> None:
    holder = paths.parent(properties, path)
    if holder is not None and path[-1] in holder and (not only_empty or holder[path[-1]] in ([], {})):
        del holder[path[-1]]


def cluster(properties: dict, identity: Optional[dict]) -> dict:
    fill(properties, _CLUSTER)
    for path in _FALSE_LEFT_OUT_OF_CLUSTERS:
        if paths.get(properties, path) is False:
            _drop(properties, path, only_empty=False)
    if properties.get("apiServerAccessProfile") == {}:
        del properties["apiServerAccessProfile"]
    for path in _EMPTY_LEFT_OUT_OF_CLUSTERS:
        _drop(properties, path, only_empty=True)
    if str(properties.get("supportPlan") or "").lower() == "akslongtermsupport":
        # Long-term support follows the patches of its minor (test_aks_create_with_premium_sku, 2024-03-29).
        properties["autoUpgradeProfile"].setdefault("upgradeChannel", "patch")
    for path in _SECRETS:
        _drop(properties, path, only_empty=False)
    balancer = (properties.get("networkProfile") or {}).get("loadBalancerProfile") or {}
    if isinstance(balancer.get("managedOutboundIPs"), dict) and balancer["managedOutboundIPs"].get("countIPv6") == 0:
        # No IPv6 outbound IPs is said by leaving the count out (test_aks_create_with_workload_identity_enabled).
        del balancer["managedOutboundIPs"]["countIPv6"]
    aad = properties.get("aadProfile")
    if isinstance(aad, dict) and aad.get("managed") and not aad.get("tenantID"):
        # Microsoft Entra integration is in the subscription's tenant (test_aks_managed_namespace, test_aks_automatic_
        # sku: tenantID filled in though the PUT sent none).
        aad["tenantID"] = WELL_KNOWN_TENANT_ID
    if isinstance(properties.get("windowsProfile"), dict):
        properties["windowsProfile"].setdefault("enableCSIProxy", True)
    oms = (properties.get("addonProfiles") or {}).get("omsagent")
    workspace = ((oms or {}).get("config") or {}).get("logAnalyticsWorkspaceResourceID") if oms else None
    if isinstance(oms, dict) and oms.get("enabled") and workspace:
        # The monitoring add-on is also answered as Container Insights (test_aks_automatic_sku, the corpus's one
        # cluster with it).
        monitor = properties["azureMonitorProfile"] = dict(properties.get("azureMonitorProfile") or {})
        monitor.setdefault("containerInsights", {"enabled": True, "logAnalyticsWorkspaceResourceId": workspace})
    if isinstance(identity, dict) and "assigned" in str(identity.get("type", "")).lower():
        # A managed-identity cluster has no service principal: the service says so with clientId "msi", and
        # clients rely on it (they read it, and leave it out of later PUTs because the service keeps it).
        properties.setdefault("servicePrincipalProfile", {"clientId": "msi"})
    return properties


def effective_outbound_ips(sub: str, properties: dict) -> None:
    """Once a cluster's operation has succeeded, the public IPs its outbound traffic leaves by: the load balancer's
    own IPs (`outboundIPs`) when the PUT named them, else the managed IP it created in the node resource group; a
    managed NAT gateway's likewise. Until then a PUT's answer shows the IPs of before (test_aks_create_and_update_
    outbound_ips: the update naming a new IP answers the old one, the next read the new one)."""
    network = properties.get("networkProfile") or {}
    balancer, gateway = network.get("loadBalancerProfile"), network.get("natGatewayProfile")
    if isinstance(balancer, dict):
        named = (balancer.get("outboundIPs") or {}).get("publicIPs")
        if named:
            balancer["effectiveOutboundIPs"] = [{"id": ip.get("id")} for ip in named if isinstance(ip, dict)]
        elif balancer.get("managedOutboundIPs"):
            balancer["effectiveOutboundIPs"] = _managed_ips(sub, properties, balancer.get("effectiveOutboundIPs"))
        elif not balancer.get("outboundIPPrefixes"):
            balancer.pop("effectiveOutboundIPs", None)
    if isinstance(gateway, dict) and gateway.get("managedOutboundIPProfile"):
        gateway["effectiveOutboundIPs"] = _managed_ips(sub, properties, gateway.get("effectiveOutboundIPs"))
    if isinstance(balancer, dict) and isinstance(gateway, dict):
        balancer.pop("effectiveOutboundIPs", None)


def _managed_ips(sub: str, properties: dict, before) -> list:
    """The managed IPs the service made in the node resource group: kept once made."""
    group = f"/subscriptions/{sub}/resourceGroups/{properties.get('nodeResourceGroup')}/"
    if before and all(str(ip.get("id", "")).startswith(group) for ip in before):
        return before
    return [{"id": f"{group}providers/Microsoft.Network/publicIPAddresses/{uuid.uuid4()}"}]
