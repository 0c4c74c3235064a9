"""The Kubernetes API of each emulated cluster: the slice imds-ext reads and writes (discovery, namespaces, nodes,
pods with their status and log, workloads, events, service accounts, custom resources), reached at the server of
the kubeconfig that `listClusterUserCredential` answers with (docs/aks-kubernetes.md).

Nodes are derived from the cluster's pools (each pool's nodes enforce what the pool was last reimaged with) and from
the cluster's facts (workloads.ClusterFacts: NotReady and cordoned nodes, full nodes, node auto-provisioning and
virtual nodes). What runs on them, DaemonSets' pods included, is workloads.py's model; what the API server refuses
is admission.py's; how lists are narrowed and paged is selectors.py's. The network policy engine is the cluster's
ARM body's (`networkProfile.networkPolicy`, `networkDataplane`), which also decides whether Cilium's
CustomResourceDefinition is there; what the policies stored here let a pod reach is netpol.py's.
"""
from __future__ import annotations

import copy
import dataclasses
import hmac
import uuid
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional, Tuple

from imds_ext.emulator.errors import EmulatorError
from imds_ext.emulator.providers.containerservice import ContainerServiceBackend
from imds_ext.emulator.providers.containerservice.records import ManagedCluster, cluster_key
from imds_ext.emulator.providers.kubernetes import admission, netpol, selectors, serving, workloads
from imds_ext.emulator.providers.kubernetes import nodes as nodes_module
from imds_ext.emulator.providers.kubernetes.nodes import Node, derive_nodes
from imds_ext.emulator.providers.kubernetes.workloads import ClusterFacts
from imds_ext.emulator.records import Record
from imds_ext.emulator.store import Store

BUILT_IN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
ADMIN_USER = "clusterAdmin"
# (group/version, plural) -> kind, for the built-in kinds this slice serves.
KINDS = {
    ("v1", "namespaces"): "Namespace", ("v1", "nodes"): "Node", ("v1", "pods"): "Pod",
    ("v1", "serviceaccounts"): "ServiceAccount", ("v1", "events"): "Event",
    ("v1", "configmaps"): "ConfigMap", ("v1", "secrets"): "Secret", ("v1", "services"): "Service",
    ("apps/v1", "deployments"): "Deployment", ("apps/v1", "daemonsets"): "DaemonSet",
    ("apps/v1", "statefulsets"): "StatefulSet", ("apps/v1", "replicasets"): "ReplicaSet",
    ("batch/v1", "jobs"): "Job", ("batch/v1", "cronjobs"): "CronJob",
    ("apiextensions.k8s.io/v1", "customresourcedefinitions"): "CustomResourceDefinition",
    ("networking.k8s.io/v1", "networkpolicies"): "NetworkPolicy",
    # stored as written, acted on by nothing (no volume provisioner, ingress controller, autoscaler or quota
    # admission), the storage and priority classes every AKS cluster has among them (serving.builtin)
    ("v1", "persistentvolumeclaims"): "PersistentVolumeClaim", ("v1", "persistentvolumes"): "PersistentVolume",
    ("v1", "resourcequotas"): "ResourceQuota", ("v1", "limitranges"): "LimitRange",
    ("networking.k8s.io/v1", "ingresses"): "Ingress", ("networking.k8s.io/v1", "ingressclasses"): "IngressClass",
    ("autoscaling/v2", "horizontalpodautoscalers"): "HorizontalPodAutoscaler",
    ("storage.k8s.io/v1", "storageclasses"): "StorageClass",
    ("scheduling.k8s.io/v1", "priorityclasses"): "PriorityClass",
    ("coordination.k8s.io/v1", "leases"): "Lease",  # the nodes' heartbeats derived, others kept
}
CLUSTER_SCOPED = {"namespaces", "nodes", "customresourcedefinitions", "persistentvolumes", "ingressclasses",
                  "storageclasses", "priorityclasses"}


def plural_of(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubernetesStatus(EmulatorError):
    """A Kubernetes `Status` failure: the API server's error shape, not ARM's."""

    status_details: Optional[dict] = None  # the Status's `details` (a conflict's causes), when it has them

    def body(self) -> dict:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message,
                "reason": self.code, **({"details": self.status_details} if self.status_details else {}),
                "code": self.status}


def status_error(code: int, reason: str, message: str, details: Optional[dict] = None) -> KubernetesStatus:
    error = KubernetesStatus(code, reason, message)
    error.status_details = details
    return error


@dataclasses.dataclass
class KubeObject(Record):
    cluster: str  # the cluster's key (records.cluster_key: its subscription, group and name)
    api_version: str  # "v1", "apps/v1", "secrets-store.csi.x-k8s.io/v1", ...
    plural: str
    namespace: str  # "" for cluster-scoped objects
    body: dict


class KubernetesBackend:
    def __init__(self, store: Store, container_service: ContainerServiceBackend):
        self.store = store
        self.container_service = container_service
        self.objects: Dict[str, KubeObject] = store.table("kubernetes", KubeObject)
        self.facts: Dict[str, ClusterFacts] = store.table("kubernetes-facts", ClusterFacts)
        container_service.on_cluster_dropped(self._drop_cluster)

    def _drop_cluster(self, key: str) -> None:
        for object_key in [k for k, o in self.objects.items() if o.cluster == key]:
            del self.objects[object_key]
        self.facts.pop(key, None)

    def _facts(self, rec: ManagedCluster) -> ClusterFacts:
        return self.facts.get(rec.key) or ClusterFacts(cluster=rec.key)

    # ---- network policy --------------------------------------------------------------------------
    @staticmethod
    def engine(rec: ManagedCluster) -> str:
        """The cluster's network policy engine, from its ARM body (netpol.engine_of): none, azure, calico, cilium."""
        return netpol.engine_of(rec.resource)

    def policies(self, rec: ManagedCluster) -> netpol.Policies:
        """What decides the egress of the cluster's pods: its engine, its policies, its namespaces' labels (one
        pass over the cluster's objects; the bodies are read, not copied)."""
        engine = self.engine(rec)
        if engine == "none":  # stored, enforced by nobody: nothing to read
            return netpol.Policies(engine)
        network, clusterwide, labels = [], [], {}
        for o in self.objects.values():
            if o.cluster != rec.key:
                continue
            if (o.api_version, o.plural) == netpol.NETWORK_POLICIES:
                network.append(o.body)
            elif (o.api_version, o.plural) == netpol.CLUSTERWIDE:
                clusterwide.append(o.body)
            elif o.plural == "namespaces":
                labels[o.body["metadata"]["name"]] = o.body["metadata"].get("labels") or {}
        return netpol.Policies(engine, tuple(network), tuple(clusterwide), labels)

    def crds(self, rec: ManagedCluster) -> List[dict]:
        """The cluster's CustomResourceDefinitions: those created, then those its engine brings (Cilium's)."""
        stored = [o.body for o in self.objects.values()
                  if o.cluster == rec.key and o.plural == "customresourcedefinitions"]
        return stored + self._engine_crds(rec, stored)

    def _engine_crds(self, rec: ManagedCluster, stored: List[dict]) -> List[dict]:
        names = {c["metadata"]["name"] for c in stored}
        return [c for c in netpol.crds(self.engine(rec)) if c["metadata"]["name"] not in names]

    def _check_served(self, rec: ManagedCluster, api_version: str, plural: str) -> None:
        """Cilium's cluster-wide policies are served where their CRD is (a Cilium cluster, or one given the CRD);
        elsewhere the path is the API server's 404 for a resource it does not know."""
        if (api_version, plural) != netpol.CLUSTERWIDE or self.engine(rec) == "cilium":
            return
        if not any(((c.get("spec") or {}).get("names") or {}).get("plural") == plural for c in self.crds(rec)):
            raise status_error(404, "NotFound", "the server could not find the requested resource")

    # ---- access --------------------------------------------------------------------------------
    def cluster(self, sub: str, rg: str, name: str, authorization: Optional[str],
                entra_token_valid: Callable[[str], bool]) -> Tuple[ManagedCluster, str]:
        """The cluster whose API is asked and the user asking, once the caller's bearer token is one it accepts: a
        static token of a local account, or a Microsoft Entra token for the AKS server application
        (`entra_token_valid`, the HTTP layer's check of the token's signature and audience)."""
        try:
            rec = self.container_service.cluster(sub, rg, name)
        except EmulatorError:
            raise status_error(404, "NotFound", f"no Kubernetes API at this address: cluster '{name}' does not "
                               "exist") from None
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and token:
            if not rec.properties.get("disableLocalAccounts"):
                for user, static in rec.tokens.items():
                    if static == token:
                        return rec, user
            if entra_token_valid(token):
                return rec, "entra-user"
        raise status_error(401, "Unauthorized", "Unauthorized")

    def cluster_of_token(self, authorization: Optional[str]) -> ManagedCluster:
        """The cluster one of whose local-account tokens `authorization` carries: whose API a request at the
        emulator's root is for (kubectl's `get --raw /path` drops the kubeconfig server's path). A 404 otherwise:
        an Entra token names no cluster."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and token:
            for rec in self.container_service.clusters.values():
                if any(hmac.compare_digest(static, token) for static in rec.tokens.values()):
                    return rec
        raise status_error(404, "NotFound", "the emulator serves each cluster's Kubernetes API under /kubernetes/"
                           "{subscription}/{group}/{cluster}; a request at its root reaches the cluster whose "
                           "local-account token it carries, and this one carries none")

    def authorize(self, rec: ManagedCluster, user: str, verb: str, api_version: str, plural: str,
                  namespace: str) -> None:
        if user == ADMIN_USER:
            return
        refusal = admission.rbac_refusal(self._facts(rec).user_rules, user, verb, api_version, plural, namespace)
        if refusal:
            raise status_error(403, "Forbidden", refusal)

    def user_rules(self, rec: ManagedCluster, user: str) -> Optional[List[dict]]:
        """The RBAC rules `user` is held to; None: everything is allowed (the cluster admin, or no rules set)."""
        return None if user == ADMIN_USER else self._facts(rec).user_rules

    # ---- nodes -----------------------------------------------------------------------------------
    def nodes(self, rec: ManagedCluster) -> List[Tuple[Node, Optional[dict]]]:
        """The nodes of every pool, then the nodes that are no pool's (nodes.py)."""
        running = [op for op in self.container_service.operations.running(rec.key) if op.kind == "pool.upgrade"]
        return derive_nodes(rec, running, self._facts(rec), self.store.clock())

    # ---- objects ---------------------------------------------------------------------------------
    @staticmethod
    def _key(cluster: str, api_version: str, plural: str, namespace: str, name: str) -> str:
        return "|".join((cluster, api_version, plural, namespace, name))

    def list(self, rec: ManagedCluster, api_version: str, plural: str, namespace: Optional[str],
             query: Optional[dict] = None) -> dict:
        """A list as the API server answers it: in key order (namespace, name), narrowed by `labelSelector` and
        `fieldSelector`, a page at a time with `limit`/`continue` (selectors.py)."""
        self._finish_deletions(rec)
        self._check_served(rec, api_version, plural)
        query = query or {}
        key = rec.key
        nodes = {node.name: node for node, _ in self.nodes(rec)} if plural == "pods" else {}
        policies = self.policies(rec) if plural in ("pods", "events") else None
        stored: List[dict] = []  # the store's own bodies: copied, with their status, only once on the page
        if (api_version, plural) == ("v1", "nodes"):
            items = [node.render(pool) for node, pool in self.nodes(rec)]
        elif (api_version, plural) == ("v1", "namespaces"):
            items = [self._namespace(rec, n) for n in self.namespaces(rec)]
        else:
            stored = [o.body for o in self.objects.values()
                      if o.cluster == key and o.api_version == api_version and o.plural == plural
                      and (namespace is None or o.namespace == namespace)]
            if "status." in (query.get("fieldSelector") or ""):  # a selector on the status: each one needs it
                stored = [self._with_status(rec, copy.deepcopy(body), nodes, policies) for body in stored]
                items, stored = stored, []
            else:
                items = list(stored)
            if (api_version, plural) in (("v1", "pods"), ("v1", "events")):
                pods, events = self._daemon_pods(rec, namespace, policies)
                items += pods if plural == "pods" else events
            items += serving.builtin(api_version, plural, namespace)  # the `kubernetes` Service, CoreDNS's, ...
            if (api_version, plural) == serving.LEASES and namespace in (None, serving.NODE_LEASE_NAMESPACE):
                items += [serving.node_lease(node.name, node.ready, self.store.clock()) for node, _ in self.nodes(rec)]
            if (api_version, plural) == ("apiextensions.k8s.io/v1", "customresourcedefinitions"):
                items += [copy.deepcopy(c) for c in self._engine_crds(rec, stored)]
        try:
            if query.get("labelSelector") or query.get("fieldSelector"):
                labels = selectors.label_matcher(query.get("labelSelector"))
                fields = selectors.field_matcher(query.get("fieldSelector"))
                items = [i for i in items if labels(i) and fields(i)]
            items.sort(key=lambda i: (i["metadata"].get("namespace", ""), i["metadata"]["name"]))
            items, token = selectors.page(items, query.get("limit"), query.get("continue"), self.store.clock())
            uncopied = {id(body) for body in stored}
            items = [self._with_status(rec, copy.deepcopy(i), nodes, policies) if id(i) in uncopied else i
                     for i in items]
        except selectors.SelectorError as ex:
            raise status_error(400, "BadRequest", str(ex)) from None
        except selectors.TokenExpired:
            raise status_error(410, "Expired", "The provided continue parameter is too old to display a consistent "
                               "list result. You can start a new list without the continue parameter.") from None
        kind = KINDS.get((api_version, plural)) or (items[0]["kind"] if items else "List")
        metadata = {"resourceVersion": "1", **({"continue": token} if token else {})}
        return {"apiVersion": api_version, "kind": f"{kind}List", "metadata": metadata, "items": items}

    def get(self, rec: ManagedCluster, api_version: str, plural: str, namespace: str, name: str) -> dict:
        for item in self.list(rec, api_version, plural, namespace or None,
                              {"fieldSelector": f"metadata.name={name}"})["items"]:
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
        if any(p == plural for _, p in KINDS):  # a built-in namespaced kind: no CRD decides it
            return False
        if plural == netpol.CLUSTERWIDE[1] and self.engine(rec) == "cilium":  # Cilium's own CRD: no scan
            return True
        return any(o.cluster == rec.key and o.plural == "customresourcedefinitions"
                   and ((o.body.get("spec") or {}).get("names") or {}).get("plural") == plural
                   and (o.body.get("spec") or {}).get("scope") == "Cluster" for o in self.objects.values())

    def _stored_namespace(self, rec: ManagedCluster, name: str) -> Optional[KubeObject]:
        return self.objects.get(self._key(rec.key, "v1", "namespaces", "", name))

    def _namespace(self, rec: ManagedCluster, name: str) -> dict:
        stored = self._stored_namespace(rec, name)
        if stored is not None:
            return copy.deepcopy(stored.body)
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": {"phase": "Active"}}

    def _has_namespace(self, rec: ManagedCluster, name: str) -> bool:
        return name in BUILT_IN_NAMESPACES or self._stored_namespace(rec, name) is not None

    def create(self, rec: ManagedCluster, api_version: str, plural: str, namespace: str, body,
               dry_run: bool = False) -> dict:
        """Create an object; with `dry_run` (`?dryRun=All`), everything but storing it."""
        self._finish_deletions(rec)
        self._check_served(rec, api_version, plural)
        return self._insert(rec, api_version, plural, namespace, body, dry_run=dry_run)

    def _insert(self, rec: ManagedCluster, api_version: str, plural: str, namespace: str, body,
                answer: bool = True, dry_run: bool = False) -> Optional[dict]:
        """Store a new object (what `create` does once due deletions are done) and, with `answer`, the object as a
        read gives it; without, no step scans every object, so that seeding thousands stays linear. With
        `dry_run`, the object is checked and answered, not stored."""
        if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
            raise status_error(400, "BadRequest", "the object has no metadata")
        name = body["metadata"].get("name") or (body["metadata"].get("generateName", "obj-") + uuid.uuid4().hex[:5])
        if plural == "nodes":
            raise status_error(405, "MethodNotAllowed", "nodes are the cluster's: they come from its node pools")
        scoped = self.cluster_scoped(rec, plural)
        if scoped:
            namespace = ""
        elif not self._has_namespace(rec, namespace):
            raise status_error(404, "NotFound", f'namespaces "{namespace}" not found')
        elif self._terminating(rec, namespace):
            raise status_error(403, "Forbidden", f'{plural} "{name}" is forbidden: unable to create new content in '
                               f'namespace {namespace} because it is being terminated')
        key = self._key(rec.key, api_version, plural, namespace, name)
        if key in self.objects or (plural == "namespaces" and self._has_namespace(rec, name)):
            raise status_error(409, "AlreadyExists", f'{plural} "{name}" already exists')
        if (api_version, plural) == ("apps/v1", "daemonsets"):
            invalid = admission.daemonset_invalid(name, body)
            if invalid:
                raise status_error(422, "Invalid", invalid)
        if (api_version, plural) == netpol.NETWORK_POLICIES:
            invalid = netpol.network_policy_invalid(name, body)
            if invalid:
                raise status_error(422, "Invalid", invalid)
        if (api_version, plural) == ("v1", "pods"):
            refusal = self._admission(rec, namespace, body.get("spec") or {})
            if refusal:
                raise status_error(403, "Forbidden", f'pods "{name}" is forbidden: {refusal}')
        stored = copy.deepcopy(body)
        stored.setdefault("apiVersion", api_version)
        stored.setdefault("kind", KINDS.get((api_version, plural), body.get("kind", "")))
        stored["metadata"].update(name=name, uid=str(uuid.uuid4()), creationTimestamp=_now(), resourceVersion="1")
        if plural in ("pods", "daemonsets"):  # when its containers started: how long they have run
            stored["metadata"]["annotations"] = {**(stored["metadata"].get("annotations") or {}),
                                                 "emulator/started-at": str(self.store.clock())}
        if scoped:
            stored["metadata"].pop("namespace", None)
        else:
            stored["metadata"]["namespace"] = namespace
        if plural == "namespaces":
            stored["status"] = {"phase": "Active"}
        if dry_run:  # as etcd gives it none: no resourceVersion
            stored["metadata"].pop("resourceVersion")
            return self._with_status(rec, stored, {node.name: node for node, _ in self.nodes(rec)},
                                     self.policies(rec) if plural == "pods" else None)
        self.objects[key] = KubeObject(cluster=key.split("|", 1)[0], api_version=api_version, plural=plural,
                                       namespace=namespace, body=stored)
        self.store.changed()
        if not answer:
            return None
        return self._with_status(rec, copy.deepcopy(stored), {node.name: node for node, _ in self.nodes(rec)},
                                 self.policies(rec) if plural == "pods" else None)

    def delete(self, rec: ManagedCluster, api_version: str, plural: str, namespace: str, name: str) -> dict:
        """Delete an object. A namespace goes through `Terminating` (its content is removed first, which takes
        `ClusterFacts.namespace_deletion_seconds`); the answer is the namespace as it now is, as the API server's."""
        self._finish_deletions(rec)
        self._check_served(rec, api_version, plural)
        key = self._key(rec.key, api_version, plural, namespace, name)
        found = self.objects.get(key)
        if found is None:
            raise status_error(404, "NotFound", f'{plural} "{name}" not found')
        if plural == "namespaces":
            meta = found.body["metadata"]
            if "deletionTimestamp" not in meta:
                meta["deletionTimestamp"] = _now()
                meta["annotations"] = {**(meta.get("annotations") or {}),
                                       "emulator/deleted-at": str(self.store.clock())}
                found.body["status"] = {"phase": "Terminating"}
                self.store.changed()
            self._finish_deletions(rec)
            gone = self._stored_namespace(rec, name) is None
            return {"kind": "Status", "apiVersion": "v1", "status": "Success", "details": {"name": name}} if gone \
                else copy.deepcopy(found.body)
        del self.objects[key]
        self.store.changed()
        return {"kind": "Status", "apiVersion": "v1", "status": "Success", "details": {"name": name}}

    def change(self, rec: ManagedCluster, api_version: str, plural: str, namespace: str, name: str,
               edit: Callable[[dict], dict], dry_run: bool = False) -> dict:
        """Replace a stored object by `edit(a copy of it)`, as a PATCH, a PUT or the scheduler's binding does: its
        name, namespace, uid and creation time stay, its resourceVersion goes up (a change that changes nothing
        is not written, as the API server skips it); the answer is the object as a read now gives it. A built-in
        namespace is stored at its first change. Nodes, DaemonSets' pods and the built-in Services are derived,
        not stored: a change to one is refused (405). With `dry_run`, the object as it would be, nothing
        stored."""
        self._finish_deletions(rec)
        self._check_served(rec, api_version, plural)
        if (api_version, plural) == ("v1", "nodes"):
            return self._change_node(rec, name, edit, dry_run)
        namespace = "" if self.cluster_scoped(rec, plural) else namespace
        key = self._key(rec.key, api_version, plural, namespace, name)
        found = self.objects.get(key)
        if found is None and plural == "namespaces" and name in BUILT_IN_NAMESPACES:
            body = self._namespace(rec, name)
            body["metadata"].update(uid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{rec.key}/{name}")),
                                    creationTimestamp=serving.CLUSTER_CREATED, resourceVersion="1")
            found = KubeObject(cluster=rec.key, api_version="v1", plural="namespaces", namespace="", body=body)
        if found is None:
            self.get(rec, api_version, plural, namespace, name)  # 404 when there is no such object at all
            raise status_error(405, "MethodNotAllowed", f'{plural} "{name}" is derived by the emulator (from the '
                               "node pools, a DaemonSet or the cluster itself): it keeps no change to it")
        before = found.body["metadata"]
        after = edit(copy.deepcopy(found.body))
        meta = after.get("metadata") if isinstance(after, dict) else None
        if not isinstance(meta, dict) or meta.get("name", name) != name:
            raise status_error(422, "Invalid", f'{KINDS.get((api_version, plural), plural)} "{name}" is invalid: '
                               "metadata.name: Invalid value: the name of an object cannot be changed")
        after["apiVersion"], after["kind"] = found.body.get("apiVersion"), found.body.get("kind")
        if (api_version, plural) == netpol.NETWORK_POLICIES:
            invalid = netpol.network_policy_invalid(name, after)
            if invalid:
                raise status_error(422, "Invalid", invalid)
        meta.update(name=name, uid=before.get("uid"), creationTimestamp=before.get("creationTimestamp"),
                    resourceVersion=before.get("resourceVersion"))
        if namespace:
            meta["namespace"] = namespace
        if after == found.body:  # a change that changes nothing is not written
            return self.get(rec, api_version, plural, namespace, name)
        if dry_run:  # nothing written: the resourceVersion read
            return self._with_status(rec, after, {node.name: node for node, _ in self.nodes(rec)},
                                     self.policies(rec) if plural == "pods" else None)
        meta["resourceVersion"] = str(int(before.get("resourceVersion") or 1) + 1)
        found.body = after
        self.objects[key] = found
        self.store.changed()
        return self.get(rec, api_version, plural, namespace, name)

    def _change_node(self, rec: ManagedCluster, name: str, edit: Callable[[dict], dict], dry_run: bool) -> dict:
        """A client's change of a node (kubectl cordon, drain, label, taint): kept as the node's facts, which the
        scheduler and every later read of the node follow."""
        addresses = serving.node_addresses(node.name for node, _ in self.nodes(rec))
        before = serving.complete(self.get(rec, "v1", "nodes", "", name), addresses)  # as the client read it
        after = edit(copy.deepcopy(before))
        try:
            kept = nodes_module.edits(before, after if isinstance(after, dict) else {}, name)
        except ValueError as e:
            raise status_error(405, "MethodNotAllowed", str(e)) from None
        if not dry_run:
            facts = self.facts.get(rec.key)
            if facts is None:
                facts = self.facts[rec.key] = ClusterFacts(cluster=rec.key)
            fact = facts.nodes.get(name, {})
            kept["labels"] = {k: v for k, v in {**(fact.get("labels") or {}), **kept["labels"]}.items()
                              if k not in kept["removedLabels"]}
            facts.nodes[name] = {**fact, **kept}
            self.store.changed()
            return self.get(rec, "v1", "nodes", "", name)
        return after

    def _terminating(self, rec: ManagedCluster, namespace: str) -> bool:
        stored = self._stored_namespace(rec, namespace)
        return stored is not None and "deletionTimestamp" in stored.body["metadata"]

    def _finish_deletions(self, rec: ManagedCluster) -> None:
        """Namespaces whose Terminating time is over go, with what was in them."""
        delay = self._facts(rec).namespace_deletion_seconds
        now = self.store.clock()
        for key, o in list(self.objects.items()):
            if o.cluster != rec.key or o.plural != "namespaces":
                continue
            deleted_at = ((o.body["metadata"].get("annotations") or {}).get("emulator/deleted-at"))
            if deleted_at is not None and now - float(deleted_at) >= delay:
                name = o.body["metadata"]["name"]
                for inner in [k for k, i in self.objects.items() if i.cluster == rec.key and i.namespace == name]:
                    del self.objects[inner]
                del self.objects[key]
                self.store.changed()

    def log(self, rec: ManagedCluster, namespace: str, name: str) -> str:
        pod = self.get(rec, "v1", "pods", namespace, name)
        codes = [((s.get("state") or {}).get("terminated") or (s.get("lastState") or {}).get("terminated") or {})
                 .get("exitCode") for s in (pod.get("status") or {}).get("containerStatuses") or []]
        if not codes or codes[0] is None:
            return ""
        return ('{"compute": {"azEnvironment": "AzurePublicCloud"}}' if codes[0] == 0
                else f"curl: ({codes[0]}) Connection timed out after 5001 milliseconds")

    # ---- what runs -------------------------------------------------------------------------------
    def _admission(self, rec: ManagedCluster, namespace: str, spec: dict) -> Optional[str]:
        labels = self._namespace(rec, namespace)["metadata"].get("labels") or {}
        facts = self._facts(rec)
        return admission.policy_refusal(facts.deny_host_network, spec) or admission.pod_security_refusal(
            labels, facts.pod_security, spec)

    def _daemon_pods(self, rec: ManagedCluster, namespace: Optional[str],
                     policies: Optional[netpol.Policies]) -> Tuple[List[dict], List[dict]]:
        """The pods the DaemonSet controller keeps (one per eligible node, each through admission) and its
        `FailedCreate` events for the pods admission refused; their connections under `policies`."""
        pods, events = [], []
        nodes = [(node, node.render(pool)) for node, pool in self.nodes(rec)]
        by_name = {node.name: node for node, _ in nodes}
        for o in list(self.objects.values()):
            if o.cluster != rec.key or o.plural != "daemonsets" or (namespace is not None and o.namespace != namespace):
                continue
            ds = o.body
            template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
            spec = template.get("spec") or {}
            tolerations = (spec.get("tolerations") or []) + workloads.DAEMONSET_TOLERATIONS
            refusal = self._admission(rec, o.namespace, spec)  # one template: one answer for every pod
            for node, rendered in nodes:
                if not workloads.node_matches(spec, rendered) or not all(
                        workloads.tolerates(tolerations, t) for t in (rendered.get("spec") or {}).get("taints") or []):
                    continue
                name = workloads.pod_name(ds["metadata"]["name"], node.name)
                if refusal:
                    events.append({"apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "FailedCreate",
                                   "metadata": {"name": f"{ds['metadata']['name']}.{name[-5:]}",
                                                "namespace": o.namespace},
                                   "involvedObject": {"kind": "DaemonSet", "name": ds["metadata"]["name"],
                                                      "namespace": o.namespace},
                                   "message": f'Error creating: pods "{name}" is forbidden: {refusal}'})
                    continue
                meta = {"name": name, "namespace": o.namespace,
                        "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                        "annotations": {"emulator/started-at": (ds["metadata"].get("annotations") or {}).get(
                            "emulator/started-at", "0")},
                        "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{rec.key}/{o.namespace}/{name}")),
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
                                             "name": ds["metadata"]["name"], "uid": ds["metadata"].get("uid", ""),
                                             "controller": True}]}
                pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                       "spec": {**spec, "nodeName": node.name, "restartPolicy": "Always",
                                "tolerations": tolerations}}
                pods.append(self._with_status(rec, pod, by_name, policies, scheduled_by_scheduler=True))
        return pods, events

    def _with_status(self, rec: ManagedCluster, body: dict, nodes: Dict[str, Node],
                     policies: Optional[netpol.Policies], scheduled_by_scheduler: bool = False) -> dict:
        """A pod with the status the scheduler and kubelet give it on `nodes` (by name), its connections under the
        cluster's network `policies`: workloads.pod_status."""
        if body.get("kind") != "Pod":
            return body
        node = nodes.get((body.get("spec") or {}).get("nodeName") or "")
        body["status"] = workloads.pod_status(body, node, self._facts(rec), self.store.clock(), scheduled_by_scheduler,
                                              policies)
        return body

    # ---- seeding ---------------------------------------------------------------------------------
    def seed(self, sub: str, rg: str, name: str, objects: list, facts: Optional[dict] = None) -> int:
        """Workloads as given (pods with owners, env and labels, service accounts, custom resources), and what the
        test says of the cluster (`facts`, ClusterFacts)."""
        with self.store.tx():
            rec = self.container_service.clusters.get(cluster_key(sub, rg, name))
            if rec is None:
                raise EmulatorError(400, "InvalidSeed", f"No cluster '{rg}/{name}' in the subscription '{sub}' to "
                                    "seed Kubernetes objects into.")
            if facts:
                current = dataclasses.asdict(self._facts(rec))
                current.update({ClusterFacts.SEED_KEYS[k]: v for k, v in facts.items()})
                self.facts[rec.key] = ClusterFacts(**current)
                self.store.changed()
            self._finish_deletions(rec)
            for body in objects:
                api_version, kind = body.get("apiVersion", "v1"), body.get("kind", "")
                plural = next((p for (v, p), k in KINDS.items() if v == api_version and k == kind), plural_of(kind))
                if (api_version, plural) == netpol.CLUSTERWIDE and self.engine(rec) != "cilium":
                    raise EmulatorError(400, "InvalidSeed", f"The cluster '{rg}/{name}' has no Cilium network "
                                        "dataplane, so no CiliumClusterwideNetworkPolicy CRD: set its "
                                        "networkProfile.networkDataplane to cilium to seed one.")
                namespace = "" if self.cluster_scoped(rec, plural) else body["metadata"].get("namespace", "default")
                if plural != "namespaces" and namespace and not self._has_namespace(rec, namespace):
                    self._insert(rec, "v1", "namespaces", "", {"metadata": {"name": namespace}}, answer=False)
                self._insert(rec, api_version, plural, namespace, body, answer=False)
            return len(objects)
