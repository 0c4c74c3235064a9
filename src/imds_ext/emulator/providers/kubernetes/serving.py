"""What the API server, the kubelet and the built-in controllers add to an object before a client reads it, so that
typed clients (the official Python client, kubectl) deserialize it and print it as from a real cluster:

- every object: `resourceVersion`, `uid`, an RFC 3339 `creationTimestamp`;
- a node: its InternalIP (10.224.0.4 up, AKS's default node subnet, in the order of the pools), `nodeInfo` in full
  (containerd, the Ubuntu or Azure Linux kernel), capacity and allocatable, its pod CIDR;
- a pod: the defaults the API server fills in (`restartPolicy`, `dnsPolicy`, the `default` service account, a
  container's `imagePullPolicy`, ...), and on a node its host IP, a pod IP (from 10.244.0.0/16, the overlay's pod
  CIDR; the node's own with hostNetwork), `startTime`, `qosClass`, and each started container's image and
  container IDs;
- an event: `count`, first and last timestamps, its source.

And the objects every AKS cluster has from its start (`builtin`): the `kubernetes` Service in `default` at
10.0.0.1 (the first address of AKS's default service CIDR 10.0.0.0/16), CoreDNS's `kube-dns` at 10.0.0.10 and
`metrics-server` in `kube-system`, labelled `kubernetes.io/cluster-service=true` as `kubectl cluster-info` looks
for them; AKS's storage classes (`default` among them) and Kubernetes' system priority classes.
"""
from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timezone
from typing import Dict, Iterable, List, Optional

# Nodes and the built-in objects have no creation time in the emulator's records: they show this one.
CLUSTER_CREATED = "2026-01-01T00:00:00Z"
CONTAINERD = "containerd://1.7.27-1"
KERNELS = {"AzureLinux": "5.15.186.1-1.cm2", "Windows2022": "10.0.20348.3932"}
UBUNTU_KERNEL = "5.15.0-1092-azure"
# What the kubelet reports as the node's OS, beside its kernel (KERNELS: Azure Linux 2); the node image is a label
OS_IMAGES = {"AzureLinux": "CBL-Mariner/Linux", "Windows2022": "Windows Server 2022 Datacenter"}
UBUNTU_IMAGE = "Ubuntu 22.04.5 LTS"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def node_addresses(names: Iterable[str]) -> Dict[str, str]:
    """Each node's InternalIP, in the order of the nodes (the pools' order, then the others)."""
    return {name: f"10.224.{(4 + i) // 256}.{(4 + i) % 256}" for i, name in enumerate(names)}


def complete(obj: dict, addresses: Dict[str, str]) -> dict:
    """`obj` (a copy the caller owns) with what the API server and the kubelet add; returned for chaining."""
    meta = obj.setdefault("metadata", {})
    meta.setdefault("resourceVersion", "1")
    meta.setdefault("creationTimestamp", CLUSTER_CREATED)
    meta.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{meta.get('namespace', '')}/{meta.get('name')}")))
    kind = obj.get("kind")
    if kind == "Node":
        _node(obj, addresses)
    elif kind == "Pod":
        _pod(obj, addresses)
    elif kind == "Event":
        _event(obj)
    return obj


def _node(node: dict, addresses: Dict[str, str]) -> None:
    name = node["metadata"]["name"]
    labels = node["metadata"].get("labels") or {}
    status = node.setdefault("status", {})
    index = list(addresses).index(name) if name in addresses else 0
    windows = labels.get("kubernetes.io/os") == "windows"
    sku = labels.get("kubernetes.azure.com/os-sku", "Ubuntu")
    info = status.setdefault("nodeInfo", {})
    kubelet = info.get("kubeletVersion") or ""
    for key, value in {
        "architecture": "amd64", "bootID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"boot/{name}")),
        "containerRuntimeVersion": CONTAINERD, "kernelVersion": KERNELS.get(sku, UBUNTU_KERNEL),
        "kubeProxyVersion": kubelet, "kubeletVersion": kubelet, "machineID": _digest(f"machine/{name}")[:32],
        "operatingSystem": "windows" if windows else "linux", "osImage": OS_IMAGES.get(sku, UBUNTU_IMAGE),
        "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"system/{name}")),
    }.items():
        if not info.get(key):
            info[key] = value
    status.setdefault("addresses", [{"type": "InternalIP", "address": addresses.get(name, "10.224.0.4")},
                                    {"type": "Hostname", "address": name}])
    resources = {"cpu": "2", "memory": "7092748Ki", "pods": "250", "ephemeral-storage": "129886128Ki"}
    status.setdefault("capacity", dict(resources))
    status.setdefault("allocatable", {**resources, "cpu": "1900m", "memory": "5502988Ki"})
    status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 10250}})
    for condition in status.get("conditions") or []:
        condition.setdefault("lastHeartbeatTime", CLUSTER_CREATED)
        condition.setdefault("lastTransitionTime", CLUSTER_CREATED)
        condition.setdefault("message", "kubelet is posting ready status" if condition.get("status") == "True"
                             else "Kubelet stopped posting node status.")
    spec = node.setdefault("spec", {})
    spec.setdefault("podCIDR", f"10.244.{index % 256}.0/24")
    spec.setdefault("podCIDRs", [spec["podCIDR"]])


def pod_ip(uid: str) -> str:
    value = int(_digest(uid)[:8], 16)
    return f"10.244.{(value >> 8) % 256}.{value % 250 + 2}"


def _pod(pod: dict, addresses: Dict[str, str]) -> None:
    meta, spec = pod["metadata"], pod.setdefault("spec", {})
    for key, value in {"restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
                       "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
                       "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
                       "securityContext": {}}.items():
        spec.setdefault(key, value)
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    for container in spec.get("containers") or []:
        image = str(container.get("image", ""))
        tagged = ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")
        container.setdefault("imagePullPolicy", "IfNotPresent" if tagged or "@" in image else "Always")
        container.setdefault("resources", {})
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
    status = pod.setdefault("status", {})
    limited = any((c.get("resources") or {}).get("limits") or (c.get("resources") or {}).get("requests")
                  for c in spec.get("containers") or [])
    status.setdefault("qosClass", "Burstable" if limited else "BestEffort")
    for condition in status.get("conditions") or []:  # as the kubelet and the scheduler write them
        condition.setdefault("lastProbeTime", None)
        condition.setdefault("lastTransitionTime", meta.get("creationTimestamp"))
    node = spec.get("nodeName")
    if not node or node not in addresses:
        return
    host = addresses[node]
    status["hostIP"] = host
    status["hostIPs"] = [{"ip": host}]
    if status.get("phase") == "Failed" and status.get("reason"):  # rejected by the kubelet: it never ran
        return
    ip = host if spec.get("hostNetwork") else pod_ip(meta["uid"])
    status.setdefault("podIP", ip)
    status.setdefault("podIPs", [{"ip": ip}])
    status.setdefault("startTime", meta["creationTimestamp"])
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        ran = "running" in state or "terminated" in state or container.get("lastState")
        image = str(container.get("image") or "")
        container.setdefault("imageID", f"{image.split(':')[0]}@sha256:{_digest(image)}" if ran else "")
        if ran:
            container.setdefault("containerID", f"containerd://{_digest(meta['uid'] + container.get('name', ''))}")
        container["started"] = "running" in state
        for inner in ("state", "lastState"):
            for what in (container.get(inner) or {}).values():
                if isinstance(what, dict) and "exitCode" in what:
                    what.setdefault("startedAt", meta["creationTimestamp"])
                    what.setdefault("finishedAt", meta["creationTimestamp"])
                elif isinstance(what, dict) and inner == "state" and "running" in state and not what.get(
                        "startedAt"):
                    what["startedAt"] = meta["creationTimestamp"]


def _event(event: dict) -> None:
    meta = event["metadata"]
    event.setdefault("count", 1)
    event.setdefault("type", "Normal")
    event.setdefault("firstTimestamp", meta["creationTimestamp"])
    event.setdefault("lastTimestamp", event["firstTimestamp"])
    involved = (event.get("involvedObject") or {}).get("kind", "")
    event.setdefault("source", {"component": f"{involved.lower()}-controller" if involved else "kubelet"})
    event.setdefault("reportingComponent", event["source"].get("component", ""))


def _service(namespace: str, name: str, ip: str, ports: List[dict], labels: dict, selector: Optional[dict]) -> dict:
    spec = {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip], "ports": ports, "sessionAffinity": "None",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"}
    if selector:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": labels, "resourceVersion": "1",
                         "creationTimestamp": CLUSTER_CREATED,
                         "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"service/{namespace}/{name}"))},
            "spec": spec, "status": {"loadBalancer": {}}}


def _built_in_services() -> List[dict]:
    addon = {"kubernetes.io/cluster-service": "true", "addonmanager.kubernetes.io/mode": "Reconcile"}
    return [
        _service("default", "kubernetes", "10.0.0.1",
                 [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}],
                 {"component": "apiserver", "provider": "kubernetes"}, None),
        _service("kube-system", "kube-dns", "10.0.0.10",
                 [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                  {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}],
                 {**addon, "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}, {"k8s-app": "kube-dns"}),
        _service("kube-system", "metrics-server", "10.0.176.150",
                 [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"}],
                 {**addon, "k8s-app": "metrics-server", "kubernetes.io/name": "Metrics-server"},
                 {"k8s-app": "metrics-server"}),
    ]


def _cluster_object(api_version: str, kind: str, name: str, labels: Optional[dict] = None,
                    annotations: Optional[dict] = None, **fields) -> dict:
    meta = {"name": name, "resourceVersion": "1", "creationTimestamp": CLUSTER_CREATED,
            "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{name}"))}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **fields}


def _storage_class(name: str, provisioner: str, parameters: dict, default: bool = False) -> dict:
    binding = "WaitForFirstConsumer" if provisioner == "disk.csi.azure.com" else "Immediate"
    return _cluster_object("storage.k8s.io/v1", "StorageClass", name,
                           {"addonmanager.kubernetes.io/mode": "EnsureExists", "kubernetes.io/cluster-service": "true"},
                           {"storageclass.kubernetes.io/is-default-class": "true"} if default else None,
                           provisioner=provisioner, parameters=parameters, reclaimPolicy="Delete",
                           volumeBindingMode=binding, allowVolumeExpansion=True)


# The storage classes AKS makes (AKS docs, "Storage options": default and managed-csi on Standard SSD, premium on
# Premium SSD, Azure Files standard and premium), and Kubernetes' two system priority classes.
_BUILT_IN = {
    ("storage.k8s.io/v1", "storageclasses"): lambda: [
        _storage_class("azurefile-csi", "file.csi.azure.com", {"skuName": "Standard_LRS"}),
        _storage_class("azurefile-csi-premium", "file.csi.azure.com", {"skuName": "Premium_LRS"}),
        _storage_class("default", "disk.csi.azure.com", {"skuname": "StandardSSD_LRS"}, default=True),
        _storage_class("managed-csi", "disk.csi.azure.com", {"skuname": "StandardSSD_LRS"}),
        _storage_class("managed-csi-premium", "disk.csi.azure.com", {"skuname": "Premium_LRS"}),
    ],
    ("scheduling.k8s.io/v1", "priorityclasses"): lambda: [
        _cluster_object("scheduling.k8s.io/v1", "PriorityClass", "system-cluster-critical", value=2000000000,
                        globalDefault=False, preemptionPolicy="PreemptLowerPriority",
                        description="Used for system critical pods that must run in the cluster, but can be moved "
                                    "to another node if necessary."),
        _cluster_object("scheduling.k8s.io/v1", "PriorityClass", "system-node-critical", value=2000001000,
                        globalDefault=False, preemptionPolicy="PreemptLowerPriority",
                        description="Used for system critical pods that must not be moved from their current node."),
    ],
}


LEASES = ("coordination.k8s.io/v1", "leases")
NODE_LEASE_NAMESPACE = "kube-node-lease"
NODE_LEASE_SECONDS = 40  # the kubelet's default nodeLeaseDurationSeconds


def node_lease(node: str, ready: bool, now: float) -> dict:
    """The Lease a node's kubelet renews in kube-node-lease as its heartbeat (`kubectl describe node` reads it):
    renewed now while the node is Ready, last at the cluster's creation once it is not."""
    renewed = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if ready else \
        CLUSTER_CREATED.replace("Z", ".000000Z")
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": node, "namespace": NODE_LEASE_NAMESPACE, "resourceVersion": "1",
                         "creationTimestamp": CLUSTER_CREATED,
                         "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"lease/{node}")),
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node,
                                              "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, node))}]},
            "spec": {"holderIdentity": node, "leaseDurationSeconds": NODE_LEASE_SECONDS, "renewTime": renewed}}


def builtin(api_version: str, plural: str, namespace: Optional[str]) -> List[dict]:
    """The objects of `plural` every AKS cluster has, in `namespace` (None: all)."""
    if (api_version, plural) in _BUILT_IN:
        return _BUILT_IN[(api_version, plural)]()
    if (api_version, plural) != ("v1", "services"):
        return []
    return [s for s in _built_in_services() if namespace is None or s["metadata"]["namespace"] == namespace]
