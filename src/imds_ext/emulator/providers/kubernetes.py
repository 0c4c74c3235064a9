"""The Kubernetes API of each emulated cluster: the slice imds-ext reads and writes (discovery, namespaces, nodes,
pods with their status and log, workloads, service accounts, custom resources), reached at the server of the
kubeconfig that `listClusterUserCredential` answers with (docs/aks-kubernetes.md).

Nodes are derived from the cluster's pools: each pool's nodes enforce what the pool was last reimaged with. A probe
pod (one that reaches for 169.254.169.254) on a node ends Succeeded when IMDS answers it (a host-network pod, or a
node that does not enforce the restriction) and Failed with curl's timeout exit code (28) when it does not.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import uuid
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional, Tuple

from imds_ext.emulator.constants import RESTRICTED
from imds_ext.emulator.errors import EmulatorError
from imds_ext.emulator.providers.containerservice import ContainerServiceBackend
from imds_ext.emulator.providers.containerservice.rules import pod_link_local_access as rules_setting
from imds_ext.emulator.providers.containerservice.records import ManagedCluster, cluster_key
from imds_ext.emulator.records import Record
from imds_ext.emulator.store import Store

IMDS_ADDRESS = "169.254.169.254"
CURL_TIMEOUT_EXIT = 28
BUILT_IN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# (group/version, plural) -> kind, for the built-in kinds this slice serves.
KINDS = {
    ("v1", "namespaces"): "Namespace", ("v1", "nodes"): "Node", ("v1", "pods"): "Pod",
    ("v1", "serviceaccounts"): "ServiceAccount",
    ("apps/v1", "deployments"): "Deployment", ("apps/v1", "daemonsets"): "DaemonSet",
    ("apps/v1", "statefulsets"): "StatefulSet", ("apps/v1", "replicasets"): "ReplicaSet",
    ("batch/v1", "jobs"): "Job", ("batch/v1", "cronjobs"): "CronJob",
    ("apiextensions.k8s.io/v1", "customresourcedefinitions"): "CustomResourceDefinition",
}
CLUSTER_SCOPED = {"namespaces", "nodes", "customresourcedefinitions"}


def plural_of(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubernetesStatus(EmulatorError):
    """A Kubernetes `Status` failure: the API server's error shape, not ARM's."""

    def body(self) -> dict:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message,
                "reason": self.code, "code": self.status}


def status_error(code: int, reason: str, message: str) -> KubernetesStatus:
    return KubernetesStatus(code, reason, message)


@dataclasses.dataclass
class KubeObject(Record):
    cluster: str  # the cluster's key (records.cluster_key: its subscription, group and name)
    api_version: str  # "v1", "apps/v1", "secrets-store.csi.x-k8s.io/v1", ...
    plural: str
    namespace: str  # "" for cluster-scoped objects
    body: dict


@dataclasses.dataclass
class Node:
    name: str
    pool: str
    enforced: str

    def render(self, cluster: ManagedCluster, pool: dict) -> dict:
        labels = {"kubernetes.azure.com/agentpool": pool["name"], "agentpool": pool["name"],
                  "kubernetes.azure.com/mode": str(pool.get("mode", "User")).lower(),
                  "kubernetes.io/os": str(pool.get("osType", "Linux")).lower(),
                  "kubernetes.azure.com/os-sku": pool.get("osSKU", "Ubuntu"),
                  "kubernetes.azure.com/node-image-version": pool.get("nodeImageVersion", ""),
                  "kubernetes.io/hostname": self.name}
        taints = [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}] \
            if pool.get("mode") == "System" and pool.get("onlyCriticalAddonsEnabled") else []
        taints += [_taint(t) for t in pool.get("nodeTaints") or []]
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.name, "labels": labels, "uid": str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                                        self.name))},
                "spec": {"taints": taints} if taints else {},
                "status": {"conditions": [{"type": "Ready", "status": "True"}],
                           "nodeInfo": {"kubeletVersion": f"v{pool.get('currentOrchestratorVersion', '')}",
                                        "osImage": pool.get("nodeImageVersion", "")}}}


def _taint(text: str) -> dict:
    key_value, _, effect = text.partition(":")
    key, _, value = key_value.partition("=")
    return {"key": key, "value": value, "effect": effect or "NoSchedule"}


class KubernetesBackend:
    def __init__(self, store: Store, container_service: ContainerServiceBackend):
        self.store = store
        self.container_service = container_service
        self.objects: Dict[str, KubeObject] = store.table("kubernetes", KubeObject)
        container_service.on_cluster_dropped(self._drop_cluster)

    def _drop_cluster(self, key: str) -> None:
        for object_key in [k for k, o in self.objects.items() if o.cluster == key]:
            del self.objects[object_key]

    # ---- access --------------------------------------------------------------------------------
    def cluster(self, sub: str, rg: str, name: str, authorization: Optional[str],
                entra_token_valid: Callable[[str], bool]) -> ManagedCluster:
        """The cluster whose API is asked, once the caller's bearer token is one it accepts: a static token of a
        local account, or a Microsoft Entra token for the AKS server application (`entra_token_valid`, the HTTP
        layer's check of the token's signature and audience)."""
        try:
            rec = self.container_service.cluster(sub, rg, name)
        except EmulatorError:
            raise status_error(404, "NotFound", f"no Kubernetes API at this address: cluster '{name}' does not "
                               "exist") from None
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and token:
            if not rec.properties.get("disableLocalAccounts") and token in rec.tokens.values():
                return rec
            if entra_token_valid(token):
                return rec
        raise status_error(401, "Unauthorized", "Unauthorized")

    # ---- nodes -----------------------------------------------------------------------------------
    def nodes(self, rec: ManagedCluster) -> List[Tuple[Node, dict]]:
        """The nodes of every pool. During a pool's node-image upgrade its nodes are reimaged one after another
        over the operation's time: the first ones already enforce the cluster's current setting."""
        upgrading = {op.child.lower(): op for op in self.container_service.operations.running(rec.key)
                     if op.kind == "pool.upgrade" and op.child}
        setting = rules_setting(rec.resource)
        now = self.store.clock()
        out = []
        for pool in rec.pools:
            digits = int(hashlib.sha256(f"{rec.resource['id']}/{pool['name']}".encode()).hexdigest(), 16) % 10 ** 8
            count = int(pool.get("count") or 0)
            before = rec.enforced.get(pool["name"].lower(), "IMDS")
            op = upgrading.get(pool["name"].lower())
            done = 0
            if op is not None and op.due > op.start:
                done = int(count * min(1.0, max(0.0, (now - op.start) / (op.due - op.start))))
            for index in range(count):
                name = f"aks-{pool['name']}-{digits:08d}-vmss{index:06d}"
                out.append((Node(name, pool["name"], setting if index < done else before), pool))
        return out

    # ---- objects ---------------------------------------------------------------------------------
    @staticmethod
    def _key(cluster: str, api_version: str, plural: str, namespace: str, name: str) -> str:
        return "|".join((cluster, api_version, plural, namespace, name))

    def list(self, rec: ManagedCluster, api_version: str, plural: str, namespace: Optional[str]) -> dict:
        key = rec.key
        if (api_version, plural) == ("v1", "nodes"):
            items = [node.render(rec, pool) for node, pool in self.nodes(rec)]
        elif (api_version, plural) == ("v1", "namespaces"):
            items = [self._namespace(n) for n in self.namespaces(rec)]
        else:
            items = [self._with_status(rec, copy.deepcopy(o.body)) for o in self.objects.values()
                     if o.cluster == key and o.api_version == api_version and o.plural == plural
                     and (namespace is None or o.namespace == namespace)]
        kind = KINDS.get((api_version, plural)) or (items[0]["kind"] if items else "List")
        return {"apiVersion": api_version, "kind": f"{kind}List", "metadata": {"resourceVersion": "1"},
                "items": items}

    def get(self, rec: ManagedCluster, api_version: str, plural: str, namespace: str, name: str) -> dict:
        for item in self.list(rec, api_version, plural, namespace or None)["items"]:
            if item["metadata"]["name"] == name:
                return item
        raise status_error(404, "NotFound", f'{plural} "{name}" not found')

    def namespaces(self, rec: ManagedCluster) -> List[str]:
        key = rec.key
        made = [o.body["metadata"]["name"] for o in self.objects.values()
                if o.cluster == key and o.plural == "namespaces"]
        return list(dict.fromkeys([*BUILT_IN_NAMESPACES, *made]))

    def cluster_scoped(self, rec: ManagedCluster, plural: str) -> bool:
        """Built-in cluster-scoped kinds, and custom resources whose CustomResourceDefinition says `scope: Cluster`
        (cert-manager's ClusterIssuer, say), as the API server decides from the CRD."""
        if plural in CLUSTER_SCOPED:
            return True
        return any(o.cluster == rec.key and o.plural == "customresourcedefinitions"
                   and ((o.body.get("spec") or {}).get("names") or {}).get("plural") == plural
                   and (o.body.get("spec") or {}).get("scope") == "Cluster" for o in self.objects.values())

    @staticmethod
    def _namespace(name: str) -> dict:
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": {"phase": "Active"}}

    def create(self, rec: ManagedCluster, api_version: str, plural: str, namespace: str, body) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
            raise status_error(400, "BadRequest", "the object has no metadata")
        name = body["metadata"].get("name") or (body["metadata"].get("generateName", "obj-") + uuid.uuid4().hex[:5])
        if plural == "nodes":
            raise status_error(405, "MethodNotAllowed", "nodes are the cluster's: they come from its node pools")
        scoped = self.cluster_scoped(rec, plural)
        if scoped:
            namespace = ""
        elif namespace not in self.namespaces(rec):
            raise status_error(404, "NotFound", f'namespaces "{namespace}" not found')
        key = self._key(rec.key, api_version, plural, namespace, name)
        if key in self.objects or (plural == "namespaces" and name in self.namespaces(rec)):
            raise status_error(409, "AlreadyExists", f'{plural} "{name}" already exists')
        stored = copy.deepcopy(body)
        stored.setdefault("apiVersion", api_version)
        stored.setdefault("kind", KINDS.get((api_version, plural), body.get("kind", "")))
        stored["metadata"].update(name=name, uid=str(uuid.uuid4()), creationTimestamp=_now(), resourceVersion="1")
        if scoped:
            stored["metadata"].pop("namespace", None)
        else:
            stored["metadata"]["namespace"] = namespace
        self.objects[key] = KubeObject(cluster=key.split("|", 1)[0], api_version=api_version, plural=plural,
                                       namespace=namespace, body=stored)
        self.store.changed()
        return self._with_status(rec, copy.deepcopy(stored))

    def delete(self, rec: ManagedCluster, api_version: str, plural: str, namespace: str, name: str) -> dict:
        cluster = rec.key
        gone = self.objects.pop(self._key(cluster, api_version, plural, namespace, name), None)
        if gone is None:
            raise status_error(404, "NotFound", f'{plural} "{name}" not found')
        if plural == "namespaces":  # what was in it goes with it
            for key in [k for k, o in self.objects.items() if o.cluster == cluster and o.namespace == name]:
                del self.objects[key]
        self.store.changed()
        return {"kind": "Status", "apiVersion": "v1", "status": "Success", "details": {"name": name}}

    def log(self, rec: ManagedCluster, namespace: str, name: str) -> str:
        reachable = self._imds_reachable(rec, self.get(rec, "v1", "pods", namespace, name))
        if reachable is None:
            return ""
        return ('{"compute": {"azEnvironment": "AzurePublicCloud"}}' if reachable
                else f"curl: ({CURL_TIMEOUT_EXIT}) Connection timed out after 10001 milliseconds")

    # ---- pod status ------------------------------------------------------------------------------
    def _imds_reachable(self, rec: ManagedCluster, pod: dict) -> Optional[bool]:
        """For a probe pod on a node: whether IMDS answers it; None for any other pod."""
        spec = pod.get("spec") or {}
        node = {node.name: node for node, _ in self.nodes(rec)}.get(spec.get("nodeName") or "")
        if node is None or IMDS_ADDRESS not in json.dumps(spec.get("containers") or []):
            return None
        return bool(spec.get("hostNetwork")) or node.enforced != RESTRICTED

    def _with_status(self, rec: ManagedCluster, body: dict) -> dict:
        if body.get("kind") != "Pod":
            return body
        spec = body.get("spec") or {}
        reachable = self._imds_reachable(rec, body)
        if not spec.get("nodeName"):
            body["status"] = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False"}]}
        elif reachable is None:
            body["status"] = {"phase": "Running", "hostIP": "10.224.0.4"}
        else:
            code = 0 if reachable else CURL_TIMEOUT_EXIT
            body["status"] = {
                "phase": "Succeeded" if reachable else "Failed",
                "containerStatuses": [{"name": c.get("name", "probe"), "state": {"terminated": {
                    "exitCode": code, "reason": "Completed" if reachable else "Error"}}}
                    for c in spec.get("containers") or []]}
        return body

    # ---- seeding ---------------------------------------------------------------------------------
    def seed(self, sub: str, rg: str, name: str, objects: list) -> int:
        """Workloads as given (pods with owners, env and labels, service accounts, custom resources)."""
        with self.store.tx():
            rec = self.container_service.clusters.get(cluster_key(sub, rg, name))
            if rec is None:
                raise EmulatorError(400, "InvalidSeed", f"No cluster '{rg}/{name}' in the subscription '{sub}' to "
                                    "seed Kubernetes objects into.")
            for body in objects:
                api_version, kind = body.get("apiVersion", "v1"), body.get("kind", "")
                plural = next((p for (v, p), k in KINDS.items() if v == api_version and k == kind), plural_of(kind))
                namespace = "" if self.cluster_scoped(rec, plural) else body["metadata"].get("namespace", "default")
                if plural != "namespaces" and namespace and namespace not in self.namespaces(rec):
                    self.create(rec, "v1", "namespaces", "", {"metadata": {"name": namespace}})
                self.create(rec, api_version, plural, namespace, body)
            return len(objects)
