"""The Kubernetes API of an emulated cluster (providers/kubernetes.py): one handler that reads the Kubernetes path
(`/api/v1/...`, `/apis/<group>/<version>/...`) and maps it onto the back end. Discovery, `/version`, negotiation,
PATCH, watches and what clients expect of the answers are around it, in responses/kubernetes_clients.py."""
from __future__ import annotations

import re

from werkzeug.wrappers import Response

from imds_ext.emulator.errors import EmulatorError
from imds_ext.emulator.providers.containerservice.kubeconfig import AKS_SERVER_APP_ID
from imds_ext.emulator.providers.kubernetes import scale, status_error
from imds_ext.emulator.responses import json_body, json_response


def _parse(path: str):
    """(api_version, namespace, plural, name, subresource) of a Kubernetes resource path."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        api_version, rest = "v1", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        api_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
    else:
        raise status_error(404, "NotFound", f"the server could not find the requested resource ({path})")
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    elif rest[:1] == ["namespaces"] and len(rest) == 2:  # a namespace itself
        return api_version, "", "namespaces", rest[1], None
    if not rest:
        raise status_error(404, "NotFound", f"the server could not find the requested resource ({path})")
    return api_version, namespace, rest[0], rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None


def authenticate(ctx, sub, rg, cluster):
    """(cluster record, user) of the request, once its bearer token is one the cluster accepts."""
    def entra_token_valid(token: str) -> bool:
        try:
            ctx.app.tokens.validate(f"Bearer {token}", audiences=[AKS_SERVER_APP_ID])
            return True
        except EmulatorError:
            return False

    return ctx.backend.kubernetes.cluster(sub, rg, cluster, ctx.request.headers.get("Authorization"),
                                          entra_token_valid)


def api(ctx, sub, rg, cluster, path=None):
    path = path or ""
    backend = ctx.backend.kubernetes
    with ctx.backend.store.tx():
        rec, user = authenticate(ctx, sub, rg, cluster)
        api_version, namespace, plural, name, sub_resource = _parse(path)
        method = ctx.request.method
        verb = {"POST": "create", "DELETE": "delete"}.get(method) or ("get" if name else "list")
        backend.authorize(rec, user, verb, api_version, f"{plural}/{sub_resource}" if sub_resource else plural,
                          namespace)
        if method == "GET" and name and sub_resource == "log" and plural == "pods":
            return Response(backend.log(rec, namespace, name), mimetype="text/plain")
        if method == "GET" and name and sub_resource == "scale" and (api_version, plural) in scale.SCALABLE:
            return json_response(scale.of(backend.get(rec, api_version, plural, namespace, name)))
        if method == "GET" and name:
            return json_response(backend.get(rec, api_version, plural, namespace, name))
        if method == "GET":
            scope = None if backend.cluster_scoped(rec, plural) or not namespace else namespace
            return json_response(backend.list(rec, api_version, plural, scope, dict(ctx.request.args.items())))
        if method == "POST" and name and sub_resource == "eviction" and plural == "pods":
            return _evict(ctx, backend, rec, namespace, name)
        if method == "POST" and not name:
            body = json_body(ctx)
            _check_names(plural, body)
            return json_response(backend.create(rec, api_version, plural, namespace, body,
                                                dry_run=ctx.request.args.get("dryRun") == "All"), 201)
        if method == "DELETE" and name:
            return json_response(backend.delete(rec, api_version, plural, namespace, name))
        raise status_error(405, "MethodNotAllowed", f"{method} is not supported on {path}")


def _evict(ctx, backend, rec, namespace: str, name: str) -> Response:
    """An Eviction (policy/v1, `kubectl drain`): the pod deleted as a DELETE would, answered with the API server's
    201 Success `Status`. No PodDisruptionBudget is served, so none holds an eviction back."""
    body = json_body(ctx)
    if not isinstance(body, dict) or body.get("kind") not in (None, "Eviction") or \
            (body.get("metadata") or {}).get("name", name) != name:
        raise status_error(400, "BadRequest", f"name in URL does not match name in Eviction object ({name})")
    if ((body.get("deleteOptions") or {}).get("dryRun") or []) != ["All"]:
        backend.delete(rec, "v1", "pods", namespace, name)
    else:
        backend.get(rec, "v1", "pods", namespace, name)  # a dry run still needs the pod
    return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
                         201)


# Object names as the API server validates them (apimachinery): a namespace's is an RFC 1123 label, any other
# object's an RFC 1123 subdomain. (rule, longest, what the API server says of a name that breaks it)
_LABEL = (re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"), 63, "a lowercase RFC 1123 label must consist of lower case "
          "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
          "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
_SUBDOMAIN = (re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"), 253,
              "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
              "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
              "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def _check_names(plural: str, body) -> None:
    """The 422 Invalid the API server answers for a new object whose name (or namespace) breaks the naming rules,
    before the back end sees it: `../../x` names no object."""
    meta = body.get("metadata") if isinstance(body, dict) else None
    if not isinstance(meta, dict):
        return  # the back end's 400
    kind = body.get("kind") or plural
    checks = [("metadata.name", meta.get("name"), _LABEL if plural == "namespaces" else _SUBDOMAIN)]
    if plural != "namespaces":
        checks.append(("metadata.namespace", meta.get("namespace"), _LABEL))
    for field, value, (pattern, longest, rule) in checks:
        if value is None:
            continue  # not given: generateName, the path's namespace
        if not isinstance(value, str) or not pattern.fullmatch(value) or len(value) > longest:
            shown = value if isinstance(value, str) else ""
            reason = f"must be no more than {longest} characters" if pattern.fullmatch(shown) else rule
            raise status_error(422, "Invalid", f'{kind} "{shown}" is invalid: {field}: Invalid value: "{shown}": '
                               f"{reason}")
