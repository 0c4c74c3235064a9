"""Server-side printing (Kubernetes API concepts, "Receiving resources as Tables"): the `meta.k8s.io` Table that
kubectl asks for (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) and prints as it comes, with the
columns the API server's printers give each kind (kubernetes/pkg/printers/internalversion); priority-1 columns are
what `-o wide` adds. Other kinds get the generic columns (Name, Created At), as the API server's default table.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional, Tuple

NONE = "<none>"


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration, as the printers render an age."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _since(timestamp: Optional[str], now: float) -> str:
    if not timestamp:
        return "<unknown>"
    then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    return human_duration(now - then)


def _containers(template_spec: dict) -> Tuple[str, str]:
    containers = template_spec.get("containers") or []
    return (",".join(c.get("name", "") for c in containers) or NONE,
            ",".join(c.get("image", "") for c in containers) or NONE)


def _selector(selector: Optional[dict]) -> str:
    if not selector:
        return NONE
    labels = selector.get("matchLabels", selector) if isinstance(selector, dict) else {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if isinstance(v, str)) or NONE


# ---- rows, per kind ----------------------------------------------------------------------------
def _pod(o: dict, now: float) -> list:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    statuses = status.get("containerStatuses") or []
    reason = status.get("reason") or status.get("phase") or "Pending"
    running = False
    for cs in reversed(statuses):
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            done = state["terminated"]
            reason = done.get("reason") or f"ExitCode:{done.get('exitCode')}"
        elif "running" in state and cs.get("ready"):
            running = True
    if reason == "Completed" and running:
        reason = "Running"
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    ready = sum(1 for cs in statuses if cs.get("ready"))
    restarts = sum(int(cs.get("restartCount") or 0) for cs in statuses)
    return [f"{ready}/{len(spec.get('containers') or [])}", reason, restarts,
            _since(o["metadata"].get("creationTimestamp"), now),
            status.get("podIP") or NONE, spec.get("nodeName") or NONE, status.get("nominatedNodeName") or NONE,
            NONE]


def _node(o: dict, now: float) -> list:
    status, labels = o.get("status") or {}, o["metadata"].get("labels") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = "Unknown" if ready is None else ("Ready" if ready.get("status") == "True" else "NotReady")
    if (o.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    roles = sorted({k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")}
                   | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set()))
    info = status.get("nodeInfo") or {}
    internal = [a["address"] for a in status.get("addresses") or [] if a.get("type") == "InternalIP"]
    external = [a["address"] for a in status.get("addresses") or [] if a.get("type") == "ExternalIP"]
    return [state, ",".join(roles) or NONE, _since(o["metadata"].get("creationTimestamp"), now),
            info.get("kubeletVersion", ""), ",".join(internal) or NONE, ",".join(external) or NONE,
            info.get("osImage", ""), info.get("kernelVersion", ""), info.get("containerRuntimeVersion", "")]


def _workload(o: dict) -> Tuple[dict, dict, Tuple[str, str]]:
    spec = o.get("spec") or {}
    template = ((spec.get("jobTemplate") or {}).get("spec") or spec).get("template") or {}
    return spec, o.get("status") or {}, _containers(template.get("spec") or {})


def _deployment(o: dict, now: float) -> list:
    spec, status, (names, images) = _workload(o)
    return [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", status.get("updatedReplicas", 0),
            status.get("availableReplicas", 0), _since(o["metadata"].get("creationTimestamp"), now), names, images,
            _selector(spec.get("selector"))]


def _daemonset(o: dict, now: float) -> list:
    spec, status, (names, images) = _workload(o)
    node_selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector")
    return [status.get("desiredNumberScheduled", 0), status.get("currentNumberScheduled", 0),
            status.get("numberReady", 0), status.get("updatedNumberScheduled", 0),
            status.get("numberAvailable", 0), _selector(node_selector),
            _since(o["metadata"].get("creationTimestamp"), now), names, images, _selector(spec.get("selector"))]


def _statefulset(o: dict, now: float) -> list:
    spec, status, (names, images) = _workload(o)
    return [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            _since(o["metadata"].get("creationTimestamp"), now), names, images]


def _replicaset(o: dict, now: float) -> list:
    spec, status, (names, images) = _workload(o)
    return [spec.get("replicas", 1), status.get("replicas", 0), status.get("readyReplicas", 0),
            _since(o["metadata"].get("creationTimestamp"), now), names, images, _selector(spec.get("selector"))]


def _job(o: dict, now: float) -> list:
    spec, status, (names, images) = _workload(o)
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    state = "Complete" if conditions.get("Complete") == "True" else (
        "Failed" if conditions.get("Failed") == "True" else "Running")
    return [state, f"{status.get('succeeded', 0)}/{spec.get('completions', 1)}", NONE,
            _since(o["metadata"].get("creationTimestamp"), now), names, images, _selector(spec.get("selector"))]


def _cronjob(o: dict, now: float) -> list:
    spec, status, (names, images) = _workload(o)
    return [spec.get("schedule", ""), spec.get("timeZone") or NONE, str(bool(spec.get("suspend"))),
            len(status.get("active") or []), _since(status.get("lastScheduleTime"), now) if status.get(
                "lastScheduleTime") else NONE, _since(o["metadata"].get("creationTimestamp"), now), names, images,
            NONE]


def _event(o: dict, now: float) -> list:
    involved = o.get("involvedObject") or {}
    source = o.get("source") or {}
    last = o.get("lastTimestamp") or o["metadata"].get("creationTimestamp")
    return [_since(last, now), o.get("type", ""), o.get("reason", ""),
            f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}", involved.get("fieldPath", ""),
            ", ".join(v for v in (source.get("component"), source.get("host")) if v), o.get("message", ""),
            _since(o.get("firstTimestamp") or last, now), o.get("count", 1), o["metadata"]["name"]]


def _service(o: dict, now: float) -> list:
    spec = o.get("spec") or {}
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []) or NONE
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP") or NONE, NONE, ports,
            _since(o["metadata"].get("creationTimestamp"), now), _selector(spec.get("selector"))]


_ACCESS = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _storage_class(o: dict, now: float) -> list:
    return [o.get("provisioner", ""), o.get("reclaimPolicy", "Delete"), o.get("volumeBindingMode", "Immediate"),
            str(bool(o.get("allowVolumeExpansion"))).lower(), _age(o, now)]


def _claim(o: dict, now: float) -> list:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    modes = ",".join(_ACCESS.get(m, m) for m in status.get("accessModes") or []) if status.get("phase") == "Bound" \
        else ""
    capacity = (status.get("capacity") or {}).get("storage", "") if status.get("phase") == "Bound" else ""
    return [status.get("phase", "Pending"), spec.get("volumeName", ""), capacity, modes,
            spec.get("storageClassName") or NONE, spec.get("volumeAttributesClassName") or NONE, _age(o, now),
            spec.get("volumeMode", "Filesystem")]


def _ingress(o: dict, now: float) -> list:
    spec = o.get("spec") or {}
    hosts = ",".join(r["host"] for r in spec.get("rules") or [] if r.get("host")) or "*"
    addresses = [i.get("ip") or i.get("hostname", "") for i in
                 ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []]
    return [spec.get("ingressClassName") or NONE, hosts, ",".join(addresses), "80, 443" if spec.get("tls") else "80",
            _age(o, now)]


def _age(o: dict, now: float) -> str:
    return _since(o["metadata"].get("creationTimestamp"), now)


def label_selector(selector: Optional[dict]) -> str:
    """apimachinery's FormatLabelSelector: the requirements sorted by key (`k=v`, `k in (a,b)`, `k notin (a)`, `k`,
    `!k`), `<none>` for an empty selector."""
    selector = selector or {}
    terms = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator"), ",".join(sorted(expr.get("values") or []))
        terms.append((key, {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key,
                            "DoesNotExist": f"!{key}"}.get(op, key)))
    return ",".join(text for _, text in sorted(terms)) or NONE


# kind -> ([(column, type, priority)], cells); the Name column comes first in every table
_S, _I = "string", "integer"
_WIDE_WORKLOAD = [("Containers", _S, 1), ("Images", _S, 1), ("Selector", _S, 1)]
TABLES: Dict[str, Tuple[List[Tuple[str, str, int]], Callable[[dict, float], list]]] = {
    "Pod": ([("Ready", _S, 0), ("Status", _S, 0), ("Restarts", _I, 0), ("Age", _S, 0), ("IP", _S, 1),
             ("Node", _S, 1), ("Nominated Node", _S, 1), ("Readiness Gates", _S, 1)], _pod),
    "Node": ([("Status", _S, 0), ("Roles", _S, 0), ("Age", _S, 0), ("Version", _S, 0), ("Internal-IP", _S, 1),
              ("External-IP", _S, 1), ("OS-Image", _S, 1), ("Kernel-Version", _S, 1),
              ("Container-Runtime", _S, 1)], _node),
    "Namespace": ([("Status", _S, 0), ("Age", _S, 0)],
                  lambda o, now: [(o.get("status") or {}).get("phase", "Active"), _age(o, now)]),
    "Deployment": ([("Ready", _S, 0), ("Up-to-date", _I, 0), ("Available", _I, 0), ("Age", _S, 0)]
                   + _WIDE_WORKLOAD, _deployment),
    "DaemonSet": ([("Desired", _I, 0), ("Current", _I, 0), ("Ready", _I, 0), ("Up-to-date", _I, 0),
                   ("Available", _I, 0), ("Node Selector", _S, 0), ("Age", _S, 0)] + _WIDE_WORKLOAD, _daemonset),
    "StatefulSet": ([("Ready", _S, 0), ("Age", _S, 0), ("Containers", _S, 1), ("Images", _S, 1)], _statefulset),
    "ReplicaSet": ([("Desired", _I, 0), ("Current", _I, 0), ("Ready", _I, 0), ("Age", _S, 0)] + _WIDE_WORKLOAD,
                   _replicaset),
    "Job": ([("Status", _S, 0), ("Completions", _S, 0), ("Duration", _S, 0), ("Age", _S, 0)] + _WIDE_WORKLOAD,
            _job),
    "CronJob": ([("Schedule", _S, 0), ("Timezone", _S, 0), ("Suspend", _S, 0), ("Active", _I, 0),
                 ("Last Schedule", _S, 0), ("Age", _S, 0)] + _WIDE_WORKLOAD, _cronjob),
    "Event": ([("Last Seen", _S, 0), ("Type", _S, 0), ("Reason", _S, 0), ("Object", _S, 0), ("Subobject", _S, 1),
               ("Source", _S, 1), ("Message", _S, 0), ("First Seen", _S, 1), ("Count", _I, 1), ("Name", _S, 1)],
              _event),
    "Service": ([("Type", _S, 0), ("Cluster-IP", _S, 0), ("External-IP", _S, 0), ("Port(s)", _S, 0),
                 ("Age", _S, 0), ("Selector", _S, 1)], _service),
    "ServiceAccount": ([("Secrets", _I, 0), ("Age", _S, 0)],
                       lambda o, now: [len(o.get("secrets") or []), _age(o, now)]),
    "ConfigMap": ([("Data", _I, 0), ("Age", _S, 0)],
                  lambda o, now: [len(o.get("data") or {}) + len(o.get("binaryData") or {}), _age(o, now)]),
    "Secret": ([("Type", _S, 0), ("Data", _I, 0), ("Age", _S, 0)],
               lambda o, now: [o.get("type", "Opaque"), len(o.get("data") or {}), _age(o, now)]),
    "NetworkPolicy": ([("Pod-Selector", _S, 0), ("Age", _S, 0)],
                      lambda o, now: [label_selector((o.get("spec") or {}).get("podSelector")), _age(o, now)]),
    "StorageClass": ([("Provisioner", _S, 0), ("ReclaimPolicy", _S, 0), ("VolumeBindingMode", _S, 0),
                      ("AllowVolumeExpansion", _S, 0), ("Age", _S, 0)], _storage_class),
    "PriorityClass": ([("Value", _I, 0), ("Global-Default", _S, 0), ("Age", _S, 0), ("PreemptionPolicy", _S, 0)],
                      lambda o, now: [o.get("value", 0), str(bool(o.get("globalDefault"))).lower(), _age(o, now),
                                      o.get("preemptionPolicy", "PreemptLowerPriority")]),
    "PersistentVolumeClaim": ([("Status", _S, 0), ("Volume", _S, 0), ("Capacity", _S, 0), ("Access Modes", _S, 0),
                               ("StorageClass", _S, 0), ("VolumeAttributesClass", _S, 0), ("Age", _S, 0),
                               ("VolumeMode", _S, 1)], _claim),
    "Ingress": ([("Class", _S, 0), ("Hosts", _S, 0), ("Address", _S, 0), ("Ports", _S, 0), ("Age", _S, 0)],
                _ingress),
    # Cilium's CRD prints its age (additionalPrinterColumns); its Valid column needs the agent's status: left out
    "CiliumClusterwideNetworkPolicy": ([("Age", _S, 0)], lambda o, now: [_age(o, now)]),
}
_GENERIC = ([("Created At", _S, 0)], lambda o, now: [o["metadata"].get("creationTimestamp", "")])


def table(kind: str, objects: List[dict], list_metadata: dict, now: float, include: str = "Metadata",
          version: str = "v1") -> dict:
    """The Table of `objects` of `kind`; each row carries the object (`include`: Object), its metadata only
    (Metadata, the default, as PartialObjectMetadata) or nothing (None)."""
    columns, cells = TABLES.get(kind, _GENERIC)
    definitions = [{"name": "Name", "type": _S, "format": "name", "priority": 0,
                    "description": "Name must be unique within a namespace."}]
    definitions += [{"name": name, "type": kind_, "format": "", "priority": priority, "description": ""}
                    for name, kind_, priority in columns]
    rows = []
    for o in objects:
        name = o["metadata"]["name"]
        if kind == "StorageClass" and (o["metadata"].get("annotations") or {}).get(
                "storageclass.kubernetes.io/is-default-class") == "true":
            name += " (default)"  # as the API server's printer marks the default class
        row: dict = {"cells": [name, *cells(o, now)]}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{version}",
                             "metadata": o["metadata"]}
        rows.append(row)
    return {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": list_metadata,
            "columnDefinitions": definitions, "rows": rows}
