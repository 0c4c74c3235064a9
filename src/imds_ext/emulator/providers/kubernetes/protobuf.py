"""Request bodies in the API server's protobuf encoding (Kubernetes API concepts, "Protobuf encoding"), which
kubectl's typed clients send for what they create (`kubectl create namespace|deployment|configmap|secret|
serviceaccount|job|cronjob|service`, `kubectl drain`'s evictions, `kubectl auth can-i`, `kubectl auth whoami`):
the `k8s\\0` envelope, a runtime.Unknown (its typeMeta and raw bytes), decoded to the JSON object by the fields
of k8s.io/api's `generated.proto` for the kinds in SCHEMAS.

The field numbers are those of `generated.proto`, each checked against what kubectl 1.33 sends for the fields its
`create` commands set (tests/emulator/test_kubectl.py compares the object made with kubectl's own `--dry-run=client
-o json`). The Go encoder writes every non-pointer field, zero or not: a zero value (an empty string or message, 0,
false) is left out of the JSON as `omitempty` leaves it, but for pointer fields (marked `*`), whose 0 was set. A
field not in the schema that holds anything is refused, as is a kind not listed (415, as from an API server without
that codec): the emulator never drops what a client sent. Answers are never protobuf: kubectl accepts JSON."""
from __future__ import annotations

import base64
from typing import Dict, Optional, Tuple

MAGIC = b"k8s\x00"

# field number -> (JSON name, type, schema of a message field). Types: string, bytes, int, bool (a trailing "*": a
# pointer, kept when zero), message, map (string to string), bytesmap (string to bytes, base64 in JSON),
# intorstr (IntOrString), and a trailing "[]" for a repeated field.
Schema = Dict[int, Tuple[str, str, Optional[dict]]]
OBJECT_META: Schema = {1: ("name", "string", None), 2: ("generateName", "string", None),
                       3: ("namespace", "string", None), 4: ("selfLink", "string", None),
                       5: ("uid", "string", None), 6: ("resourceVersion", "string", None),
                       7: ("generation", "int", None), 8: ("creationTimestamp", "message", {}),
                       11: ("labels", "map", None), 12: ("annotations", "map", None),
                       14: ("finalizers", "string[]", None)}
LABEL_SELECTOR: Schema = {1: ("matchLabels", "map", None)}
CONTAINER_PORT: Schema = {1: ("name", "string", None), 2: ("hostPort", "int", None),
                          3: ("containerPort", "int", None), 4: ("protocol", "string", None),
                          5: ("hostIP", "string", None)}
ENV_VAR: Schema = {1: ("name", "string", None), 2: ("value", "string", None)}
CONTAINER: Schema = {1: ("name", "string", None), 2: ("image", "string", None), 3: ("command", "string[]", None),
                     4: ("args", "string[]", None), 5: ("workingDir", "string", None),
                     6: ("ports", "message[]", CONTAINER_PORT), 7: ("env", "message[]", ENV_VAR),
                     8: ("resources", "message", {}), 13: ("terminationMessagePath", "string", None),
                     14: ("imagePullPolicy", "string", None), 16: ("stdin", "bool", None),
                     17: ("stdinOnce", "bool", None), 18: ("tty", "bool", None),
                     20: ("terminationMessagePolicy", "string", None)}
POD_SPEC: Schema = {2: ("containers", "message[]", CONTAINER), 3: ("restartPolicy", "string", None),
                    4: ("terminationGracePeriodSeconds", "int*", None), 6: ("dnsPolicy", "string", None),
                    7: ("nodeSelector", "map", None), 8: ("serviceAccountName", "string", None),
                    10: ("nodeName", "string", None), 11: ("hostNetwork", "bool", None),
                    12: ("hostPID", "bool", None), 13: ("hostIPC", "bool", None),
                    19: ("schedulerName", "string", None)}
POD_TEMPLATE: Schema = {1: ("metadata", "message", OBJECT_META), 2: ("spec", "message", POD_SPEC)}
JOB_SPEC: Schema = {1: ("parallelism", "int*", None), 2: ("completions", "int*", None),
                    3: ("activeDeadlineSeconds", "int*", None), 4: ("selector", "message", LABEL_SELECTOR),
                    6: ("template", "message", POD_TEMPLATE), 7: ("backoffLimit", "int*", None),
                    8: ("ttlSecondsAfterFinished", "int*", None)}
# What kubectl's create commands send as status: only zeros (an empty status), which the API server ignores.
STATUS: Schema = {}
RESOURCE_ATTRIBUTES: Schema = {1: ("namespace", "string", None), 2: ("verb", "string", None),
                               3: ("group", "string", None), 4: ("version", "string", None),
                               5: ("resource", "string", None), 6: ("subresource", "string", None),
                               7: ("name", "string", None)}
NON_RESOURCE_ATTRIBUTES: Schema = {1: ("path", "string", None), 2: ("verb", "string", None)}
SCHEMAS: Dict[str, Schema] = {
    "Namespace": {1: ("metadata", "message", OBJECT_META),
                  2: ("spec", "message", {1: ("finalizers", "string[]", None)}), 3: ("status", "message", STATUS)},
    "ConfigMap": {1: ("metadata", "message", OBJECT_META), 2: ("data", "map", None),
                  3: ("binaryData", "bytesmap", None), 4: ("immutable", "bool*", None)},
    "Secret": {1: ("metadata", "message", OBJECT_META), 2: ("data", "bytesmap", None), 3: ("type", "string", None),
               4: ("stringData", "map", None), 5: ("immutable", "bool*", None)},
    "ServiceAccount": {1: ("metadata", "message", OBJECT_META), 4: ("automountServiceAccountToken", "bool*", None)},
    "Deployment": {1: ("metadata", "message", OBJECT_META), 2: ("spec", "message", {
        1: ("replicas", "int*", None), 2: ("selector", "message", LABEL_SELECTOR),
        3: ("template", "message", POD_TEMPLATE), 4: ("strategy", "message", {1: ("type", "string", None)}),
        5: ("minReadySeconds", "int", None), 6: ("revisionHistoryLimit", "int*", None), 7: ("paused", "bool", None),
        9: ("progressDeadlineSeconds", "int*", None)}), 3: ("status", "message", STATUS)},
    "Job": {1: ("metadata", "message", OBJECT_META), 2: ("spec", "message", JOB_SPEC),
            3: ("status", "message", STATUS)},
    "CronJob": {1: ("metadata", "message", OBJECT_META), 2: ("spec", "message", {
        1: ("schedule", "string", None), 2: ("startingDeadlineSeconds", "int*", None),
        3: ("concurrencyPolicy", "string", None), 4: ("suspend", "bool*", None),
        5: ("jobTemplate", "message", {1: ("metadata", "message", OBJECT_META), 2: ("spec", "message", JOB_SPEC)}),
        6: ("successfulJobsHistoryLimit", "int*", None), 7: ("failedJobsHistoryLimit", "int*", None),
        8: ("timeZone", "string*", None)}), 3: ("status", "message", STATUS)},
    "Service": {1: ("metadata", "message", OBJECT_META), 2: ("spec", "message", {
        1: ("ports", "message[]", {1: ("name", "string", None), 2: ("protocol", "string", None),
                                   3: ("port", "int", None), 4: ("targetPort", "intorstr", None),
                                   5: ("nodePort", "int", None), 6: ("appProtocol", "string*", None)}),
        2: ("selector", "map", None), 3: ("clusterIP", "string", None), 4: ("type", "string", None),
        5: ("externalIPs", "string[]", None), 10: ("externalName", "string", None),
        12: ("healthCheckNodePort", "int", None), 13: ("publishNotReadyAddresses", "bool", None)}),
        3: ("status", "message", {1: ("loadBalancer", "message", {})})},
    # `kubectl drain` evicts a node's pods
    "Eviction": {1: ("metadata", "message", OBJECT_META), 2: ("deleteOptions", "message", {
        1: ("gracePeriodSeconds", "int*", None),
        2: ("preconditions", "message", {1: ("uid", "string*", None), 2: ("resourceVersion", "string*", None)}),
        3: ("orphanDependents", "bool*", None), 4: ("propagationPolicy", "string*", None),
        5: ("dryRun", "string[]", None)})},
    "SelfSubjectAccessReview": {1: ("metadata", "message", OBJECT_META), 2: ("spec", "message", {
        1: ("resourceAttributes", "message", RESOURCE_ATTRIBUTES),
        2: ("nonResourceAttributes", "message", NON_RESOURCE_ATTRIBUTES)}), 3: ("status", "message", STATUS)},
    "SelfSubjectRulesReview": {1: ("metadata", "message", OBJECT_META),
                               2: ("spec", "message", {1: ("namespace", "string", None)}),
                               3: ("status", "message", STATUS)},
    "SelfSubjectReview": {1: ("metadata", "message", OBJECT_META), 2: ("status", "message", STATUS)},
}
_TYPE_META: Schema = {1: ("apiVersion", "string", None), 2: ("kind", "string", None)}
_UNKNOWN: Schema = {1: ("typeMeta", "message", _TYPE_META), 2: ("raw", "bytes", None),
                    3: ("contentEncoding", "string", None), 4: ("contentType", "string", None)}
_MAP_ENTRY: Schema = {1: ("key", "string", None), 2: ("value", "bytes*", None)}
_INT_OR_STRING: Schema = {1: ("type", "int", None), 2: ("intVal", "int", None), 3: ("strVal", "string", None)}


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
            if at + size > len(data):
                raise ProtobufError("truncated field")
            value, at = int.from_bytes(data[at:at + size], "little"), at + size
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        yield number, wire, value


def _zero(wire: int, value) -> bool:
    """Whether a field holds the zero of its type: what the Go encoder writes for an unset non-pointer field (0, an
    empty string, a message of zeros)."""
    if wire != 2:
        return value == 0
    try:
        return all(_zero(w, v) for _, w, v in _fields(value))
    except ProtobufError:  # not a message: a string or bytes with something in them
        return False


def decode(data: bytes, schema: Schema, where: str = "") -> dict:
    out: dict = {}
    for number, wire, value in _fields(data):
        if number not in schema:
            if _zero(wire, value):
                continue
            raise ProtobufError(f"field {number} of {where or 'the object'} is not one the emulator decodes")
        name, kind, inner = schema[number]
        repeated, kind = kind.endswith("[]"), kind.removesuffix("[]")
        pointer, kind = kind.endswith("*"), kind.removesuffix("*")
        at = f"{where}.{name}" if where else name
        if kind in ("map", "bytesmap"):
            entry = decode(value, _MAP_ENTRY, at)
            item = entry.get("value", b"")
            out.setdefault(name, {})[entry.get("key", "")] = \
                base64.b64encode(item).decode() if kind == "bytesmap" else item.decode("utf-8", "replace")
            continue
        if kind != "message" and not pointer and not repeated and _zero(wire, value):
            continue  # omitempty (a message is left out when nothing in it is kept, below)
        if kind == "string":
            decoded = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        elif kind == "bytes":
            decoded = value
        elif kind == "bool":
            decoded = bool(value)
        elif kind == "int":
            decoded = value - (1 << 64) if value >= 1 << 63 else value  # a negative int's two's complement
        elif kind == "intorstr":
            parts = decode(value, _INT_OR_STRING, at)
            decoded = parts.get("strVal", "") if parts.get("type") == 1 else parts.get("intVal", 0)
        else:
            decoded = decode(value, inner or {}, at)
            if not decoded and not pointer and not repeated:
                continue
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
    obj = decode(unknown.get("raw") or b"", schema, type_meta["kind"])
    obj["apiVersion"], obj["kind"] = type_meta.get("apiVersion", ""), type_meta["kind"]
    return obj
