"""The OpenAPI v3 the API server publishes (`/openapi/v3`, `/openapi/v3/<group-version>`), reduced to what
`kubectl apply` needs, the same as one OpenAPI v2 (Swagger 2.0) document (`/openapi/v2`, which clients from before
v3 read), and the patch metadata the server's own strategic merge (patch.py) and server-side apply
(apply.py: list types and map keys, atomic objects) read from it.

What kubectl reads (Kubernetes API reference; kubectl's apply and validation): each group version's paths, whose
PATCH operation names its kind (`x-kubernetes-group-version-kind`), its `fieldValidation` query parameter (then
kubectl leaves validation to the server, `?fieldValidation=Strict`) and the patch media types of its request body
(with `application/strategic-merge-patch+json`, kubectl computes a strategic merge patch; without it, as for custom
resources, a JSON merge patch); and the schemas of components naming their kind, whose lists carry
`x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key` where the API merges them by key.

Schemas are given for the kinds users apply here: Namespace, ConfigMap, NetworkPolicy, Deployment, DaemonSet and
Pod (with the pod template), in the shape of the API reference but written down only as far as a field's type,
list semantics or patch strategy matter. A schema marked `x-kubernetes-preserve-unknown-fields` is not described
further (any field is accepted there); every other object's fields are complete, so that a field not listed is the
API server's strict-decoding error. Other built-in kinds have paths but no schema: kubectl then computes its patch
from its compiled-in types, as it does against a server without OpenAPI v3. Custom resources get their paths and an
open schema (merge patch and apply, no strategic merge), as the API server publishes a CRD without a structural
schema.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Dict, Iterable, List, Optional

STRATEGIC = "application/strategic-merge-patch+json"
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")
_REF = "#/components/schemas/"

# ---- building blocks ---------------------------------------------------------------------------------
STR = {"type": "string"}
INT = {"type": "integer", "format": "int32"}
LONG = {"type": "integer", "format": "int64"}
BOOL = {"type": "boolean"}
INT_OR_STR = {"x-kubernetes-int-or-string": True}
OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}  # not described here: anything goes
STR_MAP = {"type": "object", "additionalProperties": STR}


def ref(name: str) -> dict:
    return {"allOf": [{"$ref": _REF + name}], "default": {}}


def obj(required: Iterable[str] = (), **props) -> dict:
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = list(required)
    return out


def atomic(items: dict) -> dict:
    return {"type": "array", "items": items, "x-kubernetes-list-type": "atomic"}


def keyed(items: dict, key: str, retain: bool = False) -> dict:
    """A list the API merges by `key` (a strategic merge patch names items by it)."""
    return {"type": "array", "items": items, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [key],
            "x-kubernetes-patch-merge-key": key, "x-kubernetes-patch-strategy": "merge,retainKeys" if retain
            else "merge"}


def string_set() -> dict:
    """A list of strings the API merges as a set (finalizers)."""
    return {"type": "array", "items": STR, "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"}


META = "io.k8s.apimachinery.pkg.apis.meta.v1."
CORE = "io.k8s.api.core.v1."
APPS = "io.k8s.api.apps.v1."
NET = "io.k8s.api.networking.v1."


def _top(**props) -> dict:
    return obj(apiVersion=STR, kind=STR, metadata=ref(META + "ObjectMeta"), **props)


SCHEMAS: Dict[str, dict] = {
    META + "ObjectMeta": obj(
        annotations=STR_MAP, creationTimestamp=STR, deletionGracePeriodSeconds=LONG, deletionTimestamp=STR,
        finalizers=string_set(), generateName=STR, generation=LONG, labels=STR_MAP,
        managedFields=atomic(OPEN), name=STR, namespace=STR,
        ownerReferences=keyed(ref(META + "OwnerReference"), "uid"), resourceVersion=STR, selfLink=STR, uid=STR),
    META + "OwnerReference": obj(("apiVersion", "kind", "name", "uid"), apiVersion=STR, blockOwnerDeletion=BOOL,
                                 controller=BOOL, kind=STR, name=STR, uid=STR),
    META + "LabelSelector": {**obj(matchExpressions=atomic(ref(META + "LabelSelectorRequirement")),
                                   matchLabels=STR_MAP), "x-kubernetes-map-type": "atomic"},
    META + "LabelSelectorRequirement": obj(("key", "operator"), key=STR, operator=STR, values=atomic(STR)),
    # core/v1
    CORE + "Namespace": _top(spec=obj(finalizers=atomic(STR)), status=OPEN),
    CORE + "ConfigMap": _top(binaryData=STR_MAP, data=STR_MAP, immutable=BOOL),
    CORE + "Pod": _top(spec=ref(CORE + "PodSpec"), status=OPEN),
    CORE + "PodTemplateSpec": obj(metadata=ref(META + "ObjectMeta"), spec=ref(CORE + "PodSpec")),
    CORE + "PodSpec": obj(
        ("containers",), activeDeadlineSeconds=LONG, affinity=OPEN, automountServiceAccountToken=BOOL,
        containers=keyed(ref(CORE + "Container"), "name"), dnsConfig=OPEN, dnsPolicy=STR, enableServiceLinks=BOOL,
        ephemeralContainers=keyed(OPEN, "name"), hostAliases=keyed(OPEN, "ip"), hostIPC=BOOL, hostNetwork=BOOL,
        hostPID=BOOL, hostUsers=BOOL, hostname=STR, imagePullSecrets=keyed(OPEN, "name"),
        initContainers=keyed(ref(CORE + "Container"), "name"), nodeName=STR, nodeSelector=STR_MAP, os=OPEN,
        overhead=OPEN, preemptionPolicy=STR, priority=INT, priorityClassName=STR, readinessGates=atomic(OPEN),
        resourceClaims=keyed(OPEN, "name", retain=True), resources=OPEN, restartPolicy=STR, runtimeClassName=STR,
        schedulerName=STR, schedulingGates=keyed(OPEN, "name"), securityContext=OPEN, serviceAccount=STR,
        serviceAccountName=STR, setHostnameAsFQDN=BOOL, shareProcessNamespace=BOOL, subdomain=STR,
        terminationGracePeriodSeconds=LONG, tolerations=atomic(OPEN),
        topologySpreadConstraints=keyed(OPEN, "topologyKey"), volumes=keyed(OPEN, "name", retain=True)),
    CORE + "Container": obj(
        ("name",), args=atomic(STR), command=atomic(STR), env=keyed(ref(CORE + "EnvVar"), "name"),
        envFrom=atomic(OPEN), image=STR, imagePullPolicy=STR, lifecycle=OPEN, livenessProbe=OPEN, name=STR,
        ports=keyed(ref(CORE + "ContainerPort"), "containerPort"), readinessProbe=OPEN, resizePolicy=atomic(OPEN),
        resources=OPEN, restartPolicy=STR, securityContext=OPEN, startupProbe=OPEN, stdin=BOOL, stdinOnce=BOOL,
        terminationMessagePath=STR, terminationMessagePolicy=STR, tty=BOOL,
        volumeDevices=keyed(OPEN, "devicePath"), volumeMounts=keyed(OPEN, "mountPath"), workingDir=STR),
    CORE + "EnvVar": obj(("name",), name=STR, value=STR, valueFrom=OPEN),
    CORE + "ContainerPort": obj(("containerPort",), containerPort=INT, hostIP=STR, hostPort=INT, name=STR,
                                protocol=STR),
    # apps/v1
    APPS + "Deployment": _top(spec=ref(APPS + "DeploymentSpec"), status=OPEN),
    APPS + "DeploymentSpec": obj(
        ("selector", "template"), minReadySeconds=INT, paused=BOOL, progressDeadlineSeconds=INT, replicas=INT,
        revisionHistoryLimit=INT, selector=ref(META + "LabelSelector"),
        strategy={**OPEN, "x-kubernetes-patch-strategy": "retainKeys"}, template=ref(CORE + "PodTemplateSpec")),
    APPS + "DaemonSet": _top(spec=ref(APPS + "DaemonSetSpec"), status=OPEN),
    APPS + "DaemonSetSpec": obj(
        ("selector", "template"), minReadySeconds=INT, revisionHistoryLimit=INT,
        selector=ref(META + "LabelSelector"), template=ref(CORE + "PodTemplateSpec"), updateStrategy=OPEN),
    # networking.k8s.io/v1
    NET + "NetworkPolicy": _top(spec=ref(NET + "NetworkPolicySpec")),
    NET + "NetworkPolicySpec": obj(
        egress=atomic(ref(NET + "NetworkPolicyEgressRule")), ingress=atomic(ref(NET + "NetworkPolicyIngressRule")),
        podSelector=ref(META + "LabelSelector"), policyTypes=atomic(STR)),
    NET + "NetworkPolicyEgressRule": obj(ports=atomic(ref(NET + "NetworkPolicyPort")),
                                         to=atomic(ref(NET + "NetworkPolicyPeer"))),
    NET + "NetworkPolicyIngressRule": obj(ports=atomic(ref(NET + "NetworkPolicyPort")),
                                          **{"from": atomic(ref(NET + "NetworkPolicyPeer"))}),
    NET + "NetworkPolicyPeer": obj(ipBlock=ref(NET + "IPBlock"), namespaceSelector=ref(META + "LabelSelector"),
                                   podSelector=ref(META + "LabelSelector")),
    NET + "IPBlock": obj(("cidr",), cidr=STR, **{"except": atomic(STR)}),
    NET + "NetworkPolicyPort": obj(endPort=INT, port=INT_OR_STR, protocol=STR),
}
# A kind served without a schema here (a custom resource): its metadata is still an ObjectMeta.
OPEN_KIND = {**OPEN, "properties": {"apiVersion": STR, "kind": STR, "metadata": ref(META + "ObjectMeta")}}
# group/version -> kind -> the component describing it
KIND_SCHEMAS = {
    "v1": {"Namespace": CORE + "Namespace", "ConfigMap": CORE + "ConfigMap", "Pod": CORE + "Pod"},
    "apps/v1": {"Deployment": APPS + "Deployment", "DaemonSet": APPS + "DaemonSet"},
    "networking.k8s.io/v1": {"NetworkPolicy": NET + "NetworkPolicy"},
}
for _gv, _kinds in KIND_SCHEMAS.items():
    for _kind, _name in _kinds.items():
        _group, _, _version = _gv.rpartition("/")
        SCHEMAS[_name] = {**SCHEMAS[_name], "x-kubernetes-group-version-kind": [
            {"group": _group, "kind": _kind, "version": _version}]}


# ---- reading the schemas -----------------------------------------------------------------------------
class Schema:
    """One node of a schema, resolving references: what patch.py asks of a field (its sub-schema, its patch
    strategy and merge key) and what strict field validation asks (whether its fields are all listed)."""

    def __init__(self, node: Optional[dict]):
        while node and ("allOf" in node or "$ref" in node):
            target = node["allOf"][0]["$ref"] if "allOf" in node else node["$ref"]
            node = SCHEMAS.get(target[len(_REF):])
        self.node = node or {}

    def field(self, key: str) -> "Schema":
        props = self.node.get("properties")
        if props is not None:
            return Schema(props.get(key))
        return Schema(self.node.get("additionalProperties") if isinstance(
            self.node.get("additionalProperties"), dict) else None)

    def items(self) -> "Schema":
        return Schema(self.node.get("items"))

    @property
    def strategies(self) -> List[str]:
        return [s for s in (self.node.get("x-kubernetes-patch-strategy") or "").split(",") if s]

    @property
    def merge_key(self) -> Optional[str]:
        return self.node.get("x-kubernetes-patch-merge-key")

    @property
    def list_type(self) -> str:
        """`map` (merged by its map keys), `set`, or `atomic` (a list no schema describes is atomic)."""
        return self.node.get("x-kubernetes-list-type") or "atomic"

    @property
    def map_keys(self) -> List[str]:
        return self.node.get("x-kubernetes-list-map-keys") or []

    @property
    def atomic(self) -> bool:
        """An object replaced as a whole by an apply (a label selector), not merged field by field."""
        return self.node.get("x-kubernetes-map-type") == "atomic"

    @property
    def is_struct(self) -> bool:
        return "properties" in self.node

    def declares(self, key: str) -> bool:
        return key in (self.node.get("properties") or {})

    @property
    def closed(self) -> bool:
        """Whether every field of this object is listed: an unlisted one is unknown."""
        return "properties" in self.node and not self.node.get("x-kubernetes-preserve-unknown-fields")

    @property
    def is_map(self) -> bool:
        return "additionalProperties" in self.node


def schema_of(api_version: str, kind: str) -> Optional[Schema]:
    """The schema of a kind, None when none is served (patch.py then merges without keys)."""
    name = KIND_SCHEMAS.get(api_version, {}).get(kind)
    return Schema({"$ref": _REF + name}) if name else None


def unknown_fields(schema: Optional[Schema], body, path: str = "") -> List[str]:
    """The fields of `body` its schema does not declare (`spec.podSelectr`), as strict decoding finds them;
    strategic-merge directives (`$patch`, `$setElementOrder/...`) are not fields."""
    if schema is None or not isinstance(body, (dict, list)):
        return []
    if isinstance(body, list):
        return [f for item in body for f in unknown_fields(schema.items(), item, path)]
    found = []
    for key, value in body.items():
        if key.startswith("$"):
            continue
        where = f"{path}.{key}" if path else key
        if schema.closed and key not in schema.node["properties"]:
            found.append(where)
            continue
        found += unknown_fields(schema.field(key), value, where)
    return found


# ---- the documents -----------------------------------------------------------------------------------
def path_of(api_version: str) -> str:
    return f"api/{api_version}" if api_version == "v1" else f"apis/{api_version}"


def document(api_version: str, resources: List[dict], built_in: bool) -> dict:
    """`/openapi/v3/<api|apis>/<group-version>`: the paths of its resources (from discovery's list) and the
    schemas of its kinds."""
    group, _, version = api_version.rpartition("/")
    paths: Dict[str, dict] = {}
    used = set()
    known = dict(SCHEMAS)  # and the open schemas of this group version's custom kinds
    patch_types = (*PATCH_TYPES, STRATEGIC) if built_in else PATCH_TYPES
    for resource in resources:
        if "/" in resource["name"]:
            continue
        kind, verbs = resource["kind"], resource.get("verbs") or []
        gvk = {"group": group, "kind": kind, "version": version}
        component = KIND_SCHEMAS.get(api_version, {}).get(kind)
        if component:
            used.add(component)
        elif not built_in:
            component = f"{group}.{version}.{kind}"
            known.setdefault(component, {**OPEN_KIND, "x-kubernetes-group-version-kind": [gvk]})
            used.add(component)
        body = {"$ref": _REF + component} if component else OPEN
        base = "/" + path_of(api_version) + ("/namespaces/{namespace}" if resource.get("namespaced") else "")
        collection, item = f"{base}/{resource['name']}", f"{base}/{resource['name']}/{{name}}"

        write = ("dryRun", "fieldManager", "fieldValidation")
        wanted = [("create", collection, "post", ("application/json",), write),
                  ("list", collection, "get", (), ("labelSelector", "limit")), ("get", item, "get", (), ()),
                  ("update", item, "put", ("application/json",), write),
                  ("patch", item, "patch", patch_types, (*write, "force")), ("delete", item, "delete", (), ("dryRun",))]
        for verb, where, method, content_types, queries in wanted:
            if verb in verbs:
                action = {"create": "post", "update": "put"}.get(verb, verb)
                operations = paths.setdefault(where, {"parameters": [
                    {"name": n, "in": "path", "required": True, "schema": {**STR, "uniqueItems": True}}
                    for n in re.findall(r"{(\w+)}", where)]})
                operations[method] = _operation(kind, gvk, body, action, content_types, queries)
    schemas = {}
    pending = sorted(used)
    while pending:  # the components used, and those they refer to
        name = pending.pop()
        if name in schemas or name not in known:
            continue
        schemas[name] = known[name]
        pending += [r[len(_REF):] for r in _refs(known[name])]
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "unversioned"}, "paths": paths,
            "components": {"schemas": dict(sorted(schemas.items()))}}


def _operation(kind: str, gvk: dict, body: dict, action: str, content_types, queries) -> dict:
    """One operation of a path: its action and kind (what kubectl matches), its query parameters, the media types
    of its request body."""
    op = {"operationId": f"{action}{kind}", "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk,
          "parameters": [{"name": q, "in": "query", "schema": {**STR, "uniqueItems": True}} for q in queries],
          "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": body}}}}}
    if content_types:
        op["requestBody"] = {"required": True, "content": {
            t: {"schema": body if t == "application/json" else OPEN} for t in content_types}}
    return op


def _refs(node) -> List[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def index(documents: Dict[str, dict], prefix: str) -> dict:
    """`/openapi/v3`: each group version's document, at its server-relative address (with the server's path
    `prefix`, as client-go takes the address as the whole path) and a hash of its content."""
    paths = {}
    for api_version, doc in documents.items():
        digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest().upper()
        paths[path_of(api_version)] = {"serverRelativeURL": f"{prefix}/openapi/v3/{path_of(api_version)}"
                                                             f"?hash={digest}"}
    return {"paths": paths}


_V2_REF = "#/definitions/"


def _v2_schema(node):
    """A v3 schema as v2 writes it: references under `definitions`, a reference alone (v2 ignores what stands
    beside a `$ref`, so the v3 `allOf` wrapper is unwrapped)."""
    if isinstance(node, dict):
        if "allOf" in node and len(node["allOf"]) == 1 and "$ref" in node["allOf"][0]:
            return _v2_schema(node["allOf"][0])
        return {k: (_V2_REF + v[len(_REF):] if k == "$ref" else _v2_schema(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_v2_schema(v) for v in node]
    return node


def _v2_operation(op: dict) -> dict:
    out = {k: v for k, v in op.items() if k not in ("parameters", "requestBody", "responses")}
    out["parameters"] = [{"name": p["name"], "in": p["in"], "type": "string", "uniqueItems": True}
                         for p in op.get("parameters", [])]
    if "requestBody" in op:
        content = op["requestBody"]["content"]
        out["consumes"] = list(content)
        out["parameters"].insert(0, {"name": "body", "in": "body", "required": True, "schema": _v2_schema(
            content.get("application/json", {"schema": OPEN})["schema"])})
    out["produces"] = ["application/json", "application/yaml"]
    out["responses"] = {code: {"description": r["description"], "schema": _v2_schema(
        r["content"]["application/json"]["schema"])} for code, r in op["responses"].items()}
    return out


def swagger(documents: Dict[str, dict]) -> dict:
    """`/openapi/v2`: every group version's paths and schemas in one Swagger 2.0 document, as the API server
    publishes it beside v3."""
    paths, definitions = {}, {}
    for document in documents.values():
        for where, operations in document["paths"].items():
            paths[where] = {method: _v2_operation(op) for method, op in operations.items() if method != "parameters"}
            paths[where]["parameters"] = [{"name": p["name"], "in": p["in"], "required": p["required"],
                                           "type": "string", "uniqueItems": True} for p in operations["parameters"]]
        for name, schema in document["components"]["schemas"].items():
            definitions[name] = _v2_schema(schema)
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "unversioned"},
            "paths": dict(sorted(paths.items())), "definitions": dict(sorted(definitions.items()))}
