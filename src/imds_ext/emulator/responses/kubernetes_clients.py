"""The Kubernetes API of an emulated cluster as real clients (kubectl, client-go, the official Python client) use
it, around the resource handler of responses/kubernetes.py:

- `/version`, `/healthz`, `/livez`, `/readyz` (readable without a token, as the API server's
  system:public-info-viewer role has them; a token given must be valid), with or without a trailing slash;
- discovery (`/api`, `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`, providers/kubernetes/
  discovery.py), as plain `application/json`: a client asking for aggregated discovery first falls back to it;
- content negotiation and the bodies it reads (responses/kubernetes_media.py); server-side printing
  (providers/kubernetes/tables.py);
- objects completed as the API server and kubelet serve them (providers/kubernetes/serving.py);
- PATCH (merge, strategic merge, JSON patch: providers/kubernetes/patch.py) and PUT of stored objects;
- server-side apply (`application/apply-patch+yaml`, YAML or JSON; providers/kubernetes/apply.py), which creates
  the object when there is none, and the managed fields every create, PUT and PATCH records;
- a pod created without `nodeName` is bound to a node that fits, as the scheduler does;
- DELETE answers per kind: the pod, the Service, the namespace (Terminating) themselves, otherwise a `Status`;
- bounded watches (responses/kubernetes_watch.py);
- SelfSubjectAccessReview, SelfSubjectRulesReview and SelfSubjectReview (providers/kubernetes/reviews.py);
- every error as a Kubernetes `Status`.
"""
from __future__ import annotations

import copy
import functools
import json
from datetime import datetime, timezone
from typing import List, Optional, Tuple
from urllib.parse import quote

from werkzeug.wrappers import Response

from imds_ext.emulator.errors import EmulatorError
from imds_ext.emulator.providers.kubernetes import (
    KubernetesStatus, apply, openapi, patch, reviews, scale, serving, status_error, tables, workloads,
)
from imds_ext.emulator.providers.kubernetes.discovery import BUILT_IN, Discovery
from imds_ext.emulator.responses import json_body, kubernetes, kubernetes_media as media, kubernetes_watch

HEALTH = ("/healthz", "/livez", "/readyz")
HEALTH_CHECKS = ("ping", "log", "etcd", "poststarthook/start-apiserver-admission-initializer")
REVIEWS = {"/apis/authorization.k8s.io/v1/selfsubjectaccessreviews": "SelfSubjectAccessReview",
           "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews": "SelfSubjectRulesReview",
           "/apis/authentication.k8s.io/v1/selfsubjectreviews": "SelfSubjectReview"}
DELETE_ANSWERS_OBJECT = {"pods", "services", "namespaces"}  # the registries that return the object deleted
GRACE_SECONDS = 30
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
           406: "NotAcceptable", 409: "Conflict", 410: "Expired", 413: "RequestEntityTooLarge",
           415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests"}
FLAGS = {v: True for v in ("1", "t", "T", "true", "True", "TRUE")} | {
    v: False for v in ("0", "f", "F", "false", "False", "FALSE")}  # what Go's ParseBool reads


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_status(e: EmulatorError) -> KubernetesStatus:
    if isinstance(e, KubernetesStatus):
        return e
    return status_error(e.status, REASONS.get(e.status, "InternalError"), e.message)


# ---- access ----------------------------------------------------------------------------------------
def authenticate(ctx, sub, rg, cluster, anonymous: bool = False):
    """(cluster record, user) of the request (responses/kubernetes.authenticate); with `anonymous`, a request
    without any Authorization header is let through as `system:anonymous`."""
    if anonymous and not ctx.request.headers.get("Authorization"):
        try:
            return kubernetes.authenticate(ctx, sub, rg, cluster)
        except KubernetesStatus as e:
            if e.status != 401:
                raise
            return ctx.backend.container_service.cluster(sub, rg, cluster), "system:anonymous"
    return kubernetes.authenticate(ctx, sub, rg, cluster)


# ---- the handler -----------------------------------------------------------------------------------
def serve_at_root(ctx, path=None):
    """A Kubernetes path at the emulator's root (`kubectl get --raw /api/v1/nodes` drops the kubeconfig server's
    path): served as the API of the cluster whose local-account token the request carries."""
    try:
        with ctx.backend.store.tx():
            rec = ctx.backend.kubernetes.cluster_of_token(ctx.request.headers.get("Authorization"))
            where = (rec.subscription, rec.resource_group, rec.name)
    except EmulatorError as e:
        raise _as_status(e) from None
    return serve(ctx, *where, path=ctx.request.path)


def serve(ctx, sub, rg, cluster, path=None):
    try:
        return _serve(ctx, sub, rg, cluster, "/" + "/".join(p for p in (path or "").split("/") if p))
    except EmulatorError as e:
        raise _as_status(e) from None


def _serve(ctx, sub, rg, cluster, path: str):
    method = ctx.request.method
    store = ctx.backend.store
    if method == "GET" and (path == "/version" or path.split("/")[1:2] in (["healthz"], ["livez"], ["readyz"])):
        with store.tx():
            rec, _ = authenticate(ctx, sub, rg, cluster, anonymous=True)
            return _public(ctx, rec, path)
    parts = path.split("/")[1:]
    resource = parts[:2] == ["api", "v1"] and len(parts) >= 3 or parts[:1] == ["apis"] and len(parts) >= 4
    content_type, table_version = media.negotiate(ctx.request.headers.get("Accept"), resource)
    with store.tx():
        rec, user = authenticate(ctx, sub, rg, cluster)
        document = (_openapi(ctx, rec, path) if parts[:1] == ["openapi"] else _discovery(ctx, rec, path)) \
            if method == "GET" else None
        if document is not None:
            return media.answer(document, content_type=content_type)
        if method == "GET" and ctx.request.args.get("watch") not in (None, "", "0", "false"):
            return _watch(ctx, sub, rg, cluster, path, table_version)
        if method == "GET" and "/watch/" in path:  # the deprecated /api/v1/watch/... form
            return _watch(ctx, sub, rg, cluster, path.replace("/watch/", "/", 1), table_version)
        patch_type = media.body_type(ctx, method)
        if method == "POST" and path in REVIEWS:
            return media.answer(_review(ctx, rec, user, REVIEWS[path]), 201, content_type)
        _check_patch_options(ctx, method, patch_type)
        warnings = _field_validation(ctx, rec, path, patch_type) if method in ("POST", "PUT", "PATCH") and \
            resource else []
        if patch_type == apply.APPLY:
            return _warn(media.answer(*_server_side_apply(ctx, rec, user, path), content_type), warnings)
        if method in ("PATCH", "PUT"):
            return _warn(media.answer(_change(ctx, rec, user, path, patch_type), 200, content_type), warnings)
        if method == "DELETE":
            return _delete(ctx, sub, rg, cluster, rec, user, path, content_type)
        if method == "POST" and resource:
            _record_create(ctx, rec, path)
        response = kubernetes.api(ctx, sub, rg, cluster, path)
        if response.mimetype != media.JSON or response.status_code >= 300:
            return response
        body = json.loads(response.get_data())
        if method == "POST" and response.status_code == 201 and body.get("kind") == "Pod":
            _bind(ctx.backend.kubernetes, rec, body)
        body = _complete(ctx, rec, body, path)
        if table_version and method == "GET":
            body = _table(ctx, rec, body, table_version)
            content_type = _table_type(table_version)
        elif "items" in body:
            body = _list_items(body, path)
        return _warn(media.answer(body, response.status_code, content_type), warnings)


def _kind(ctx, rec, path: str) -> Tuple[str, str]:
    api_version, _, plural, _, _ = kubernetes._parse(path)
    return api_version, _discovery_of(ctx, rec).kind_of(api_version, plural) or ""


def _field_validation(ctx, rec, path: str, patch_type: Optional[str]) -> List[str]:
    """Server-side field validation (`?fieldValidation=`, what kubectl's default validation asks for once the
    OpenAPI says the server takes it): the fields of the body its kind's schema (openapi.py) does not declare.
    `Strict` refuses them (400, the strict decoding error), `Ignore` drops nothing and says nothing, `Warn` (the
    default) lets them through with a `Warning` header each. A JSON patch names paths, not fields: not checked."""
    mode = ctx.request.args.get("fieldValidation") or "Warn"
    if mode not in ("Strict", "Warn", "Ignore"):
        raise status_error(400, "BadRequest", f'fieldValidation must be one of "Ignore", "Warn" or "Strict", not '
                           f'"{mode}"')
    if mode == "Ignore" or patch_type == patch.JSON_PATCH:
        return []
    api_version, kind = _kind(ctx, rec, path)
    body = json_body(ctx, required=False)
    unknown = [f'unknown field "{f}"' for f in openapi.unknown_fields(openapi.schema_of(api_version, kind), body)]
    if unknown and mode == "Strict":
        version = api_version.rpartition("/")[2]
        raise status_error(400, "BadRequest", f'{kind} in version "{version}" cannot be handled as a {kind}: '
                           f"strict decoding error: {', '.join(unknown)}")
    return unknown


def _warn(response: Response, warnings: List[str]) -> Response:
    for warning in warnings:
        response.headers.add("Warning", '299 - "' + warning.replace('"', '\\"') + '"')
    return response


def _table_type(version: str) -> str:
    return f"{media.JSON};as=Table;v={version};g=meta.k8s.io"


def _public(ctx, rec, path: str) -> Response:
    if path == "/version":
        version = rec.properties.get("currentKubernetesVersion", "")
        major, minor = (version.split(".") + ["", ""])[:2]
        return media.answer({"major": major, "minor": minor, "gitVersion": f"v{version}",
                        "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                        "goVersion": "go1.24.4", "compiler": "gc", "platform": "linux/amd64"})
    check = path.split("/")[2] if path.count("/") >= 2 else None
    if check is not None and check not in HEALTH_CHECKS:
        raise status_error(404, "NotFound", "the server could not find the requested resource")
    if "verbose" in ctx.request.args:
        lines = [f"[+]{c} ok" for c in (HEALTH_CHECKS if check is None else (check,))]
        text = "\n".join(lines) + f"\n{path.split('/')[1]} check passed\n"
    else:
        text = "ok"
    return Response(text, mimetype="text/plain")


def _discovery_of(ctx, rec) -> Discovery:
    backend = ctx.backend.kubernetes
    objects = [o for o in backend.objects.values() if o.cluster == rec.key]
    return Discovery(backend.crds(rec), [(o.api_version, o.plural, o.body.get("kind", "")) for o in objects])


def _discovery(ctx, rec, path: str) -> Optional[dict]:
    parts = [p for p in path.split("/") if p]
    if not parts:
        return {"paths": ["/api", "/api/v1", "/apis", *(f"/apis/{gv}" for gv in _discovery_of(ctx, rec)
                                                          .group_versions()), *HEALTH, "/version"]}
    if parts == ["api"]:
        return Discovery.api_versions(ctx.request.host)
    if parts[:1] == ["api"] and len(parts) == 2 or parts[:1] == ["apis"] and len(parts) in (1, 2, 3):
        discovery = _discovery_of(ctx, rec)
        if parts == ["apis"]:
            return discovery.group_list()
        found = discovery.group(parts[1]) if len(parts) == 2 and parts[0] == "apis" else \
            discovery.resource_list("/".join(parts[1:]) if parts[0] == "apis" else parts[1])
        if found is None:
            raise status_error(404, "NotFound", "the server could not find the requested resource")
        return found
    return None


def _openapi(ctx, rec, path: str) -> dict:
    """`/openapi/v3`, each group version's document, and all of them as `/openapi/v2`
    (providers/kubernetes/openapi.py)."""
    parts = [p for p in path.split("/") if p]
    discovery = _discovery_of(ctx, rec)
    documents = {gv: openapi.document(gv, discovery.resources(gv) or [], gv in BUILT_IN)
                 for gv in ["v1", *discovery.group_versions()]}
    if parts == ["openapi", "v2"]:
        return openapi.swagger(documents)
    if parts == ["openapi", "v3"]:
        prefix = quote(ctx.request.path[:len(ctx.request.path.rstrip("/")) - len(path)])
        return openapi.index(documents, prefix)
    for api_version, document in documents.items():
        if parts[:2] == ["openapi", "v3"] and "/".join(parts[2:]) == openapi.path_of(api_version):
            return document
    raise status_error(404, "NotFound", "the server could not find the requested resource")


def _addresses(backend, rec) -> dict:
    return serving.node_addresses(node.name for node, _ in backend.nodes(rec))


def _complete(ctx, rec, body: dict, path: str) -> dict:
    addresses = _addresses(ctx.backend.kubernetes, rec)
    if "items" in body:
        for item in body["items"]:
            serving.complete(item, addresses)
        if body.get("kind") == "List":  # an empty list of a kind the back end does not name
            api_version, _, plural, _, _ = kubernetes._parse(path)
            kind = _discovery_of(ctx, rec).kind_of(api_version, plural)
            body["kind"] = f"{kind}List" if kind else "List"
        return body
    return serving.complete(body, addresses)


def _list_items(body: dict, path: str) -> dict:
    """A list's items as the API server encodes them. A built-in kind's list (PodList, DeploymentList, JobList,
    NetworkPolicyList, CustomResourceDefinitionList, ...) is a typed list: only the list carries `kind` and
    `apiVersion`, its items have neither (kubernetes/kubernetes#3030; kubernetes-client/python#745, #1617). A
    custom resource's list (CiliumClusterwideNetworkPolicyList, cert-manager's IssuerList) is the apiextensions
    server's UnstructuredList, whose items are each object's whole content, `apiVersion` and `kind` included
    (apimachinery's unstructured.UnstructuredList.UnstructuredContent; kyverno/kyverno#213: "for unstructured
    objects, the gvk is set"): they keep them. Single objects, watch events and Table rows keep theirs."""
    api_version, _, plural, _, _ = kubernetes._parse(path)
    if any(p == plural for p, *_ in BUILT_IN.get(api_version, [])):
        for item in body["items"]:
            item.pop("kind", None)
            item.pop("apiVersion", None)
    return body


def _table(ctx, rec, body: dict, version: str) -> dict:
    items = body["items"] if "items" in body else [body]
    kind = body["kind"][:-4] if "items" in body and body["kind"].endswith("List") else body.get("kind", "")
    metadata = body.get("metadata", {}) if "items" in body else {"resourceVersion": "1"}
    return tables.table(kind, items, metadata, ctx.backend.store.clock(), ctx.request.args.get(
        "includeObject", "Metadata"), version)


# ---- writes ------------------------------------------------------------------------------------------
def _bind(backend, rec, pod: dict) -> None:
    """The scheduler: a pod created without a node is bound to one that fits (workloads.schedule)."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return
    meta = pod["metadata"]
    node = workloads.schedule(meta["name"], spec, [(n, n.render(p)) for n, p in backend.nodes(rec)])
    if node is not None:
        backend.change(rec, "v1", "pods", meta.get("namespace", ""), meta["name"],
                       lambda body: {**body, "spec": {**(body.get("spec") or {}), "nodeName": node}})


def _manager(ctx) -> str:
    """The field manager of a write: `?fieldManager=`, else the program of the User-Agent (what precedes its first
    `/`, printable, at most 128 characters), as the API server names it."""
    given = ctx.request.args.get("fieldManager")
    if given:
        return given
    agent = (ctx.request.headers.get("User-Agent") or "").split("/")[0]
    return "".join(c for c in agent if c.isprintable())[:128]


def _check_patch_options(ctx, method: str, patch_type: Optional[str]) -> None:
    """The API server's validation of a PATCH's options: an apply names its manager, `force` is for applies."""
    if method != "PATCH":
        return
    causes = []
    if patch_type == apply.APPLY and not ctx.request.args.get("fieldManager"):
        causes.append(("FieldValueRequired", "fieldManager", "Required value: is required for apply patch"))
    if patch_type != apply.APPLY and "force" in ctx.request.args:
        causes.append(("FieldValueForbidden", "force", "Forbidden: may not be specified for non-apply patch"))
    if causes:
        said = [f"{field}: {text}" for _, field, text in causes]
        raise status_error(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: ' + (
            said[0] if len(said) == 1 else f"[{', '.join(said)}]"), {
            "group": "meta.k8s.io", "kind": "PatchOptions",
            "causes": [{"reason": reason, "message": text, "field": field} for reason, field, text in causes]})


def _record_create(ctx, rec, path: str) -> None:
    """A create's managed fields (apply.record_update), written into the body the resource handler then stores."""
    api_version, _, _, name, _ = kubernetes._parse(path)
    body = json_body(ctx, required=False)
    if name or not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
        return  # the resource handler's 405 or 400
    schema = openapi.schema_of(api_version, _kind(ctx, rec, path)[1])
    ctx.request._cached_data = json.dumps(apply.record_update(None, body, _manager(ctx), api_version, schema,
                                                               _now())).encode()


def _server_side_apply(ctx, rec, user, path: str) -> Tuple[dict, int]:
    """A server-side apply (apply.merge_applied): the object as the applied configuration and the other managers'
    fields make it, 200; created, 201, when there is none (the apply is then a create, with its permission)."""
    api_version, namespace, plural, name, sub_resource = kubernetes._parse(path)
    if not name or sub_resource:
        raise status_error(405, "MethodNotAllowed", f"{ctx.request.method} is not supported on {path}")
    backend = ctx.backend.kubernetes
    backend.authorize(rec, user, "patch", api_version, plural, namespace)
    applied = json_body(ctx)
    kind = _kind(ctx, rec, path)[1]
    _check_applied(applied, api_version, kind, name, namespace)
    args = ctx.request.args
    force = FLAGS.get(args.get("force") or "false")
    if force is None:
        raise status_error(400, "BadRequest", f'force: invalid boolean value "{args["force"]}"')
    merge = functools.partial(apply.merge_applied, applied=applied, manager=args["fieldManager"],
                              api_version=api_version, schema=openapi.schema_of(api_version, kind), force=force,
                              now=_now())
    dry_run = args.get("dryRun") == "All"
    try:
        try:
            backend.get(rec, api_version, plural, namespace, name)
        except KubernetesStatus as e:
            if e.status != 404:
                raise
            backend.authorize(rec, user, "create", api_version, plural, namespace)
            body = merge(None)
            body["metadata"].setdefault("name", name)
            kubernetes._check_names(plural, body)
            created = backend.create(rec, api_version, plural, namespace, body, dry_run=dry_run)
            if created.get("kind") == "Pod" and not dry_run:
                _bind(backend, rec, created)
                created = backend.get(rec, api_version, plural, namespace, name)
            return _complete(ctx, rec, created, path), 201
        changed = backend.change(rec, api_version, plural, namespace, name, merge, dry_run=dry_run)
        return _complete(ctx, rec, changed, path), 200
    except apply.Conflicts as e:
        raise status_error(409, "Conflict", str(e), {"causes": [
            {"reason": "FieldManagerConflict", "message": f"conflict with {apply.manager_name(entry)}",
             "field": apply.render(field)} for entry, field in e.conflicts]}) from None
    except apply.ApplyError as e:
        raise status_error(400, "BadRequest", str(e)) from None


def _check_applied(applied, api_version: str, kind: str, name: str, namespace: str) -> None:
    """The 400s of an applied configuration that is not this object's."""
    if not isinstance(applied, dict):
        raise status_error(400, "BadRequest", "error decoding YAML: an applied configuration is an object")
    if not applied.get("apiVersion") or not applied.get("kind"):
        missing = "Kind" if not applied.get("kind") else "apiVersion"
        raise status_error(400, "BadRequest", f"Object '{missing}' is missing in '{json.dumps(applied)}'")
    if applied["apiVersion"] != api_version:
        raise status_error(400, "BadRequest", "Incorrect version specified in apply patch. Specified patch "
                           f"version: {applied['apiVersion']}, expected: {api_version}")
    if kind and applied["kind"] != kind:
        raise status_error(400, "BadRequest", f"the kind of the object ({applied['kind']}) is not the kind of "
                           f"the URL ({kind})")
    meta = applied.get("metadata") if isinstance(applied.get("metadata"), dict) else {}
    if meta.get("name") and meta["name"] != name:
        raise status_error(400, "BadRequest", f"the name of the object ({meta['name']}) does not match the name "
                           f"on the URL ({name})")
    if namespace and meta.get("namespace") and meta["namespace"] != namespace:
        raise status_error(400, "BadRequest", f"the namespace of the object ({meta['namespace']}) does not match "
                           f"the namespace on the URL ({namespace})")


def _change(ctx, rec, user, path: str, patch_type: Optional[str]) -> dict:
    """A PUT or a PATCH other than an apply, with the manager's Update recorded in the managed fields; of a
    Deployment's (ReplicaSet's, StatefulSet's) Scale, the replicas it asks for written to the object."""
    api_version, namespace, plural, name, sub_resource = kubernetes._parse(path)
    scaling = sub_resource == "scale" and (api_version, plural) in scale.SCALABLE
    if not name or sub_resource and not scaling:
        raise status_error(405, "MethodNotAllowed", f"{ctx.request.method} is not supported on {path}")
    backend = ctx.backend.kubernetes
    backend.authorize(rec, user, "patch" if patch_type else "update", api_version,
                      f"{plural}/{sub_resource}" if sub_resource else plural, namespace)
    given = json_body(ctx)
    manager, now = _manager(ctx), _now()

    def edit(body: dict) -> dict:
        schema = openapi.schema_of(api_version, body.get("kind") or "")
        if not scaling:
            return apply.record_update(body, changed(body, schema), manager, api_version, schema, now)
        scaled = copy.deepcopy(body)
        scaled.setdefault("spec", {})["replicas"] = scale.replicas(changed(scale.of(body), None), name)
        return apply.record_update(body, scaled, manager, api_version, schema, now)

    def changed(body: dict, schema) -> dict:
        if patch_type is None:  # PUT: the whole object, at the resourceVersion it was read at
            version = ((given or {}).get("metadata") or {}).get("resourceVersion") if isinstance(given, dict) else None
            if version and version != body["metadata"].get("resourceVersion"):
                raise status_error(409, "Conflict", f'Operation cannot be fulfilled on {plural} "{name}": the '
                                   "object has been modified; please apply your changes to the latest version and "
                                   "try again")
            if not isinstance(given, dict):
                raise status_error(400, "BadRequest", "the body is not an object")
            return copy.deepcopy(given)
        try:
            return patch.apply(patch_type, body, given, schema)
        except patch.PatchError as e:
            raise status_error(422 if patch_type == patch.JSON_PATCH else 400,
                               "Invalid" if patch_type == patch.JSON_PATCH else "BadRequest", str(e)) from None

    result = backend.change(rec, api_version, plural, namespace, name, edit,
                            dry_run=ctx.request.args.get("dryRun") == "All")
    return scale.of(result) if scaling else _complete(ctx, rec, result, path)


def _delete(ctx, sub, rg, cluster, rec, user, path: str, content_type: str) -> Response:
    api_version, namespace, plural, name, _ = kubernetes._parse(path)
    backend = ctx.backend.kubernetes
    before = None
    if name and plural in DELETE_ANSWERS_OBJECT:
        backend.authorize(rec, user, "delete", api_version, plural, namespace)
        before = _complete(ctx, rec, backend.get(rec, api_version, plural, namespace, name), path)
    response = kubernetes.api(ctx, sub, rg, cluster, path)
    if response.status_code >= 300 or response.mimetype != media.JSON:
        return response
    answer = json.loads(response.get_data())
    if before is not None and answer.get("kind") == "Status":  # gone already: the object as it was deleted
        answer = before
        answer["metadata"].setdefault("deletionTimestamp", _now())
        if plural == "pods":
            answer["metadata"]["deletionGracePeriodSeconds"] = GRACE_SECONDS
        if plural == "namespaces":
            answer["spec"] = {"finalizers": ["kubernetes"]}
            answer["status"] = {"phase": "Terminating"}
    elif answer.get("kind") == "Status":
        group = api_version.split("/")[0] if "/" in api_version else ""
        answer.setdefault("metadata", {})
        answer["details"] = {"name": name, "group": group, "kind": plural, **answer.get("details", {})}
    else:
        answer = _complete(ctx, rec, answer, path)
    return media.answer(answer, 200, content_type)


def _review(ctx, rec, user, kind: str) -> dict:
    body = json_body(ctx)
    if not isinstance(body, dict):
        raise status_error(400, "BadRequest", "the review is not an object")
    rules = ctx.backend.kubernetes.user_rules(rec, user)
    if kind == "SelfSubjectAccessReview":
        status = reviews.access(rules, user, body.get("spec") or {})
    elif kind == "SelfSubjectRulesReview":
        status = reviews.rules(rules)
    else:
        status = reviews.user_info(user, rules is None)
    group = "authentication.k8s.io" if kind == "SelfSubjectReview" else "authorization.k8s.io"
    return {"kind": kind, "apiVersion": f"{group}/v1", "metadata": {"creationTimestamp": None},
            **({"spec": body.get("spec") or {}} if kind != "SelfSubjectReview" else {}), "status": status}


# ---- watch -------------------------------------------------------------------------------------------
def _watch(ctx, sub, rg, cluster, path: str, table_version: Optional[str]) -> Response:
    args = ctx.request.args
    api_version, namespace, plural, name, _ = kubernetes._parse(path)
    backend = ctx.backend.kubernetes
    query = {k: args[k] for k in ("labelSelector", "fieldSelector") if args.get(k)}
    if name:
        query["fieldSelector"] = ",".join(filter(None, [query.get("fieldSelector"), f"metadata.name={name}"]))

    def snapshot() -> list:
        with ctx.backend.store.tx():
            rec, user = authenticate(ctx, sub, rg, cluster)
            backend.authorize(rec, user, "watch", api_version, plural, namespace)
            scope = None if backend.cluster_scoped(rec, plural) or not namespace else namespace
            listed = backend.list(rec, api_version, plural, scope, dict(query))
            addresses = _addresses(backend, rec)
            return [serving.complete(item, addresses) for item in listed["items"]]

    def render(obj: dict) -> dict:
        if not table_version:
            return obj
        return tables.table(obj.get("kind", ""), [obj], {"resourceVersion": obj["metadata"].get("resourceVersion")},
                            ctx.backend.store.clock(), args.get("includeObject", "Metadata"), table_version)

    content_type = _table_type(table_version) if table_version else media.JSON
    return kubernetes_watch.stream(snapshot, render, kubernetes_watch.duration(args.get("timeoutSeconds")),
                                   args.get("resourceVersion") in (None, "", "0"), content_type)
