"""PATCH as the API server applies it, for the kinds this slice stores: JSON merge patch (RFC 7386,
`application/merge-patch+json`), JSON patch (RFC 6902, `application/json-patch+json`) and strategic merge patch
(`application/strategic-merge-patch+json`), which merges the lists whose schema (openapi.py) gives a patch strategy
by their merge key (a pod's containers by name, finalizers as a set) and replaces every other list, with the
directives `$patch` (replace, delete, merge), `$retainKeys`, `$setElementOrder/<list>` and
`$deleteFromPrimitiveList/<list>`. A kind without a schema there is merged as a JSON merge patch without its
directives. Server-side apply is not modelled."""
from __future__ import annotations

import copy
from typing import Any, List

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
TYPES = (JSON_PATCH, MERGE, STRATEGIC)


class PatchError(ValueError):
    """A patch the API server refuses (its message); the HTTP layer answers 400 or 422."""


def merge(target: Any, patch: Any, strategic: bool = False) -> Any:
    """RFC 7386: objects merge key by key, `null` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if strategic and key.startswith("$"):
            continue
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value, strategic)
    return out


def strategic(target: Any, patch: Any, schema) -> Any:
    """A strategic merge patch of an object: `schema` (an openapi.Schema, or None: no list is merged by key)
    gives each field's patch strategy and merge key."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    out = dict(target) if isinstance(target, dict) else {}
    if isinstance(patch.get("$retainKeys"), list):
        out = {k: v for k, v in out.items() if k in patch["$retainKeys"]}
    orders = {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
        elif key.startswith("$deleteFromPrimitiveList/") and isinstance(value, list):
            field = key.split("/", 1)[1]
            if isinstance(out.get(field), list):
                out[field] = [v for v in out[field] if v not in value]
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        field = schema.field(key) if schema is not None else None
        if value is None or isinstance(value, dict) and value.get("$patch") == "delete":
            out.pop(key, None)
        elif isinstance(value, dict):
            out[key] = strategic(out.get(key), value, field)
        elif isinstance(value, list) and field is not None and "merge" in field.strategies:
            out[key] = _merge_list(out.get(key), value, field)
        else:
            out[key] = copy.deepcopy(value)
    for key, order in orders.items():
        if isinstance(out.get(key), list) and isinstance(order, list):
            out[key] = _ordered(out[key], order, schema.field(key).merge_key if schema is not None else None)
    return out


def _merge_list(target: Any, patch: List[Any], schema) -> List[Any]:
    """A list merged by its merge key (maps) or as a set (scalars)."""
    out = list(target) if isinstance(target, list) else []
    key = schema.merge_key
    if not key:  # a set of scalars: what the patch adds
        return out + [copy.deepcopy(v) for v in patch if v not in out]
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"the list merged by {key!r} has an item that is not an object: {item!r}")
        at = next((i for i, old in enumerate(out) if isinstance(old, dict) and old.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            out = [old for old in out if not (isinstance(old, dict) and old.get(key) == item.get(key))]
        elif at is None:
            out.append(strategic({}, item, schema.items()))
        else:
            out[at] = strategic(out[at], item, schema.items())
    return out


def _ordered(items: List[Any], order: List[Any], key) -> List[Any]:
    """`$setElementOrder`: the items it names in its order, then the others as they were."""
    def name(item):
        return item.get(key) if key and isinstance(item, dict) else item
    wanted = [name(o) if isinstance(o, dict) else o for o in order]
    first = sorted((i for i in items if name(i) in wanted), key=lambda i: wanted.index(name(i)))
    return first + [i for i in items if name(i) not in wanted]


def _pointer(path: str) -> List[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"the JSON pointer {path!r} does not start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, tokens: List[str], path: str):
    for token in tokens[:-1]:
        if isinstance(doc, dict) and token in doc:
            doc = doc[token]
        elif isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            doc = doc[int(token)]
        else:
            raise PatchError(f"doc is missing path: {path!r}")
    return doc


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise PatchError(f"doc is missing path: {path!r}")


def _remove(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    parent, last = _parent(doc, tokens, path), tokens[-1] if tokens else ""
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise PatchError(f"unable to remove nonexistent key: {last}: missing value")


def _add(doc: Any, path: str, value: Any, replace: bool = False) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError(f"replace operation does not apply: doc is missing key: {path}: missing value")
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise PatchError(f"index out of range: {path}")
    else:
        raise PatchError(f"doc is missing path: {path!r}")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: add, remove, replace, move, copy, test, in order, on a copy of `target`."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch is a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation: {op!r}")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace"):
            if "value" not in op:
                raise PatchError(f"{kind} operation on {path!r} has no value")
            doc = _add(doc, path, copy.deepcopy(op["value"]), replace=kind == "replace")
        elif kind == "remove":
            _remove(doc, path)
        elif kind in ("move", "copy"):
            value = _remove(doc, op.get("from", "")) if kind == "move" else copy.deepcopy(_get(doc, op.get("from", "")))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise PatchError(f"testing value {path} failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc


def apply(content_type: str, target: dict, patch: Any, schema=None) -> dict:
    """`target` with `patch` of `content_type` (one of TYPES) applied, as a new object; `schema` (openapi.Schema)
    the kind's, for a strategic merge."""
    if content_type == JSON_PATCH:
        out = json_patch(target, patch)
    elif content_type in (MERGE, STRATEGIC):
        if not isinstance(patch, dict):
            raise PatchError("a merge patch is a JSON object")
        out = strategic(target, patch, schema) if content_type == STRATEGIC and schema is not None else merge(
            target, patch, strategic=content_type == STRATEGIC)
    else:
        raise PatchError(f"the patch type {content_type!r} is not supported")
    if not isinstance(out, dict):
        raise PatchError("the patched object is not a JSON object")
    return out
