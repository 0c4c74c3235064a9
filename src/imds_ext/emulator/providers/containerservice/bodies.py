"""From a PUT body to the stored resource: what the service validates, fills in, keeps and sets itself.

A PUT to AKS is not a blind replace: read-only fields are the service's, some fields once set are kept, and
server-generated values (FQDNs, identities, node images) survive later PUTs that omit them.
"""
from __future__ import annotations

import copy
import hashlib
import uuid
from typing import Optional

from imds_ext.emulator.conditions import new_etag
from imds_ext.emulator.constants import (
    DEFAULT_KUBERNETES_VERSION, DEFAULT_VM_SIZE, LATEST_NODE_IMAGE, LATEST_WINDOWS_NODE_IMAGE, POD_LINK_LOCAL_ACCESS,
    PREVIOUS_NODE_IMAGE, RESTRICTED, UNRESTRICTED, WELL_KNOWN_TENANT_ID,
    supports_pod_link_local_access,
)
from imds_ext.emulator import validation
from imds_ext.emulator.errors import bad_request
from imds_ext.emulator.providers.containerservice import defaults, schemas
from imds_ext.emulator.providers.containerservice.versions import KubernetesVersions
from imds_ext.emulator.providers.containerservice.records import CLUSTER_TYPE, cluster_id

CLUSTER_READONLY = ("id", "name", "type", "eTag", "systemData")
PROPS_READONLY = ("provisioningState", "powerState", "fqdn", "azurePortalFQDN", "privateFQDN",
                  "currentKubernetesVersion", "maxAgentPools", "resourceUID")
POOL_READONLY = ("provisioningState", "nodeImageVersion", "currentOrchestratorVersion", "eTag")


# ---- validation ---------------------------------------------------------------------------------
def _invalid(message: str, target):
    return bad_request("InvalidParameter", message, target=target)


def validate_cluster_name(name: str) -> None:
    validation.check_name(name, validation.CLUSTER_NAME, "managed cluster",
                          "1-63 letters, digits, '-' or '_', starting and ending with a letter or digit")


def validate_pool_name(name) -> None:
    if not isinstance(name, str) or not validation.POOL_NAME.match(name):
        raise bad_request("InvalidParameter", f"The agent pool name '{name}' is invalid: it must start with a "
                          "lowercase letter and contain only lowercase letters and numbers, 1 to 12 characters.",
                          target="agentPoolProfile.name")


def validate_cluster(body, existing: Optional[dict]) -> None:
    if not isinstance(body, dict):
        raise bad_request("InvalidParameter", "The request body must be a JSON object.")
    location = body.get("location")
    if not location:
        raise bad_request("LocationRequired", "The location property is required for this definition.",
                          target="location")
    validation.check(schemas.CLUSTER, body, _invalid)
    if existing and existing["location"].lower() != str(location).lower():
        raise bad_request("InvalidParameter", f"Changing property 'location' is not allowed (current "
                          f"'{existing['location']}', requested '{location}').", target="location")
    props = body.get("properties")
    if props is not None and not isinstance(props, dict):
        raise bad_request("InvalidParameter", "The value of parameter properties is invalid.", target="properties")
    pools = (props or {}).get("agentPoolProfiles")
    if existing is None and not pools:
        raise bad_request("InvalidParameter", "The value of parameter agentPoolProfiles is invalid: a managed "
                          "cluster needs at least one agent pool (a System pool).",
                          target="properties.agentPoolProfiles")
    if pools is not None:
        if not isinstance(pools, list) or not all(isinstance(p, dict) for p in pools):
            raise bad_request("InvalidParameter", "agentPoolProfiles must be a list of objects.",
                              target="properties.agentPoolProfiles")
        seen = set()
        for pool in pools:
            validate_pool_name(pool.get("name"))
            if pool["name"].lower() in seen:
                raise bad_request("InvalidParameter", f"Duplicate agent pool name '{pool['name']}'.",
                                  target="properties.agentPoolProfiles.name")
            seen.add(pool["name"].lower())
    value = ((props or {}).get("networkProfile") or {}).get(POD_LINK_LOCAL_ACCESS)
    if value is not None and value not in (RESTRICTED, UNRESTRICTED):
        raise bad_request("InvalidParameter", f"The value '{value}' of networkProfile.podLinkLocalAccess is "
                          f"invalid. Allowed values: '{RESTRICTED}', '{UNRESTRICTED}'.",
                          target="properties.networkProfile.podLinkLocalAccess")


def validate_pool_body(body) -> None:
    if not isinstance(body, dict) or not isinstance(body.get("properties", {}), dict):
        raise bad_request("InvalidParameter", "The request body must be a JSON object with 'properties'.")
    validation.check(schemas.POOL, body, _invalid)


def validate_tags_patch(body) -> None:
    validation.check(schemas.TAGS_PATCH, body, _invalid)


# ---- agent pools --------------------------------------------------------------------------------
def _pool_versions(pool: dict, old: Optional[dict], cluster_version: str, cluster_patch: str, seeding: bool,
                   table: KubernetesVersions):
    requested = pool.get("orchestratorVersion")
    if seeding:  # taken as given
        version = requested or cluster_version
        return version, pool.get("currentOrchestratorVersion") or (version if version.count(".") == 2
                                                                    else cluster_patch)
    if not requested:
        return (old["orchestratorVersion"], old["currentOrchestratorVersion"]) if old else (cluster_version,
                                                                                            cluster_patch)
    return table.resolve(requested, (old or {}).get("currentOrchestratorVersion"), "orchestratorVersion")


def fill_pool(pool: dict, old: Optional[dict], cluster_version: str, cluster_patch: str, state: str, seeding: bool,
              network_profile: dict, table: KubernetesVersions) -> dict:
    """The stored pool: the given fields, what the service fills in, its read-only fields, a new eTag."""
    if not seeding:
        for key in POOL_READONLY:
            pool.pop(key, None)
    pool["orchestratorVersion"], pool["currentOrchestratorVersion"] = _pool_versions(
        pool, old, cluster_version, cluster_patch, seeding, table)
    mode = defaults.pool_kind(pool, old)
    if mode == "machines":
        defaults.pool_shape(pool, mode)  # nothing of a pool's own: its machines have them
        pool.setdefault("powerState", {"code": "Running"})
        pool["provisioningState"] = state
        pool["eTag"] = new_etag()
        return pool
    for key, value in (("count", 3), ("vmSize", DEFAULT_VM_SIZE), ("type", "VirtualMachineScaleSets"),
                       ("mode", "System")):
        if pool.get(key) in (None, ""):  # a count of 0 is a count (user pools scale to zero)
            pool[key] = value
    defaults.pool(pool, network_profile)
    pool.setdefault("powerState", {"code": "Running"})
    pool["provisioningState"] = state
    if not (seeding and pool.get("nodeImageVersion")):
        # Seeded pools without an image carry an older one, so that a node-image upgrade visibly changes it.
        latest = LATEST_WINDOWS_NODE_IMAGE if pool["osType"] == "Windows" else LATEST_NODE_IMAGE
        pool["nodeImageVersion"] = (old or {}).get("nodeImageVersion") or (
            PREVIOUS_NODE_IMAGE if seeding and pool["osType"] == "Linux" else latest)
    if (mode == "managedsystem" and not (old or {}).get("nodeImageVersion") and not seeding) or \
            pool["type"] == "AvailabilitySet":
        del pool["nodeImageVersion"]  # a managed system pool's until built; an availability set's never
    defaults.pool_shape(pool, mode)
    if seeding:
        defaults.pool_built(pool)
    pool["eTag"] = new_etag()
    return pool


# ---- managed clusters ---------------------------------------------------------------------------
def _cluster_versions(props: dict, old_props: dict, seeding: bool, table: KubernetesVersions):
    requested = props.get("kubernetesVersion")
    current = old_props.get("currentKubernetesVersion")
    if seeding:
        version = requested or DEFAULT_KUBERNETES_VERSION
        return version, version if version.count(".") == 2 else table.latest_patch(version)
    if not requested and old_props:
        return old_props.get("kubernetesVersion") or current, current
    return table.resolve(requested, current)


def build_cluster(sub: str, rg: str, name: str, body: dict, api_version: str, existing: Optional[dict],
                  table: KubernetesVersions, seeding: bool = False) -> dict:
    """The stored cluster for a PUT body: every given field kept, what the service fills in, its own fields."""
    new = copy.deepcopy(body)
    for key in CLUSTER_READONLY:
        new.pop(key, None)
    props = new.setdefault("properties", {})
    old_props = existing["properties"] if existing else {}
    # A seeded server address is taken as given (a test's stand-in for a private cluster's).
    given = {k: props[k] for k in ("fqdn", "privateFQDN") if seeding and props.get(k)}
    for key in PROPS_READONLY:
        props.pop(key, None)
    props["kubernetesVersion"], props["currentKubernetesVersion"] = _cluster_versions(props, old_props, seeding,
                                                                                      table)
    state = "Succeeded" if seeding else ("Updating" if existing else "Creating")
    if props.get("servicePrincipalProfile") is None and old_props.get("servicePrincipalProfile"):
        props["servicePrincipalProfile"] = copy.deepcopy(old_props["servicePrincipalProfile"])  # the service's

    old_security = old_props.get("securityProfile")
    if isinstance(old_security, dict) and props.get("securityProfile") is None:
        props["securityProfile"] = {}
    if isinstance(old_security, dict) and isinstance(props.get("securityProfile"), dict):
        # A security feature stays as it was when a PUT leaves it out: test_aks_update_with_enable_ai_toolchain_
        # operator's updates send securityProfile {} and workload identity stays on.
        for key, value in old_security.items():
            props["securityProfile"].setdefault(key, copy.deepcopy(value))
    requested_dataplane = str((props.get("networkProfile") or {}).get("networkDataplane") or "").lower()
    if not existing and requested_dataplane == "cilium" and not props.get("windowsProfile"):
        # A create that asks for the Cilium data plane is answered a Windows profile, though it sent none (every
        # such create of the corpus: test_aks_create_with_enable_acns, test_aks_create_with_transit_encryption_type,
        # test_aks_create_node_provisioning_profile; one whose data plane the service chose has none).
        props["windowsProfile"] = {"adminUsername": "azureuser", "enableCSIProxy": True}
    if not existing and str((new.get("sku") or {}).get("name") or "").lower() == "automatic":
        defaults.automatic(props)
    availability_sets = any(isinstance(p, dict) and p.get("type") == "AvailabilitySet"
                            for p in props.get("agentPoolProfiles") or old_props.get("agentPoolProfiles") or [])
    minor = tuple(int(x) for x in props["currentKubernetesVersion"].split(".")[:2])
    if not existing and (availability_sets or minor < (1, 30)) and not (
            props.get("networkProfile") or {}).get("networkPlugin"):
        props["networkProfile"] = dict(props.get("networkProfile") or {})
        # The default plugin is kubenet before Kubernetes 1.30, Azure CNI Overlay since: on one day of 2024-09 a
        # create at 1.29 got kubenet (test_aks_create_with_app_routing_enabled), one at 1.30.3 overlay (test_aks_
        # approuting_enable_with_internal_nginx_then_disable); and kubenet on availability sets (test_aks_migrate_
        # vmas_to_vms, 1.32).
        props["networkProfile"]["networkPlugin"] = "kubenet"
    _network(props, old_props, existing is not None, api_version, seeding)
    # Agent pools: omitted on update means unchanged.
    old_pools = {p["name"].lower(): p for p in old_props.get("agentPoolProfiles", [])}
    if props.get("agentPoolProfiles") is None and existing:
        props["agentPoolProfiles"] = copy.deepcopy(old_props.get("agentPoolProfiles", []))
    for pool in props["agentPoolProfiles"]:
        fill_pool(pool, old_pools.get(pool["name"].lower()), props["kubernetesVersion"],
                  props["currentKubernetesVersion"], state, seeding, props["networkProfile"], table)
    _oidc_issuer(props, old_props, new["location"], seeding)
    sent_channel = (props.get("autoUpgradeProfile") or {}).get("nodeOSUpgradeChannel")
    defaults.cluster(props, new.get("identity"))
    if not sent_channel and ((not existing and availability_sets) or (
            existing and not (old_props.get("autoUpgradeProfile") or {}).get("nodeOSUpgradeChannel"))):
        # No node OS channel for availability sets, and none added to a cluster that had none
        # (test_aks_migrate_vmas_to_vms #2, #23).
        props["autoUpgradeProfile"].pop("nodeOSUpgradeChannel", None)
    defaults.web_app_routing(props, old_props)
    if new.get("sku") is None:
        new["sku"] = (existing or {}).get("sku") or {"name": "Base", "tier": "Free"}
    if new.get("kind") is None:
        # The cluster's kind is "Base" unless the PUT says otherwise (test_aks_create_with_premium_sku, 2024-03-29,
        # sent none), and a PUT that leaves it out keeps it (test_aks_automatic_sku's GA PUT stays "Automatic").
        new["kind"] = (existing or {}).get("kind") or "Base"
    _server_set(props, old_props, sub, rg, name, new["location"], state)
    if existing and not seeding:
        _operation_states(props, old_props, old_pools)
    props.update(given)
    _identities(new, props, existing, old_props)
    _addon_identities(props, old_props)
    _application_gateway(props, sub)
    head = {"id": cluster_id(sub, rg, existing["name"] if existing else name), "location": new["location"],
            "name": existing["name"] if existing else name, "type": CLUSTER_TYPE}
    new = {**head, **{k: v for k, v in new.items() if k not in head}}
    if seeding:  # a seeded cluster is built already
        kubelet_identity(new, sub)
        user_assigned_identities(new)
        private_link_ids(new)
        addon_identities(new, sub)
        web_app_routing_identity(new, sub)
    new["eTag"] = new_etag()
    return new


def _network(props: dict, old_props: dict, exists: bool, api_version: str, seeding: bool) -> None:
    """The network profile, and podLinkLocalAccess: only a preview api-version that has the field may change it."""
    old_network = old_props.get("networkProfile") or {}
    network = props.get("networkProfile")
    if not isinstance(network, dict) or not network:
        network = copy.deepcopy(old_network) if exists else {}
    elif exists and not network.get("networkPlugin") and old_network.get("networkPlugin"):
        network.setdefault("networkPlugin", old_network["networkPlugin"])
        if old_network.get("networkPluginMode"):
            network.setdefault("networkPluginMode", old_network["networkPluginMode"])
    props["networkProfile"] = defaults.network(network)
    # The load balancer's (NAT gateway's) public IPs are the service's: a PUT that leaves them out keeps them, and
    # its answer shows them until the operation has made the new ones (defaults.effective_outbound_ips).
    for name in ("loadBalancerProfile", "natGatewayProfile"):
        old_effective = (old_network.get(name) or {}).get("effectiveOutboundIPs")
        profile = network.get(name)
        if old_effective and isinstance(profile, dict) and not profile.get("effectiveOutboundIPs"):
            profile["effectiveOutboundIPs"] = copy.deepcopy(old_effective)
    old_value = old_network.get(POD_LINK_LOCAL_ACCESS, UNRESTRICTED)
    requested = network.pop(POD_LINK_LOCAL_ACCESS, None)
    if requested is not None and (seeding or supports_pod_link_local_access(api_version)):
        network[POD_LINK_LOCAL_ACCESS] = requested
    else:
        network[POD_LINK_LOCAL_ACCESS] = old_value


def _oidc_issuer(props: dict, old_props: dict, location: str, seeding: bool) -> None:
    """Once on, the OIDC issuer stays on; its URL is the service's."""
    oidc = props.get("oidcIssuerProfile")
    old_oidc = old_props.get("oidcIssuerProfile") or {}
    if old_oidc.get("enabled") is True:
        if isinstance(oidc, dict) and oidc.get("enabled") is False and not seeding:
            raise bad_request("OIDCIssuerFeatureCannotBeDisabled",
                              "OIDC issuer feature cannot be disabled once it has been enabled.",
                              target="properties.oidcIssuerProfile.enabled")
        oidc = props["oidcIssuerProfile"] = dict(oidc or {}, enabled=True)
    if isinstance(oidc, dict):
        oidc.pop("issuerURL", None)
        if oidc.get("enabled") is True:
            oidc["issuerURL"] = old_oidc.get("issuerURL") or (
                f"https://{location}.oic.prod-aks.azure.com/{WELL_KNOWN_TENANT_ID}/{uuid.uuid4()}/")


def _operation_states(props: dict, old_props: dict, old_pools: dict) -> None:
    """What a cluster update is answered while it runs, by what it changes. A new Kubernetes version: the cluster
    and the pools it moves to a new version are `Upgrading` (test_aks_upgrade_nodepool, `az aks upgrade`,
    2023-06-25); else a new node count: the cluster and the pools whose count changes are `Scaling`
    (test_aks_automatic_sku, `az aks scale`, 2025-08-26: the newest; in 2023 test_aks_create_with_custom_headers
    was answered `Updating`). Any other change, and the pools it leaves as they were, `Updating`. A PUT that both
    upgrades and scales, in no recording, is answered `Upgrading`, the emulator's choice."""
    upgraded = [p for p in props["agentPoolProfiles"] if (old_pools.get(p["name"].lower()) or {}).get(
        "currentOrchestratorVersion", p["currentOrchestratorVersion"]) != p["currentOrchestratorVersion"]]
    # A scale changes a pool's count (a VirtualMachines pool's sizes); a change of type is no scale (test_aks_
    # migrate_vmas_to_vms: an availability set migrated to VirtualMachines, same nodes, is answered Updating).
    scaled = [p for p in props["agentPoolProfiles"] if p["name"].lower() in old_pools and
              old_pools[p["name"].lower()].get("type") == p.get("type") and
              defaults.scale_of(old_pools[p["name"].lower()]) != defaults.scale_of(p)]
    if props["currentKubernetesVersion"] != old_props.get("currentKubernetesVersion") or upgraded:
        state, pools = "Upgrading", upgraded
    elif scaled:
        state, pools = "Scaling", scaled
    else:
        return
    props["provisioningState"] = state
    for pool in pools:
        pool["provisioningState"] = state


def _server_set(props: dict, old_props: dict, sub: str, rg: str, name: str, location: str, state: str) -> None:
    """FQDNs, node resource group, resource UID: made once, then kept."""
    dns_prefix = props.setdefault("dnsPrefix", old_props.get("dnsPrefix") or f"{name[:10]}-{rg[:16]}-{sub[:6]}")
    # The subscription is in the hash: the same group and cluster names in two subscriptions are two servers.
    suffix = hashlib.sha256(f"{sub}/{rg}/{name}".lower().encode()).hexdigest()[:8]
    props["fqdn"] = old_props.get("fqdn") or f"{dns_prefix}-{suffix}.hcp.{location}.azmk8s.io"
    props["azurePortalFQDN"] = old_props.get("azurePortalFQDN") or (
        f"{dns_prefix}-{suffix}.portal.hcp.{location}.azmk8s.io")
    access = props.get("apiServerAccessProfile")
    if isinstance(access, dict) and access.get("enablePrivateCluster"):
        _private_cluster(props, old_props, access, f"{dns_prefix}-{suffix}", location, sub)
    else:
        props.pop("privateFQDN", None)
        props.pop("privateLinkResources", None)
    props["nodeResourceGroup"] = old_props.get("nodeResourceGroup") or props.get("nodeResourceGroup") or (
        f"MC_{rg}_{name}_{location}")
    props["provisioningState"] = state
    props["powerState"] = {"code": "Running"}
    # A cluster on availability sets has its one pool (test_aks_migrate_vmas_to_vms: 1, then 100 once migrated).
    props["maxAgentPools"] = 1 if any(p.get("type") == "AvailabilitySet" for p in props["agentPoolProfiles"]) else 100
    props["resourceUID"] = old_props.get("resourceUID") or uuid.uuid4().hex[:24]


# A private cluster's API server is reached through this private link resource (test_aks_create_private_cluster_
# public_fqdn, 2024-02-01); it has an id once the cluster is built.
PRIVATE_LINK = {"name": "management", "type": "Microsoft.ContainerService/managedClusters/privateLinkResources",
                "groupId": "management", "requiredMembers": ["management"]}


def _private_cluster(props: dict, old_props: dict, access: dict, host: str, location: str, sub: str) -> None:
    """A private cluster: the system private DNS zone, a private FQDN in the privatelink zone, and a public FQDN too
    unless turned off (test_aks_create_private_cluster_public_fqdn: on by default, `fqdn` gone once off)."""
    old_access = old_props.get("apiServerAccessProfile") or {}
    if not access.get("privateDNSZone"):
        access["privateDNSZone"] = old_access.get("privateDNSZone") or "system"
    if access.get("enablePrivateClusterPublicFQDN") is None:
        access["enablePrivateClusterPublicFQDN"] = old_access.get("enablePrivateClusterPublicFQDN", True)
    props["privateFQDN"] = old_props.get("privateFQDN") or props.get("privateFQDN") or (
        f"{host}.{uuid.uuid4()}.privatelink.{location}.azmk8s.io")
    if not access["enablePrivateClusterPublicFQDN"]:
        props.pop("fqdn", None)
    link = dict(PRIVATE_LINK)
    if any(isinstance(old, dict) and old.get("id") for old in old_props.get("privateLinkResources") or ()):
        # An update of a built private cluster answers the private link service behind the resource, and not its id
        # until the update is done (test_aks_create_private_cluster_public_fqdn #20, #26); the service is the
        # service's infrastructure, named here after the cluster.
        digest = hashlib.sha256(host.encode()).hexdigest()[:32]
        link["privateLinkServiceID"] = (f"/subscriptions/{sub}/resourceGroups/hcp-underlay-{location}/providers/"
                                        f"Microsoft.Network/privateLinkServices/{digest}")
    props["privateLinkResources"] = [link]


def _application_gateway(props: dict, sub: str) -> None:
    """The Application Gateway the AGIC add-on drives: the one named, else the one it makes in the node resource
    group, named as the PUT says or `applicationgateway` (test_aks_create_with_ingress_appgw_addon, 2025-06-25: a
    subnet CIDR only; the create's first answer has it already)."""
    addon = next((v for k, v in (props.get("addonProfiles") or {}).items()
                  if k.lower() == "ingressapplicationgateway" and isinstance(v, dict) and v.get("enabled")), None)
    if addon is None:
        return
    config = addon["config"] = dict(addon.get("config") or {})
    name = config.get("applicationGatewayName") or "applicationgateway"
    config.setdefault("effectiveApplicationGatewayId", config.get("applicationGatewayId") or (
        f"/subscriptions/{sub}/resourceGroups/{props['nodeResourceGroup']}/providers/Microsoft.Network/"
        f"applicationGateways/{name}"))


def private_link_ids(resource: dict) -> None:
    """The private link resources' ids, once the cluster's operation has succeeded."""
    for link in resource["properties"].get("privateLinkResources") or []:
        link.setdefault("id", f"{resource['id']}/privateLinkResources/{link['name']}")
        link.pop("privateLinkServiceID", None)


def _identities(new: dict, props: dict, existing: Optional[dict], old_props: dict) -> None:
    """The cluster's system-assigned identity, and the kubelet identity it has already."""
    identity = new.get("identity")
    if not isinstance(identity, dict):
        return
    if str(identity.get("type", "")).lower() == "systemassigned":
        old_identity = (existing or {}).get("identity") or {}
        identity["principalId"] = old_identity.get("principalId") or str(uuid.uuid4())
        identity["tenantId"] = WELL_KNOWN_TENANT_ID
    assigned, old_assigned = identity.get("userAssignedIdentities"), ((existing or {}).get("identity") or {}).get(
        "userAssignedIdentities") or {}
    if isinstance(assigned, dict):
        # A user-assigned identity's ids are Entra's: kept when a PUT sends the identity empty, as az does (test_aks_
        # migrate_vmas_to_vms #23).
        known = {k.lower(): v for k, v in old_assigned.items() if isinstance(v, dict) and v.get("clientId")}
        for key in assigned:
            if key.lower() in known:
                assigned[key] = copy.deepcopy(known[key.lower()])
    kubelet = (old_props.get("identityProfile") or {}).get("kubeletidentity")
    if kubelet:
        profile = props.get("identityProfile")
        props["identityProfile"] = dict(profile if isinstance(profile, dict) else {})
        props["identityProfile"].setdefault("kubeletidentity", kubelet)


# The add-ons AKS gives a managed identity of their own, <add-on>-<cluster> in the node resource group, once the
# operation has built them: azureKeyvaultSecretsProvider and azurepolicy (test_aks_automatic_sku,
# test_aks_deployment_safeguards_basic), ingressApplicationGateway (test_aks_create_with_ingress_appgw_addon).
# omsagent with useAADAuth has none (test_aks_automatic_sku); the corpus has no omsagent without it.
IDENTIFIED_ADDONS = ("azurekeyvaultsecretsprovider", "azurepolicy", "ingressapplicationgateway")


def _addon_identities(props: dict, old_props: dict) -> None:
    """An add-on's identity is the service's: a PUT that leaves it out keeps it, one that sends it (read-only) has
    the operation make it anew (test_aks_automatic_sku #44 sends them, #45 reads none, #46 has them again)."""
    old_addons = old_props.get("addonProfiles") or {}
    for name, addon in (props.get("addonProfiles") or {}).items():
        if not isinstance(addon, dict):
            continue
        old = (old_addons.get(name) or {}).get("identity")
        if "identity" in addon or not addon.get("enabled") or not old:
            addon.pop("identity", None)
        else:
            addon["identity"] = copy.deepcopy(old)


def addon_identities(resource: dict, sub: str) -> None:
    """The identities of the enabled add-ons that have one, once the cluster's operation has succeeded."""
    props = resource["properties"]
    for name, addon in (props.get("addonProfiles") or {}).items():
        if isinstance(addon, dict) and addon.get("enabled") and name.lower() in IDENTIFIED_ADDONS \
                and not addon.get("identity"):
            addon["identity"] = {
                "resourceId": f"/subscriptions/{sub}/resourcegroups/{props['nodeResourceGroup']}/providers/"
                              f"Microsoft.ManagedIdentity/userAssignedIdentities/{name.lower()}-{resource['name']}",
                "clientId": str(uuid.uuid4()), "objectId": str(uuid.uuid4())}


def web_app_routing_identity(resource: dict, sub: str) -> None:
    """App routing's identity, webapprouting-<cluster> in the node resource group, once the operation has succeeded;
    none ({}) once it is turned off (test_aks_approuting_enable_with_internal_nginx_then_disable #26, #35)."""
    props = resource["properties"]
    routing = (props.get("ingressProfile") or {}).get("webAppRouting")
    if not isinstance(routing, dict):
        return
    if not routing.get("enabled"):
        routing["identity"] = {}
    elif not routing.get("identity"):
        routing["identity"] = {
            "resourceId": f"/subscriptions/{sub}/resourcegroups/{props['nodeResourceGroup']}/providers/"
                          f"Microsoft.ManagedIdentity/userAssignedIdentities/webapprouting-{resource['name']}",
            "clientId": str(uuid.uuid4()), "objectId": str(uuid.uuid4())}


def user_assigned_identities(resource: dict) -> None:
    """The client and principal ids of the cluster's user-assigned identities, which a create's first answer shows
    empty and a read once built shows filled (test_aks_migrate_vmas_to_vms #2, #21)."""
    assigned = (resource.get("identity") or {}).get("userAssignedIdentities")
    for key, value in (assigned or {}).items() if isinstance(assigned, dict) else ():
        if not isinstance(value, dict) or not value.get("clientId"):
            assigned[key] = {"clientId": str(uuid.uuid4()), "principalId": str(uuid.uuid4())}


def kubelet_identity(resource: dict, sub: str) -> None:
    """For a managed-identity cluster, the kubelet identity AKS creates in the node resource group once it has
    built the cluster (az's own `aks update` reads it). A create's first answer has none: every create of the
    corpus (test_aks_create_with_transit_encryption_type, test_aks_nodepool_add_with_ossku_flatcar, ...) shows
    identityProfile only once the operation has succeeded."""
    identity, props = resource.get("identity"), resource["properties"]
    if not isinstance(identity, dict) or "assigned" not in str(identity.get("type", "")).lower():
        return
    profile = props.get("identityProfile")
    props["identityProfile"] = dict(profile if isinstance(profile, dict) else {})
    props["identityProfile"].setdefault("kubeletidentity", {
        "resourceId": f"/subscriptions/{sub}/resourcegroups/{props['nodeResourceGroup']}/providers/"
                      f"Microsoft.ManagedIdentity/userAssignedIdentities/{resource['name']}-agentpool",
        "clientId": str(uuid.uuid4()), "objectId": str(uuid.uuid4())})
