"""Reading a managed cluster: the wire-format fields the rules, the plan and the flow look at.

A cluster here is a Mapping with the service's camelCase keys: a plain dict, or an Azure SDK model (the
SDK's models are such mappings over the JSON they were read from). Pure functions, no I/O.
"""
from __future__ import annotations

import re
from typing import List, Mapping, Optional, Tuple

from imds_ext.core import constants

# provisioningState values of a cluster or a pool while an operation runs on it (AKS REST API).
IN_PROGRESS_STATES = frozenset({"creating", "updating", "upgrading", "deleting", "scaling", "starting", "stopping",
                                "upgradingnodeimageversion", "migrating", "reconciling"})


def properties(cluster: Mapping) -> Mapping:
    return cluster.get("properties") or {}


def agent_pools(cluster: Mapping) -> List[Mapping]:
    return list(properties(cluster).get("agentPoolProfiles") or [])


def node_count(pool: Mapping) -> Optional[int]:
    """The nodes a pool runs, None when the cluster does not say. A VirtualMachines pool (a managed system pool too)
    has no `count`: its nodes are per VM size, in virtualMachineNodesStatus once built, else in
    virtualMachinesProfile.scale.manual."""
    if isinstance(pool.get("count"), int):
        return pool["count"]
    sizes = pool.get("virtualMachineNodesStatus") or \
        ((pool.get("virtualMachinesProfile") or {}).get("scale") or {}).get("manual")
    counts = [s.get("count") for s in sizes or () if isinstance(s, Mapping)]
    return sum(counts) if counts and all(isinstance(c, int) for c in counts) else None


def pool_sizes(cluster: Mapping) -> dict:
    """{pool: its node count}, for the pools whose nodes the cluster shows."""
    return {p.get("name"): node_count(p) for p in agent_pools(cluster) if node_count(p) is not None}


def oidc_issuer_enabled(cluster: Mapping) -> bool:
    return bool((properties(cluster).get("oidcIssuerProfile") or {}).get("enabled"))


def workload_identity_enabled(cluster: Mapping) -> bool:
    return bool(((properties(cluster).get("securityProfile") or {}).get("workloadIdentity") or {}).get("enabled"))


def pod_link_local_access(cluster: Mapping) -> str:
    """The IMDS setting; absent means the default, unrestricted."""
    value = (properties(cluster).get("networkProfile") or {}).get(constants.POD_LINK_LOCAL_ACCESS)
    return value or constants.UNRESTRICTED


def is_restricted(cluster: Mapping) -> bool:
    return pod_link_local_access(cluster) == constants.RESTRICTED


def provisioning_state(cluster: Mapping) -> str:
    return properties(cluster).get("provisioningState") or "Succeeded"


def is_in_progress(state: str) -> bool:
    return (state or "").lower() in IN_PROGRESS_STATES


def busy_pools(cluster: Mapping) -> List[str]:
    """Names of the pools an operation is running on."""
    return [p.get("name") for p in agent_pools(cluster) if is_in_progress(p.get("provisioningState"))]


_CLUSTER_ID = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
                         r"Microsoft\.ContainerService/managedClusters/(?P<name>[^/]+)/?$", re.IGNORECASE)


def parse_cluster_id(value: str) -> Tuple[str, str, str]:
    """(subscription, resource group, name) of a managed cluster's resource ID; ValueError otherwise."""
    match = _CLUSTER_ID.match(value.strip())
    if not match:
        raise ValueError(f"'{value}' is not the resource ID of a managed cluster (/subscriptions/<id>/resourceGroups/"
                         "<group>/providers/Microsoft.ContainerService/managedClusters/<name>)")
    return match.group("sub").lower(), match.group("rg"), match.group("name")
