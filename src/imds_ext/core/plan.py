"""What an enable or disable would do to a cluster, and the model patch that does it. Pure, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, MutableMapping, Optional

from imds_ext.core import constants, marker
from imds_ext.core.cluster import agent_pools, node_count, oidc_issuer_enabled, pod_link_local_access


@dataclass(frozen=True)
class PoolPlan:
    name: str
    os_type: str
    mode: str
    count: Optional[int]  # None: the cluster does not say yet (a managed system pool before it is built)
    node_image_version: Optional[str]

    @property
    def nodes(self) -> str:
        return "nodes not known yet" if self.count is None else f"{self.count} node(s)"

    def to_dict(self):
        return {"name": self.name, "osType": self.os_type, "mode": self.mode, "count": self.count,
                "nodeImageVersion": self.node_image_version}


@dataclass
class Plan:
    resource_group: str
    cluster: str
    current: str  # podLinkLocalAccess now
    desired: str
    enable_oidc_issuer: bool  # the PUT also turns the OIDC issuer on
    reimage: List[PoolPlan] = field(default_factory=list)  # pools that need a node-image upgrade
    skipped: List[PoolPlan] = field(default_factory=list)  # pools that cannot enforce it (Windows)

    @property
    def changes_cluster(self) -> bool:
        return self.current != self.desired or self.enable_oidc_issuer

    @property
    def enabling(self) -> bool:
        return self.desired == constants.RESTRICTED

    @property
    def node_count(self) -> int:
        return sum(p.count or 0 for p in self.reimage)

    def to_dict(self):
        return {
            "podLinkLocalAccess": {"current": self.current, "desired": self.desired},
            "enableOidcIssuer": self.enable_oidc_issuer,
            "changesCluster": self.changes_cluster,
            "reimage": [p.to_dict() for p in self.reimage],
            "skipped": [p.to_dict() for p in self.skipped],
        }

    def describe(self) -> str:
        state = "enabled" if self.enabling else "disabled"
        lines = [f"Cluster '{self.cluster}' in resource group '{self.resource_group}': IMDS restriction will be "
                 f"{state} (networkProfile.podLinkLocalAccess: '{self.current}' -> '{self.desired}')."]
        if self.enable_oidc_issuer:
            lines.append("The OIDC issuer will be enabled (this cannot be undone).")
        if self.reimage:
            unknown = " or more" if any(p.count is None for p in self.reimage) else ""
            lines.append(f"Then {len(self.reimage)} node pool(s), {self.node_count}{unknown} node(s), get a "
                         "node-image-only upgrade so the nodes enforce it (nodes are reimaged, workloads are "
                         "drained):")
            lines += [f"  - {p.name} ({p.os_type}, {p.mode}, {p.nodes}, image {p.node_image_version})"
                      for p in self.reimage]
        if self.skipped:
            lines.append("Not reimaged (IMDS restriction applies to Linux nodes only): "
                         + ", ".join(f"{p.name} ({p.os_type})" for p in self.skipped) + ".")
        if self.reimage:  # what else lands on the cluster, so that an owner of its tags is not surprised
            lines.append(f"imds-ext records the reimage due in the cluster tag '{marker.TAG}' (in the same update) "
                         "and removes the tag once every pool is reimaged (one more tags update of the cluster).")
        return "\n".join(lines)


def pool_plan(pool) -> PoolPlan:
    return PoolPlan(pool.get("name", "?"), pool.get("osType") or "Linux", pool.get("mode") or "User",
                    node_count(pool), pool.get("nodeImageVersion"))


def make_plan(cluster, resource_group: str, name: str, enable: bool, enable_oidc_issuer: bool = False) -> Plan:
    desired = constants.RESTRICTED if enable else constants.UNRESTRICTED
    pools = [pool_plan(p) for p in agent_pools(cluster)]
    return Plan(
        resource_group=resource_group,
        cluster=name,
        current=pod_link_local_access(cluster),
        desired=desired,
        enable_oidc_issuer=bool(enable_oidc_issuer) and not oidc_issuer_enabled(cluster),
        reimage=[p for p in pools if p.os_type.lower() == "linux"],
        skipped=[p for p in pools if p.os_type.lower() != "linux"],
    )


def apply(cluster: MutableMapping, plan: Plan, record: bool = False) -> MutableMapping:
    """Write the plan onto the cluster model in place, touching nothing else; with `record`, also the record of
    the node-image upgrade it makes due (marker.py), for an update of an existing cluster.

    Works on the SDK model (a MutableMapping over the wire JSON) so every field the SDK does not know is
    sent back exactly as it was read.
    """
    props = cluster.setdefault("properties", {})
    network = props.get("networkProfile")
    if network is None:
        network = props["networkProfile"] = {}
    network[constants.POD_LINK_LOCAL_ACCESS] = plan.desired
    if plan.enable_oidc_issuer:
        oidc = props.get("oidcIssuerProfile")
        if oidc is None:
            oidc = props["oidcIssuerProfile"] = {}
        oidc["enabled"] = True
    if record:
        cluster["tags"] = marker.with_record(cluster.get("tags"), plan.desired, [p.name for p in plan.reimage])
    return cluster
