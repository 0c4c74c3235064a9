"""What runs in an emulated cluster, as a real cluster would run it (docs/aks-kubernetes.md, "What a real AKS
cluster does to a probe pod"):

- the **DaemonSet controller**: one pod per eligible node (node selector, `matchFields` node affinity, taints
  tolerated, with the tolerations the controller adds itself), created through admission (admission.py); a pod it
  may not create is a `FailedCreate` event on the DaemonSet;
- the **scheduler and kubelet**: a pod does not fit on a full node (Pending, `Unschedulable`), never starts on a
  NotReady node, and an image from a registry the cluster cannot reach is never pulled (`ErrImagePull`);
- **containers**: a container whose command is `curl URL` ends with curl's exit code for what the URL's address
  does from where the pod is: IMDS times out (28) from the pod network of a node that enforces the restriction, or
  when the cluster's network policy denies the pod's egress to it (netpol.py), and answers otherwise (always from
  the host network); the cluster's API service answers unless the cluster's pods have no egress or a policy denies
  it; an image without the command fails to start (128, `StartError`); a container whose image needs more memory
  than its limit is killed (137, `OOMKilled`). Any other container runs.

The facts a test sets per cluster (`ClusterFacts`, seeded): node conditions, cordons and full nodes, nodes that are
not pool VMs, reachable registries, images' commands and memory, pod egress, the Pod Security default, a
host-network policy and the user's RBAC rules.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Callable, Dict, List, Optional
from urllib.parse import urlsplit

from imds_ext.emulator.constants import RESTRICTED
from imds_ext.emulator.providers.kubernetes import netpol
from imds_ext.emulator.records import Record

IMDS_ADDRESS = "169.254.169.254"
API_SERVICE_ADDRESS = "10.0.0.1"  # the `kubernetes` Service's cluster IP in AKS's default service CIDR
API_SERVICE_PORT = "443"
CURL_OK, CURL_TIMEOUT, START_ERROR, OOM_KILLED = 0, 28, 128, 137
UNREACHABLE_REGISTRIES = ("registry.invalid",)  # never reachable (RFC 6761's .invalid)
# Tolerations the DaemonSet controller adds to every pod it creates (kubernetes.io docs, "DaemonSet": taints and
# tolerations), so that a cordoned, NotReady or pressured node still gets its pod.
DAEMONSET_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]


@dataclasses.dataclass
class ClusterFacts(Record):
    """What a test says of a cluster's Kubernetes side (docs/emulator.md, the seed's `kubernetes[].facts`)."""
    cluster: str
    nodes: Dict[str, dict] = dataclasses.field(default_factory=dict)  # name -> {ready, unschedulable, full}
    extra_nodes: List[dict] = dataclasses.field(default_factory=list)  # [{name, kind: autoprovisioned|virtual}]
    registries: Optional[List[str]] = None  # reachable registries; None: every one but the unreachable ones
    images: Dict[str, dict] = dataclasses.field(default_factory=dict)  # image -> {commands, memoryMiB}
    pod_egress: bool = True
    pod_security: str = "privileged"  # the cluster-wide default Pod Security level
    user_rules: Optional[List[dict]] = None  # RBAC for the user credential; None: allowed everything
    namespace_deletion_seconds: float = 0.0  # how long a namespace stays Terminating
    deny_host_network: bool = False  # an Azure Policy (Gatekeeper) constraint against host-network pods
    container_seconds: float = 0.0  # how long a curl container runs before it exits (a benchmark's probe time)

    SEED_KEYS = {"nodes": "nodes", "extraNodes": "extra_nodes", "registries": "registries", "images": "images",
                 "podEgress": "pod_egress", "podSecurity": "pod_security", "userRules": "user_rules",
                 "namespaceDeletionSeconds": "namespace_deletion_seconds", "denyHostNetwork": "deny_host_network",
                 "containerSeconds": "container_seconds"}


def registry_of(image: str) -> str:
    first = image.split("/", 1)[0]
    return first if "/" in image and ("." in first or ":" in first or first == "localhost") else "docker.io"


def _memory_mib(quantity: str) -> Optional[float]:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?", str(quantity or ""))
    if not match:
        return None
    scale = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1e3 / 2 ** 20, "M": 1e6 / 2 ** 20, "G": 1e9 / 2 ** 20,
             None: 1 / 2 ** 20}[match.group(2)]
    return float(match.group(1)) * scale


def tolerates(tolerations: List[dict], taint: dict) -> bool:
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t["key"] == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def node_matches(spec: dict, node: dict) -> bool:
    """The pod's node selector and required node affinity (`matchExpressions` on labels, `matchFields` on
    `metadata.name`), as the scheduler reads them."""
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True

    def holds(expr: dict, value: Optional[str]) -> bool:
        op, values = expr.get("operator"), expr.get("values") or []
        return {"In": value in values, "NotIn": value not in values, "Exists": value is not None,
                "DoesNotExist": value is None}.get(op, False)
    return any(all(holds(e, labels.get(e.get("key"))) for e in term.get("matchExpressions") or [])
               and all(holds(f, node["metadata"]["name"] if f.get("key") == "metadata.name" else None)
                       for f in term.get("matchFields") or [])
               for term in terms)


def _urls(container: dict) -> List[str]:
    return re.findall(r"https?://[^\s\"']+", " ".join(str(a) for a in (container.get("command") or [])
                                                      + (container.get("args") or [])))


def run_container(container: dict, host_network: bool, node_enforces: bool, facts: ClusterFacts,
                  egress: Optional[Callable[[str, int], bool]] = None) -> dict:
    """The container's state once the kubelet has run it: `{"running": {}}` or `{"terminated": {...}}`. `egress`:
    whether the cluster's network policy lets the pod reach an address and port (None: nothing is enforced)."""
    image = container.get("image", "")
    known = facts.images.get(image) or {}
    argv = [str(a) for a in (container.get("command") or [])]
    if argv and known.get("commands") is not None and argv[0].rsplit("/", 1)[-1] not in known["commands"]:
        return {"terminated": {"exitCode": START_ERROR, "reason": "StartError", "message": (
            f'failed to create containerd task: exec: "{argv[0]}": executable file not found in $PATH')}}
    limit = _memory_mib(((container.get("resources") or {}).get("limits") or {}).get("memory"))
    if limit is not None and float(known.get("memoryMiB", 8)) > limit:
        return {"terminated": {"exitCode": OOM_KILLED, "reason": "OOMKilled"}}
    if not argv or argv[0].rsplit("/", 1)[-1] != "curl" or not _urls(container):
        return {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    url = urlsplit(_urls(container)[0])
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        port = 0
    host = url.hostname or ""
    allowed = host_network or egress is None or egress(host, port)
    if host == IMDS_ADDRESS:
        answered = host_network or (facts.pod_egress and not node_enforces and allowed)
    else:  # the API service, or any other address the pod network routes
        answered = host_network or (facts.pod_egress and allowed)
    code = CURL_OK if answered else CURL_TIMEOUT
    return {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}


def pod_name(owner: str, node: str) -> str:
    return f"{owner}-{hashlib.sha256(node.encode()).hexdigest()[:5]}"[:63]


def schedule(name: str, spec: dict, nodes: List[tuple]) -> Optional[str]:
    """The node the scheduler binds a pod created without `nodeName` to: among the `(Node, rendered)` nodes that
    are Ready, not cordoned, not full, match its node selector and affinity and whose taints it tolerates, one
    chosen by the pod's name (the pods of a namespace spread over the nodes); None when no node fits (the pod
    stays Pending)."""
    tolerations = spec.get("tolerations") or []
    fits = [node.name for node, rendered in nodes
            if node.ready and not node.fact.get("unschedulable") and not node.fact.get("full")
            and node_matches(spec, rendered)
            and all(tolerates(tolerations, t) for t in (rendered.get("spec") or {}).get("taints") or []
                    if t.get("effect") in ("NoSchedule", "NoExecute"))]
    if not fits:
        return None
    return fits[int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(fits)]


def pod_status(pod: dict, node, facts: ClusterFacts, now: float, scheduled_by_scheduler: bool = False,
               policies: Optional[netpol.Policies] = None) -> dict:
    """The status the scheduler and the kubelet give `pod` on `node` (nodes.Node; None: not scheduled): not placed on
    a full node (or, with `nodeName`, rejected by the kubelet), not started on a NotReady one, not pulled from an
    unreachable registry; else each container run (run_container), restarted with a back-off when the pod's restart
    policy is Always, still running for `facts.container_seconds` after it started. A container's connections are
    subject to the cluster's network policy (`policies`, netpol.evaluate_egress; None: none enforced)."""
    spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
    if node is None:
        return {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False"}]}
    if node.fact.get("full"):
        if scheduled_by_scheduler:  # the scheduler does not place it
            return {"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 Insufficient cpu."}]}
        # nodeName bypasses the scheduler: the kubelet rejects it
        return {"phase": "Failed", "reason": "OutOfcpu",
                "message": "Pod was rejected: Node didn't have enough resource: cpu"}
    if not node.ready:  # no kubelet to start it
        return {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]}
    containers = spec.get("containers") or []
    reachable = facts.registries
    pulled = [registry_of(c.get("image", "")) not in UNREACHABLE_REGISTRIES
              and (reachable is None or registry_of(c.get("image", "")) in reachable) for c in containers]
    if not all(pulled):
        statuses = [{"name": c.get("name"), "image": c.get("image"), "ready": False, "restartCount": 0,
                     "state": {"waiting": {"reason": "ImagePullBackOff", "message": (
                         f'Back-off pulling image "{c.get("image")}"')}} if not ok else {"waiting": {
                             "reason": "PodInitializing"}}} for c, ok in zip(containers, pulled, strict=True)]
        return {"phase": "Pending", "hostIP": "10.224.0.4", "containerStatuses": statuses,
                "conditions": kubelet_conditions(statuses, "Pending")}
    enforces = node.enforced == RESTRICTED and node.kind != "virtual"
    always = spec.get("restartPolicy", "Always") == "Always"
    started = float((meta.get("annotations") or {}).get("emulator/started-at") or 0)
    still_running = now - started < facts.container_seconds
    statuses, codes = [], []

    def egress(address: str, port: int) -> bool:
        entities = ("kube-apiserver", "world") if address == API_SERVICE_ADDRESS else ("world",)
        return netpol.evaluate_egress(policies, pod, address, port, node_os=node.os, entities=entities).allowed

    for c in containers:
        state = run_container(c, bool(spec.get("hostNetwork")), enforces, facts, egress if policies else None)
        if still_running and "terminated" in state:
            state = {"running": {"startedAt": meta.get("creationTimestamp", "")}}
        status = {"name": c.get("name"), "image": c.get("image"), "restartCount": 0, "ready": "running" in state}
        if "terminated" in state and always:  # the kubelet restarts it, with a back-off
            status.update(state={"waiting": {"reason": "CrashLoopBackOff"}}, lastState=state, restartCount=1)
        else:
            status["state"] = state
        codes.append((state.get("terminated") or {}).get("exitCode"))
        statuses.append(status)
    phase = "Running"
    if not always and all(code is not None for code in codes):
        phase = "Succeeded" if all(code == 0 for code in codes) else "Failed"
    return {"phase": phase, "hostIP": "10.224.0.4", "containerStatuses": statuses,
            "conditions": kubelet_conditions(statuses, phase)}


def kubelet_conditions(statuses: List[dict], phase: str) -> List[dict]:
    """The conditions the kubelet reports of a pod it runs, in its order (Kubernetes docs, "Pod Lifecycle: Pod
    conditions"): its sandbox made, no init containers to wait for, ContainersReady when every container is, Ready
    with them (no readiness gates here), scheduled. A finished pod is not ready (PodCompleted)."""
    unready = [s["name"] for s in statuses if not s.get("ready")]
    if phase in ("Succeeded", "Failed"):
        ready = {"status": "False", "reason": "PodCompleted"}
    elif unready:
        ready = {"status": "False", "reason": "ContainersNotReady",
                 "message": f"containers with unready status: [{' '.join(unready)}]"}
    else:
        ready = {"status": "True"}
    return [{"type": "PodReadyToStartContainers", "status": "True"}, {"type": "Initialized", "status": "True"},
            {"type": "Ready", **ready}, {"type": "ContainersReady", **ready},
            {"type": "PodScheduled", "status": "True"}]
