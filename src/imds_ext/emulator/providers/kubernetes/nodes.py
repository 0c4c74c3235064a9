"""An emulated cluster's nodes: derived from its pools (`aks-<pool>-<8 digits>-vmss<n>`, each enforcing what its
pool was last reimaged with) and from the cluster's facts (NotReady, cordoned and full nodes; nodes of node
auto-provisioning and virtual nodes), rendered as the API server shows them."""
from __future__ import annotations

import dataclasses
import hashlib
import uuid
from typing import List, Optional, Sequence, Tuple

from imds_ext.emulator.providers.containerservice.defaults import node_count
from imds_ext.emulator.providers.containerservice.records import ManagedCluster
from imds_ext.emulator.providers.containerservice.rules import pod_link_local_access as rules_setting
from imds_ext.emulator.providers.kubernetes.workloads import ClusterFacts


@dataclasses.dataclass
class Node:
    name: str
    pool: str  # "" for a node that is not a pool's VM
    enforced: str  # the podLinkLocalAccess the node enforces
    kind: str = "vm"  # vm | autoprovisioned | virtual
    fact: dict = dataclasses.field(default_factory=dict)  # ClusterFacts.nodes[name]
    os: str = "linux"  # its pool's osType, lower case: what the network policy engine on it can do

    @property
    def ready(self) -> bool:
        return self.fact.get("ready", True) is not False

    def render(self, pool: Optional[dict]) -> dict:
        pool = pool or {}
        labels = {"kubernetes.io/os": str(pool.get("osType", "Linux")).lower(), "kubernetes.io/hostname": self.name}
        taints: List[dict] = []
        if self.kind == "vm":
            labels.update({"kubernetes.azure.com/agentpool": pool["name"], "agentpool": pool["name"],
                           "kubernetes.azure.com/mode": str(pool.get("mode", "User")).lower(),
                           "kubernetes.azure.com/os-sku": pool.get("osSKU", "Ubuntu"),
                           "kubernetes.azure.com/node-image-version": pool.get("nodeImageVersion", "")})
            if pool.get("mode") == "System" and pool.get("onlyCriticalAddonsEnabled"):
                taints.append({"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"})
            taints += [_taint(t) for t in pool.get("nodeTaints") or []]
        elif self.kind == "autoprovisioned":  # node auto-provisioning (Karpenter), as in AKS Automatic
            labels.update({"karpenter.sh/nodepool": "default", "kubernetes.azure.com/mode": "user"})
        else:  # a virtual node (ACI, virtual-kubelet)
            labels.update({"type": "virtual-kubelet", "kubernetes.io/role": "agent"})
            taints.append({"key": "virtual-kubelet.io/provider", "value": "azure", "effect": "NoSchedule"})
        if "taints" in self.fact:  # as a client last wrote them (kubectl taint): in place of the pool's
            taints = [dict(t) for t in self.fact["taints"]]
        labels.update(self.fact.get("labels") or {})  # kubectl label
        for key in self.fact.get("removedLabels") or []:
            labels.pop(key, None)
        spec: dict = {}
        if self.fact.get("unschedulable"):
            spec["unschedulable"] = True
            taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
        if not self.ready:
            taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"})
        if taints:
            spec["taints"] = taints
        meta = {"name": self.name, "labels": labels, "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.name))}
        if self.fact.get("annotations"):
            meta["annotations"] = dict(self.fact["annotations"])
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": meta,
                "spec": spec,
                "status": {"conditions": [{"type": "Ready", "status": "True" if self.ready else "Unknown",
                                           "reason": "KubeletReady" if self.ready else "NodeStatusUnknown"}],
                           "nodeInfo": {"kubeletVersion": f"v{pool.get('currentOrchestratorVersion', '')}"}}}


def _taint(text: str) -> dict:
    key_value, _, effect = text.partition(":")
    key, _, value = key_value.partition("=")
    return {"key": key, "value": value, "effect": effect or "NoSchedule"}


def derive_nodes(rec: ManagedCluster, upgrades: Sequence, facts: ClusterFacts,
                 now: float) -> List[Tuple[Node, Optional[dict]]]:
    """The nodes of every pool, then the nodes that are no pool's. During a pool's node-image upgrade (`upgrades`:
    the pools' operations running) its nodes are reimaged one after another over the operation's time: the first
    ones already enforce the cluster's current setting."""
    upgrading = {op.child.lower(): op for op in upgrades if op.child}
    setting = rules_setting(rec.resource)
    out: List[Tuple[Node, Optional[dict]]] = []
    for pool in rec.pools:
        digits = int(hashlib.sha256(f"{rec.resource['id']}/{pool['name']}".encode()).hexdigest(), 16) % 10 ** 8
        count = node_count(pool)
        before = rec.enforced.get(pool["name"].lower(), "IMDS")
        op = upgrading.get(pool["name"].lower())
        done = 0
        if op is not None and op.due > op.start:
            done = int(count * min(1.0, max(0.0, (now - op.start) / (op.due - op.start))))
        for index in range(count):
            name = f"aks-{pool['name']}-{digits:08d}-vmss{index:06d}"
            out.append((Node(name, pool["name"], setting if index < done else before,
                             fact=facts.nodes.get(name, {}), os=str(pool.get("osType") or "Linux").lower()), pool))
    for extra in facts.extra_nodes:  # provisioned with the cluster's current setting
        out.append((Node(extra["name"], "", setting, kind=extra.get("kind", "autoprovisioned"),
                         fact=facts.nodes.get(extra["name"], {})), None))
    return out


# What the node controller adds itself, never a client's: left out of the taints a client's change keeps.
AUTOMATIC_TAINTS = {"node.kubernetes.io/unschedulable", "node.kubernetes.io/not-ready"}


def edits(before: dict, after: dict, name: str) -> dict:
    """What a client's change of node `before` to `after` keeps (a cordon, labels, annotations, taints), as the
    node's facts; a change to anything else is refused (405): the node is the pool's VM."""
    def rest(node: dict) -> dict:
        meta = {k: v for k, v in (node.get("metadata") or {}).items()
                if k not in ("labels", "annotations", "managedFields", "resourceVersion")}
        spec = {k: v for k, v in (node.get("spec") or {}).items() if k not in ("unschedulable", "taints")}
        return {**{k: v for k, v in node.items() if k not in ("metadata", "spec", "status")}, "metadata": meta,
                "spec": spec}
    if rest(before) != rest(after):
        raise ValueError(f'nodes "{name}" keeps changes to its labels, annotations, taints and unschedulable only: '
                         "the rest is derived by the emulator from its node pool")
    def own_taints(node: dict) -> List[dict]:
        return [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("key") not in AUTOMATIC_TAINTS]

    was, now = (before.get("metadata") or {}).get("labels") or {}, (after.get("metadata") or {}).get("labels") or {}
    # Only what the client changed, so that what the pool sets later (a new node image) still shows.
    kept = {"labels": {k: v for k, v in now.items() if was.get(k) != v},
            "removedLabels": sorted(set(was) - set(now)),
            "annotations": dict((after.get("metadata") or {}).get("annotations") or {}),
            "unschedulable": bool((after.get("spec") or {}).get("unschedulable"))}
    if own_taints(after) != own_taints(before):
        kept["taints"] = own_taints(after)
    return kept
