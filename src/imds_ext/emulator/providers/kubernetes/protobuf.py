"""Request bodies in the API server's protobuf encoding (Kubernetes API concepts, "Protobuf encoding"), which
kubectl's typed clients send for what they create (`kubectl create namespace`, `kubectl auth can-i`,
`kubectl auth whoami`): the `k8s\\0` envelope, a runtime.Unknown (its typeMeta and raw bytes), decoded to the
JSON object by the fields of `generated.proto` for the kinds in SCHEMAS. A kind not listed is refused as an API
server without that codec refuses it (415). Answers are never protobuf: kubectl accepts JSON in their place."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

MAGIC = b"k8s\x00"

# field number -> (JSON name, type, schema of a message field); types: string, int, bool, message, map, and a
# trailing "[]" for a repeated field
Schema = Dict[int, Tuple[str, str, Optional[dict]]]
OBJECT_META: Schema = {1: ("name", "string", None), 2: ("generateName", "string", None),
                       3: ("namespace", "string", None), 11: ("labels", "map", None),
                       12: ("annotations", "map", None)}
RESOURCE_ATTRIBUTES: Schema = {1: ("namespace", "string", None), 2: ("verb", "string", None),
                               3: ("group", "string", None), 4: ("version", "string", None),
                               5: ("resource", "string", None), 6: ("subresource", "string", None),
                               7: ("name", "string", None)}
NON_RESOURCE_ATTRIBUTES: Schema = {1: ("path", "string", None), 2: ("verb", "string", None)}
SCHEMAS: Dict[str, Schema] = {
    "Namespace": {1: ("metadata", "message", OBJECT_META),
                  2: ("spec", "message", {1: ("finalizers", "string[]", None)})},
    "SelfSubjectAccessReview": {1: ("metadata", "message", OBJECT_META), 2: ("spec", "message", {
        1: ("resourceAttributes", "message", RESOURCE_ATTRIBUTES),
        2: ("nonResourceAttributes", "message", NON_RESOURCE_ATTRIBUTES)})},
    "SelfSubjectRulesReview": {1: ("metadata", "message", OBJECT_META),
                               2: ("spec", "message", {1: ("namespace", "string", None)})},
    "SelfSubjectReview": {1: ("metadata", "message", OBJECT_META)},
}
_TYPE_META: Schema = {1: ("apiVersion", "string", None), 2: ("kind", "string", None)}
_UNKNOWN: Schema = {1: ("typeMeta", "message", _TYPE_META), 2: ("raw", "bytes", None),
                    3: ("contentEncoding", "string", None), 4: ("contentType", "string", None)}
_MAP_ENTRY: Schema = {1: ("key", "string", None), 2: ("value", "string", None)}


class ProtobufError(ValueError):
    """A body that is not the protobuf of a kind the emulator decodes."""


def _varint(data: bytes, at: int) -> Tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ProtobufError("truncated varint")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7


def _fields(data: bytes):
    """(field number, wire type, value) of each field: an int for varints, bytes for length-delimited fields."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise ProtobufError("truncated field")
            value, at = data[at:at + size], at + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, at = int.from_bytes(data[at:at + size], "little"), at + size
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        yield number, wire, value


def decode(data: bytes, schema: Schema) -> dict:
    out: dict = {}
    for number, _, value in _fields(data):
        if number not in schema:
            continue  # a field this slice does not read
        name, kind, inner = schema[number]
        repeated = kind.endswith("[]")
        kind = kind.rstrip("[]")
        if kind == "map":
            entry = decode(value, _MAP_ENTRY)
            out.setdefault(name, {})[entry.get("key", "")] = entry.get("value", "")
            continue
        if kind == "string":
            decoded = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        elif kind == "bytes":
            decoded = value
        elif kind == "bool":
            decoded = bool(value)
        elif kind == "int":
            decoded = int(value)
        else:
            decoded = decode(value, inner or {})
        if repeated:
            out.setdefault(name, []).append(decoded)
        else:
            out[name] = decoded
    return out


def object_of(body: bytes) -> dict:
    """The JSON object of a protobuf request body; ProtobufError when it is not one the emulator decodes."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body does not start with the protobuf envelope's magic number")
    unknown = decode(body[len(MAGIC):], _UNKNOWN)
    type_meta = unknown.get("typeMeta") or {}
    schema = SCHEMAS.get(type_meta.get("kind", ""))
    if schema is None:
        raise ProtobufError(f"no protobuf decoding of {type_meta.get('kind') or 'this kind'}")
    obj = decode(unknown.get("raw") or b"", schema)
    obj["apiVersion"], obj["kind"] = type_meta.get("apiVersion", ""), type_meta["kind"]
    return obj
