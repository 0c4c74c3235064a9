"""The URL map, in one place: (method, path regex, handler, auth, api-version rule).

Paths match case-insensitively, as ARM does; captured names keep the caller's casing.
`auth`: "arm" (bearer token required), "none" (identity and metadata documents), "admin" (loopback only).
`api`: None (not checked) or (rule, resource type for messages); rules live in app.check_api_version.
"""
from __future__ import annotations

import re
from typing import Callable, NamedTuple, Optional, Tuple

from imds_ext.emulator import responses as r
from imds_ext.emulator.constants import ADMIN_PREFIX

SEG = r"[^/]+"
SUB = rf"/subscriptions/(?P<sub>{SEG})"
RG = rf"{SUB}/resourcegroups/(?P<rg>{SEG})"
MC = rf"{RG}/providers/Microsoft\.ContainerService/managedClusters/(?P<cluster>{SEG})"
POOL = rf"{MC}/agentPools/(?P<pool>{SEG})"
OPS = rf"{SUB}/providers/Microsoft\.ContainerService/locations/(?P<location>{SEG})"
FEAT = rf"{SUB}/providers/Microsoft\.Features"
EXT = rf"{MC}/providers/Microsoft\.KubernetesConfiguration/extensions"
TENANT = rf"/(?P<tenant>{SEG})"

ANY = ("any", None)
AKS_CLUSTERS = ("aks", "managedClusters")
AKS_POOLS = ("aks", "managedClusters/agentPools")
AKS_OPS = ("aks-operation", "locations/operations")
EXTENSIONS = ("extensions", "extensions")


class Route(NamedTuple):
    method: str
    regex: "re.Pattern"
    handler: Callable
    auth: str
    api: Optional[Tuple[str, Optional[str]]]


_TABLE = [
    # Microsoft Entra ID (what MSAL, azure-identity and az request from the authority host)
    ("GET", rf"{TENANT}/v2\.0/\.well-known/openid-configuration", r.openid_configuration_v2, "none", None),
    ("GET", rf"{TENANT}/\.well-known/openid-configuration", r.openid_configuration_v1, "none", None),
    ("POST", rf"{TENANT}/oauth2/v2\.0/token", r.token_v2, "none", None),
    ("POST", rf"{TENANT}/oauth2/token", r.token_v1, "none", None),
    ("GET", r"/common/discovery/instance", r.instance_discovery, "none", None),
    ("GET", rf"{TENANT}/discovery(?:/v2\.0)?/keys", r.jwks, "none", None),
    # cloud metadata (az cloud register)
    ("GET", r"/metadata/endpoints", r.metadata_endpoints, "none", None),
    # subscriptions and tenants (az login)
    ("GET", r"/subscriptions", r.list_subscriptions, "arm", ANY),
    ("GET", SUB, r.get_subscription, "arm", ANY),
    ("GET", r"/tenants", r.list_tenants, "arm", ANY),
    # resource groups
    ("GET", rf"{SUB}/resourcegroups", r.list_resource_groups, "arm", ANY),
    ("PUT", RG, r.put_resource_group, "arm", ANY),
    ("GET", RG, r.get_resource_group, "arm", ANY),
    ("HEAD", RG, r.head_resource_group, "arm", ANY),
    ("DELETE", RG, r.delete_resource_group, "arm", ANY),
    # Microsoft.Features
    ("GET", rf"{FEAT}/features", r.list_all_features, "arm", ANY),
    ("GET", rf"{FEAT}/providers/(?P<ns>{SEG})/features", r.list_provider_features, "arm", ANY),
    ("GET", rf"{FEAT}/providers/(?P<ns>{SEG})/features/(?P<name>{SEG})", r.get_feature, "arm", ANY),
    ("POST", rf"{FEAT}/providers/(?P<ns>{SEG})/features/(?P<name>{SEG})/(?P<action>register|unregister)",
     r.register_feature, "arm", ANY),
    # resource providers
    ("GET", rf"{SUB}/providers", r.list_providers, "arm", ANY),
    ("GET", rf"{SUB}/providers/(?P<ns>{SEG})", r.get_provider, "arm", ANY),
    ("POST", rf"{SUB}/providers/(?P<ns>{SEG})/(?P<action>register|unregister)", r.register_provider, "arm", ANY),
    # Microsoft.ContainerService
    ("GET", rf"{SUB}/providers/Microsoft\.ContainerService/managedClusters", r.list_clusters, "arm", AKS_CLUSTERS),
    ("GET", rf"{RG}/providers/Microsoft\.ContainerService/managedClusters", r.list_clusters_in_group, "arm",
     AKS_CLUSTERS),
    ("GET", MC, r.get_cluster, "arm", AKS_CLUSTERS),
    ("PUT", MC, r.put_cluster, "arm", AKS_CLUSTERS),
    ("DELETE", MC, r.delete_cluster, "arm", AKS_CLUSTERS),
    ("GET", rf"{MC}/agentPools", r.list_pools, "arm", AKS_POOLS),
    ("GET", POOL, r.get_pool, "arm", AKS_POOLS),
    ("PUT", POOL, r.put_pool, "arm", AKS_POOLS),
    ("DELETE", POOL, r.delete_pool, "arm", AKS_POOLS),
    ("POST", rf"{POOL}/upgradeNodeImageVersion", r.upgrade_node_image, "arm", AKS_POOLS),
    ("GET", rf"{OPS}/operations/(?P<op_id>{SEG})", r.operation_status, "arm", AKS_OPS),
    ("GET", rf"{OPS}/operationresults/(?P<op_id>{SEG})", r.operation_result, "arm", AKS_OPS),
    ("GET", rf"{OPS}/kubernetesVersions", r.kubernetes_versions, "arm", AKS_CLUSTERS),
    # Microsoft.KubernetesConfiguration extensions under a cluster
    ("GET", EXT, r.list_extensions, "arm", EXTENSIONS),
    ("GET", rf"{EXT}/(?P<name>{SEG})", r.get_extension, "arm", EXTENSIONS),
    ("PUT", rf"{EXT}/(?P<name>{SEG})", r.put_extension, "arm", EXTENSIONS),
    ("DELETE", rf"{EXT}/(?P<name>{SEG})", r.delete_extension, "arm", EXTENSIONS),
    # admin API
    ("POST", rf"{ADMIN_PREFIX}/reset", r.admin_reset, "admin", None),
    ("GET", rf"{ADMIN_PREFIX}/requests", r.admin_requests, "admin", None),
    ("DELETE", rf"{ADMIN_PREFIX}/requests", r.admin_clear_requests, "admin", None),
    ("POST", rf"{ADMIN_PREFIX}/seed", r.admin_seed, "admin", None),
    ("GET", rf"{ADMIN_PREFIX}/nodes/(?P<sub>{SEG})/(?P<rg>{SEG})/(?P<cluster>{SEG})", r.admin_nodes, "admin", None),
    ("GET", rf"{ADMIN_PREFIX}/config", r.admin_get_config, "admin", None),
    ("PUT", rf"{ADMIN_PREFIX}/config", r.admin_put_config, "admin", None),
    ("GET", rf"{ADMIN_PREFIX}/faults", r.admin_list_faults, "admin", None),
    ("POST", rf"{ADMIN_PREFIX}/faults", r.admin_add_fault, "admin", None),
    ("DELETE", rf"{ADMIN_PREFIX}/faults", r.admin_clear_faults, "admin", None),
    ("GET", rf"{ADMIN_PREFIX}/state", r.admin_state, "admin", None),
]

ROUTES = [Route(m, re.compile(p + "/?", re.IGNORECASE), h, a, api) for m, p, h, a, api in _TABLE]


def match(method: str, path: str):
    """(route, params) for the request, or (None, allowed_methods) when nothing matches."""
    allowed = []
    for route in ROUTES:
        m = route.regex.fullmatch(path)
        if m:
            if route.method == method.upper():
                return route, m.groupdict()
            allowed.append(route.method)
    return None, allowed
