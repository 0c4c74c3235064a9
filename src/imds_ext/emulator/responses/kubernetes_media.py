"""Content negotiation of an emulated cluster's Kubernetes API, and the request bodies it reads: JSON (and, as JSON
is YAML, `application/yaml`) answered; the `as=Table;g=meta.k8s.io` media type of server-side printing recognized;
an Accept the emulator cannot answer (protobuf, CBOR only) a 406 and a request body it cannot read a 415, as from an
API server without that codec; applied configurations (YAML) and the protobuf bodies of the kinds
providers/kubernetes/protobuf.py decodes read as their JSON object."""
from __future__ import annotations

import json
from typing import List, Optional, Tuple

import yaml
from werkzeug.wrappers import Response

from imds_ext.emulator.providers.kubernetes import apply, patch, protobuf, status_error
from imds_ext.emulator.responses import json_response
from imds_ext.emulator.validation import MAX_BODY_BYTES

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
PATCH_TYPES = (*patch.TYPES, apply.APPLY)


def _media_ranges(header: Optional[str]) -> List[Tuple[str, dict]]:
    ranges = []
    for part in (header or "*/*").split(","):
        media, *params = [p.strip() for p in part.split(";")]
        ranges.append((media.lower(), dict(p.split("=", 1) for p in params if "=" in p)))
    return ranges


def negotiate(accept: Optional[str], resource: bool) -> Tuple[str, Optional[str]]:
    """(content type of the answer, Table version or None) for `accept`; a 406 when nothing in it is served.
    `resource`: a resource read, where server-side printing applies."""
    for media, params in _media_ranges(accept):
        if media not in (JSON, YAML, "application/*", "*/*"):
            continue
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            if resource:
                return JSON, params["v"]
            continue
        if params.get("as"):  # aggregated discovery, PartialObjectMetadata: not served
            continue
        return (YAML if media == YAML else JSON), None
    raise status_error(406, "NotAcceptable", f"only the following media types are accepted: {JSON}, {YAML}")


class _YamlLoader(yaml.SafeLoader):
    """YAML as the API server reads it (sigs.k8s.io/yaml): an unquoted date stays a string."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def body_type(ctx, method: str) -> Optional[str]:
    """The patch type of a PATCH. An applied configuration (YAML, or JSON, which is YAML) and a protobuf body of a
    kind providers/kubernetes/protobuf.py decodes are read as their JSON object from here on; any other body the
    emulator cannot read (CBOR, protobuf of other kinds) is a 415."""
    media = (ctx.request.mimetype or "").lower()
    if method == "PATCH":
        if media not in PATCH_TYPES:
            raise status_error(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                               f"accepted media types include: {', '.join(PATCH_TYPES)}")
        if media == apply.APPLY and (ctx.request.content_length or 0) <= MAX_BODY_BYTES:  # else json_body's 413
            try:
                decoded = json.dumps(yaml.load(ctx.request.get_data(cache=True) or b"", Loader=_YamlLoader))
            except (yaml.YAMLError, TypeError, ValueError) as e:  # TypeError: a YAML type JSON has not (binary)
                raise status_error(400, "BadRequest", f"error decoding YAML: {e}") from None
            ctx.request._cached_data = decoded.encode()
        return media
    unreadable = status_error(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                              f"accepted media types include: {JSON}, {YAML}, {PROTOBUF} (of "
                              f"{', '.join(protobuf.SCHEMAS)})")
    if media == PROTOBUF:
        try:
            decoded = protobuf.object_of(ctx.request.get_data(cache=True))
        except protobuf.ProtobufError:
            raise unreadable from None
        # The resource handler reads the body through json_body: it reads this JSON in place of the protobuf.
        ctx.request._cached_data = json.dumps(decoded).encode()
    elif media and media not in (JSON, YAML) and ctx.request.content_length:
        raise unreadable
    return None


def answer(body, status: int = 200, content_type: str = JSON) -> Response:
    response = json_response(body, status)
    response.headers["Content-Type"] = content_type
    return response
