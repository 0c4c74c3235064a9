"""The URL map, in one place: (method, path regex, handler, auth, api-version rule).

Paths match case-insensitively, as ARM does; captured names keep the caller's casing. The admin API is not ARM:
its paths match exactly (`/_EMULATOR/state` is not it), and only its calls stay out of the request log (is_admin).
`auth`: "arm" (bearer token required), "none" (identity and metadata documents), "admin" (loopback only),
"kube" (a cluster's Kubernetes API: its handler checks the cluster's own tokens).
`api`: None (not checked) or (rule, resource type for messages); rules live in app.check_api_version.
"""
from __future__ import annotations

import re
from typing import Callable, NamedTuple, Optional, Tuple

from imds_ext.emulator.constants import ADMIN_PREFIX
from imds_ext.emulator.responses import (
    admin, containerservice as aks, features, identity, kubernetes_clients, kubernetesconfiguration as k8sconfig,
    resources,
)

SEG = r"[^/]+"
SUB = rf"/subscriptions/(?P<sub>{SEG})"
RG = rf"{SUB}/resourcegroups/(?P<rg>{SEG})"
MC = rf"{RG}/providers/Microsoft\.ContainerService/managedClusters/(?P<cluster>{SEG})"
POOL = rf"{MC}/agentPools/(?P<pool>{SEG})"
NAMESPACE = rf"{MC}/managedNamespaces/(?P<namespace>{SEG})"
SAFEGUARDS = rf"{MC}/providers/Microsoft\.ContainerService/deploymentSafeguards"
OPS = rf"{SUB}/providers/Microsoft\.ContainerService/locations/(?P<location>{SEG})"
FEAT = rf"{SUB}/providers/Microsoft\.Features"
EXT = rf"{MC}/providers/Microsoft\.KubernetesConfiguration/extensions"
TENANT = rf"/(?P<tenant>{SEG})"
KUBE = rf"/kubernetes/(?P<sub>{SEG})/(?P<rg>{SEG})/(?P<cluster>{SEG})"

ANY = ("any", None)
AKS_CLUSTERS = ("aks", "managedClusters")
AKS_POOLS = ("aks", "managedClusters/agentPools")
AKS_OPS = ("aks-operation", "locations/operations")
AKS_SAFEGUARDS = ("aks", "deploymentSafeguards")
AKS_NAMESPACES = ("aks-namespaces", "managedClusters/managedNamespaces")
EXTENSIONS = ("extensions", "extensions")


class Route(NamedTuple):
    method: str
    regex: "re.Pattern"
    handler: Callable
    auth: str
    api: Optional[Tuple[str, Optional[str]]]


_TABLE = [
    # Microsoft Entra ID (what MSAL, azure-identity and az request from the authority host)
    ("GET", rf"{TENANT}/v2\.0/\.well-known/openid-configuration", identity.openid_configuration_v2, "none", None),
    ("GET", rf"{TENANT}/\.well-known/openid-configuration", identity.openid_configuration_v1, "none", None),
    ("POST", rf"{TENANT}/oauth2/v2\.0/token", identity.token_v2, "none", None),
    ("POST", rf"{TENANT}/oauth2/token", identity.token_v1, "none", None),
    ("GET", r"/common/discovery/instance", identity.instance_discovery, "none", None),
    ("GET", rf"{TENANT}/discovery(?:/v2\.0)?/keys", identity.jwks, "none", None),
    # cloud metadata (az cloud register)
    ("GET", r"/metadata/endpoints", identity.metadata_endpoints, "none", None),
    # subscriptions and tenants (az login)
    ("GET", r"/subscriptions", resources.list_subscriptions, "arm", ANY),
    ("GET", SUB, resources.get_subscription, "arm", ANY),
    ("GET", r"/tenants", resources.list_tenants, "arm", ANY),
    # resource groups
    ("GET", rf"{SUB}/resourcegroups", resources.list_resource_groups, "arm", ANY),
    ("PUT", RG, resources.put_resource_group, "arm", ANY),
    ("GET", RG, resources.get_resource_group, "arm", ANY),
    ("HEAD", RG, resources.head_resource_group, "arm", ANY),
    ("DELETE", RG, resources.delete_resource_group, "arm", ANY),
    # the generic resource list (az resource list; az aks namespace list without a cluster)
    ("GET", rf"{SUB}/resources", resources.list_resources, "arm", ANY),
    ("GET", rf"{RG}/resources", resources.list_resources, "arm", ANY),
    # Microsoft.Features
    ("GET", rf"{FEAT}/features", features.list_all_features, "arm", ANY),
    ("GET", rf"{FEAT}/providers/(?P<ns>{SEG})/features", features.list_provider_features, "arm", ANY),
    ("GET", rf"{FEAT}/providers/(?P<ns>{SEG})/features/(?P<name>{SEG})", features.get_feature, "arm", ANY),
    ("POST", rf"{FEAT}/providers/(?P<ns>{SEG})/features/(?P<name>{SEG})/(?P<action>register|unregister)",
     features.register_feature, "arm", ANY),
    # resource providers
    ("GET", rf"{SUB}/providers", features.list_providers, "arm", ANY),
    ("GET", rf"{SUB}/providers/(?P<ns>{SEG})", features.get_provider, "arm", ANY),
    ("POST", rf"{SUB}/providers/(?P<ns>{SEG})/(?P<action>register|unregister)", features.register_provider, "arm", ANY),
    # Microsoft.ContainerService
    ("GET", rf"{SUB}/providers/Microsoft\.ContainerService/managedClusters", aks.list_clusters, "arm", AKS_CLUSTERS),
    ("GET", rf"{RG}/providers/Microsoft\.ContainerService/managedClusters", aks.list_clusters_in_group, "arm",
     AKS_CLUSTERS),
    ("GET", MC, aks.get_cluster, "arm", AKS_CLUSTERS),
    ("PUT", MC, aks.put_cluster, "arm", AKS_CLUSTERS),
    ("PATCH", MC, aks.patch_cluster_tags, "arm", AKS_CLUSTERS),
    ("DELETE", MC, aks.delete_cluster, "arm", AKS_CLUSTERS),
    ("GET", rf"{MC}/agentPools", aks.list_pools, "arm", AKS_POOLS),
    ("GET", POOL, aks.get_pool, "arm", AKS_POOLS),
    ("PUT", POOL, aks.put_pool, "arm", AKS_POOLS),
    ("DELETE", POOL, aks.delete_pool, "arm", AKS_POOLS),
    ("POST", rf"{POOL}/upgradeNodeImageVersion", aks.upgrade_node_image, "arm", AKS_POOLS),
    ("POST", rf"{MC}/abort", aks.abort_cluster, "arm", AKS_CLUSTERS),
    ("POST", rf"{POOL}/abort", aks.abort_pool, "arm", AKS_POOLS),
    ("GET", rf"{MC}/upgradeProfiles/default", aks.cluster_upgrade_profile, "arm", AKS_CLUSTERS),
    ("POST", rf"{MC}/listClusterUserCredential", aks.list_user_credentials, "arm", AKS_CLUSTERS),
    ("GET", rf"{MC}/operations/(?P<op_id>{SEG})", aks.cluster_operation, "arm", AKS_CLUSTERS),
    ("POST", rf"{MC}/listClusterAdminCredential", aks.list_admin_credentials, "arm", AKS_CLUSTERS),
    ("GET", rf"{POOL}/upgradeProfiles/default", aks.pool_upgrade_profile, "arm", AKS_POOLS),
    ("GET", SAFEGUARDS, aks.list_safeguards, "arm", AKS_SAFEGUARDS),
    ("GET", rf"{SAFEGUARDS}/default", aks.get_safeguards, "arm", AKS_SAFEGUARDS),
    ("PUT", rf"{SAFEGUARDS}/default", aks.put_safeguards, "arm", AKS_SAFEGUARDS),
    ("DELETE", rf"{SAFEGUARDS}/default", aks.delete_safeguards, "arm", AKS_SAFEGUARDS),
    ("GET", rf"{MC}/managedNamespaces", aks.list_namespaces, "arm", AKS_NAMESPACES),
    ("GET", NAMESPACE, aks.get_namespace, "arm", AKS_NAMESPACES),
    ("PUT", NAMESPACE, aks.put_namespace, "arm", AKS_NAMESPACES),
    ("DELETE", NAMESPACE, aks.delete_namespace, "arm", AKS_NAMESPACES),
    ("POST", rf"{NAMESPACE}/listCredential", aks.list_namespace_credential, "arm", AKS_NAMESPACES),
    ("GET", rf"{OPS}/operations/(?P<op_id>{SEG})", aks.operation_status, "arm", AKS_OPS),
    ("GET", rf"{OPS}/operationresults/(?P<op_id>{SEG})", aks.operation_result, "arm", AKS_OPS),
    ("GET", rf"{OPS}/kubernetesVersions", aks.kubernetes_versions, "arm", AKS_CLUSTERS),
    # Microsoft.KubernetesConfiguration extensions under a cluster
    ("GET", EXT, k8sconfig.list_extensions, "arm", EXTENSIONS),
    ("GET", rf"{EXT}/(?P<name>{SEG})", k8sconfig.get_extension, "arm", EXTENSIONS),
    ("PUT", rf"{EXT}/(?P<name>{SEG})", k8sconfig.put_extension, "arm", EXTENSIONS),
    ("DELETE", rf"{EXT}/(?P<name>{SEG})", k8sconfig.delete_extension, "arm", EXTENSIONS),
    # the Kubernetes API of each cluster (the server of the kubeconfigs the credential endpoints answer with)
    *[(method, rf"{KUBE}(?P<path>/.*)?", kubernetes_clients.serve, "kube", None)
      for method in ("GET", "POST", "PUT", "PATCH", "DELETE")],
    # the same at the root, for clients that drop the server's path (kubectl get --raw): by the token's cluster
    *[(method, r"/(?P<path>(api|apis|openapi|version|healthz|livez|readyz)(/.*)?)", kubernetes_clients.serve_at_root,
       "kube", None) for method in ("GET", "POST", "PUT", "PATCH", "DELETE")],
    # admin API
    ("POST", rf"{ADMIN_PREFIX}/reset", admin.reset, "admin", None),
    ("GET", rf"{ADMIN_PREFIX}/requests", admin.list_requests, "admin", None),
    ("DELETE", rf"{ADMIN_PREFIX}/requests", admin.clear_requests, "admin", None),
    ("POST", rf"{ADMIN_PREFIX}/seed", admin.seed, "admin", None),
    ("GET", rf"{ADMIN_PREFIX}/nodes/(?P<sub>{SEG})/(?P<rg>{SEG})/(?P<cluster>{SEG})", admin.nodes, "admin", None),
    ("GET", rf"{ADMIN_PREFIX}/config", admin.get_config, "admin", None),
    ("PUT", rf"{ADMIN_PREFIX}/config", admin.put_config, "admin", None),
    ("GET", rf"{ADMIN_PREFIX}/faults", admin.list_faults, "admin", None),
    ("POST", rf"{ADMIN_PREFIX}/faults", admin.add_fault, "admin", None),
    ("DELETE", rf"{ADMIN_PREFIX}/faults", admin.clear_faults, "admin", None),
    ("GET", rf"{ADMIN_PREFIX}/state", admin.get_state, "admin", None),
]

ROUTES = [Route(m, re.compile(p + "/?", 0 if a == "admin" else re.IGNORECASE), h, a, api)
          for m, p, h, a, api in _TABLE]


def is_admin(path: str) -> bool:
    """Whether `path` is under the admin API, exactly as its routes match it."""
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


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
