"""Field management as the API server keeps it (Kubernetes "Server-Side Apply"): `metadata.managedFields`, one
entry per manager and operation (`Apply`, `Update`) with the fields it owns as `FieldsV1`, and server-side apply
(`application/apply-patch+yaml`) merged by those rules.

- An Update (create, PUT, any other PATCH) takes the fields it adds or changes from every other manager and owns
  them; the fields it removes leave its own set. Managed fields given in the request replace the stored ones (an
  empty list keeps them, `[{}]` clears them), as the API server lets clients edit them.
- An Apply merges the applied configuration into the live object by the kind's schema (openapi.py): objects field
  by field, lists of type `map` item by item by their `x-kubernetes-list-map-keys`, `set` lists as a union, every
  other list and `x-kubernetes-map-type: atomic` object as a whole. A field it changes that another manager owns is
  a conflict (409) unless forced, which moves the field to the applier. Its set is what it applied; a field it
  applied before and omits now is removed unless another manager still owns it (or something under it).
- An object without managed fields (seeded, or made before the API server tracked them) first gets them all under
  `before-first-apply`, so that an apply that changes them conflicts as on a real cluster.
- The upgrade from client-side apply: an apply by `kubectl` does not conflict on the fields the object's
  `last-applied-configuration` set and that still have its values (the fields of `kubectl apply` before
  `--server-side`), and rewrites that annotation to what it applied.

A set holds paths: an object's field (`f:name`), a keyed list's item (`k:{"name":"c"}`), a set's value
(`v:"x"`). Applied sets name the leaves and the keyed items; an Update also owns the maps and items it creates
(`.` in FieldsV1). Not modelled: managers of subresources (`/status`, `/scale`),
conversion between versions (each kind is served in one), defaulted fields (the emulator adds defaults when an
object is read, not stored).
"""
from __future__ import annotations

import copy
import json
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from imds_ext.emulator.providers.kubernetes.openapi import OPEN_KIND, Schema

APPLY = "application/apply-patch+yaml"
FIRST = "before-first-apply"
MAX_UPDATE_MANAGERS = 10  # apimachinery's fieldmanager DefaultMaxUpdateManagers
ANCIENT = "ancient-changes"
KUBECTL = "kubectl"  # `kubectl apply --server-side`'s manager, which takes over what client-side apply set
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# What the API server sets itself: no manager owns it (the field manager strips them from every set).
SERVER_SET = {"name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
              "managedFields", "resourceVersion"}

Element = Tuple[str, str]  # ("f", field name) | ("k", item key as canonical JSON) | ("v", set value as JSON)
Path = Tuple[Element, ...]
LEAF, MAP, STRUCT, LIST, ITEM = "leaf", "map", "struct", "list", "item"


class ApplyError(ValueError):
    """An applied configuration or managed fields the API server refuses (400)."""


class Conflicts(Exception):
    """Fields an apply would change that other managers own: [(their entry, path)]."""

    def __init__(self, conflicts: List[Tuple[dict, Path]]):
        super().__init__(message(conflicts))
        self.conflicts = conflicts


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# ---- the paths of an object -----------------------------------------------------------------------
def _item_element(item: Any, schema: Schema, where: Path) -> Element:
    keys = schema.map_keys
    if not isinstance(item, dict) or any(k not in item for k in keys):
        missing = next((k for k in keys if not isinstance(item, dict) or k not in item), keys[0])
        raise ApplyError(f"{render(where)}: associative list with keys has an element that omits key field "
                         f'"{missing}" (and doesn\'t have default value)')
    return ("k", _json({k: item[k] for k in keys}))


def _walk(value: Any, schema: Schema, path: Path, out: Dict[Path, Tuple[str, Any, bool]], declared: bool) -> None:
    """path -> (what it is, its value if a leaf, whether an applied set names it). `declared`: the path is a
    field its parent's schema lists (a struct's field is owned through its leaves, a map's entry itself)."""
    if isinstance(value, dict) and not schema.atomic:
        out[path] = (STRUCT if schema.is_struct else MAP, None, not value or not declared)
        for key, child in value.items():
            if path == () and key in ("apiVersion", "kind") or path == (("f", "metadata"),) and key in SERVER_SET:
                continue
            _walk(child, schema.field(key), path + (("f", key),), out, schema.declares(key))
    elif isinstance(value, list) and schema.list_type in ("map", "set"):
        out[path] = (LIST, None, not declared)
        seen = set()
        for item in value:
            element = _item_element(item, schema, path) if schema.list_type == "map" else ("v", _json(item))
            if element in seen:
                raise ApplyError(f"{render(path)}: duplicate entries for key {render((element,))}")
            seen.add(element)
            if schema.list_type == "map":
                _walk(item, schema.items(), path + (element,), out, False)
                out[path + (element,)] = (ITEM, None, True)
            else:
                out[path + (element,)] = (LEAF, item, True)
    else:
        out[path] = (LEAF, value, True)


def paths(obj: Optional[dict], schema: Optional[Schema]) -> Dict[Path, Tuple[str, Any, bool]]:
    out: Dict[Path, Tuple[str, Any, bool]] = {}
    if isinstance(obj, dict):
        _walk(obj, schema or Schema(OPEN_KIND), (), out, True)
        out.pop((), None)
    return out


def applied_set(obj: dict, schema: Optional[Schema]) -> Set[Path]:
    """The fields an applied configuration sets: its leaves, keyed items, empty objects and map entries."""
    return {p for p, (_, _, member) in paths(obj, schema).items() if member}


def _compare(before: Dict[Path, tuple], after: Dict[Path, tuple]) -> Tuple[Set[Path], Set[Path], Set[Path]]:
    """(added, modified, removed) from one object's paths to another's."""
    added = set(after) - set(before)
    removed = set(before) - set(after)
    modified = {p for p in set(after) & set(before) if after[p][0] != before[p][0] or after[p][0] == LEAF and (
        type(after[p][1]) is not type(before[p][1]) or after[p][1] != before[p][1])}  # JSON's true is not 1
    return added, modified, removed


def _owned_by_update(path_info: Dict[Path, tuple], changed: Iterable[Path]) -> Set[Path]:
    """What an Update owns of what it changed: leaves, the maps and items it made (not structs or lists)."""
    return {p for p in changed if p in path_info and path_info[p][0] in (LEAF, MAP, ITEM)}


# ---- FieldsV1 ----------------------------------------------------------------------------------------
def encode(fields: Iterable[Path]) -> dict:
    """A set as FieldsV1: nested objects by path element, `.` where a path with children is itself owned."""
    tree: dict = {}
    for path in sorted(fields):
        node = tree
        for kind, name in path:
            node = node.setdefault(f"{kind}:{name}", {})
        node["."] = {}
    return _tidy(tree)


def _tidy(node: dict) -> dict:
    children = {k: _tidy(v) for k, v in node.items() if k != "."}
    if not children:
        return {}
    return dict(sorted(({".": {}} if "." in node else {}).items())) | dict(sorted(children.items()))


def decode(fields: Any, path: Path = ()) -> Set[Path]:
    if not isinstance(fields, dict):
        raise ApplyError(f"invalid fieldsV1 at {render(path) or '.'}: not an object")
    out: Set[Path] = set()
    if not fields and path:
        out.add(path)
    for key, child in fields.items():
        if key == ".":
            out.add(path)
            continue
        kind, sep, name = key.partition(":")
        if not sep or kind not in ("f", "k", "v", "i"):
            raise ApplyError(f'invalid fieldsV1 key "{key}"')
        if kind in ("k", "v"):
            try:
                name = _json(json.loads(name))
            except ValueError:
                raise ApplyError(f'invalid fieldsV1 key "{key}"') from None
        out |= decode(child, path + ((kind, name),))
    return out


def render(path: Path) -> str:
    """A path as the API server prints it in a conflict: `.spec.template.spec.containers[name="c"].image`."""
    text = ""
    for kind, name in path:
        if kind == "f":
            text += f".{name}"
        elif kind == "k":
            text += "[" + ",".join(f"{k}={_json(v)}" for k, v in json.loads(name).items()) + "]"
        elif kind == "v":
            text += f"[={name}]"
        else:
            text += f"[{name}]"
    return text


# ---- the entries ---------------------------------------------------------------------------------
def _identity(entry: dict) -> tuple:
    # An applier is one manager whatever version it applied in; an updater is one per version.
    version = "" if entry.get("operation") == "Apply" else entry.get("apiVersion", "")
    return entry.get("manager", ""), entry.get("operation", ""), version, entry.get("subresource", "")


def _decoded(entries: Any) -> Optional[List[Tuple[dict, Set[Path]]]]:
    """The entries with their sets; None when they cannot be read (the API server then keeps the live ones)."""
    if not isinstance(entries, list):
        return None
    try:
        return [(e, decode(e.get("fieldsV1") or {})) for e in entries if isinstance(e, dict)] \
            if all(isinstance(e, dict) for e in entries) else None
    except ApplyError:
        return None


def _managers(live: Optional[dict], new: Optional[dict]) -> List[Tuple[dict, Set[Path]]]:
    """The managers a write starts from: those the request gives, else the live object's."""
    given = ((new or {}).get("metadata") or {}).get("managedFields")
    if given == [{}]:  # the documented way to clear them
        return []
    decoded = _decoded(given) if given else None
    if decoded:
        return decoded
    return _decoded(((live or {}).get("metadata") or {}).get("managedFields") or []) or []


def _written(obj: dict, managers: List[Tuple[dict, Set[Path]]]) -> dict:
    entries = [{**entry, "fieldsType": "FieldsV1", "fieldsV1": encode(fields)} for entry, fields in managers
               if fields]
    entries.sort(key=lambda e: (e.get("operation", ""), e.get("time") or "", e.get("manager", ""),
                                e.get("apiVersion", "")))
    meta = obj.setdefault("metadata", {})
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)
    return obj


def _own(managers: List[Tuple[dict, Set[Path]]], entry: dict, fields: Set[Path], now: str) -> None:
    """Give `entry`'s manager `fields`, stamped `now` when they changed."""
    for i, (old, old_fields) in enumerate(managers):
        if _identity(old) == _identity(entry):
            managers[i] = ({**old, **entry, "time": now if fields != old_fields else old.get("time", now)}, fields)
            return
    managers.append(({**entry, "time": now}, fields))


def record_update(live: Optional[dict], new: dict, manager: str, api_version: str, schema: Optional[Schema],
                  now: str) -> dict:
    """`new` (a create when `live` is None, else what a PUT or PATCH made of `live`) with its managed fields. An
    object the schema cannot type (a keyed list's item without its key) keeps the managers it had, as the API
    server writes it without updating them."""
    managers = _managers(live, new)
    try:
        before, after = paths(live, schema), paths(new, schema)
    except ApplyError:
        return _written(new, managers)
    added, modified, removed = _compare(before, after)
    changed = added | modified
    managers = [(e, f - changed) for e, f in managers]
    entry = {"manager": manager, "operation": "Update", "apiVersion": api_version}
    mine = next((f for e, f in managers if _identity(e) == _identity(entry)), set())
    _own(managers, entry, (mine - removed) | _owned_by_update(after, changed), now)
    return _written(new, _capped(managers))


def _capped(managers: List[Tuple[dict, Set[Path]]]) -> List[Tuple[dict, Set[Path]]]:
    """At most MAX_UPDATE_MANAGERS Update entries, as the API server keeps them (apimachinery's field manager caps
    them): beyond, the oldest are merged into one `ancient-changes` entry that owns what they owned."""
    updates = sorted((m for m in managers if m[0].get("operation") == "Update" and m[1]),
                     key=lambda m: m[0].get("time") or "")
    if len(updates) <= MAX_UPDATE_MANAGERS:
        return managers
    oldest = updates[:len(updates) - MAX_UPDATE_MANAGERS + 1]
    newest = oldest[-1][0]
    merged = ({"manager": ANCIENT, "operation": "Update", "apiVersion": newest.get("apiVersion", ""),
               "time": newest.get("time")}, set().union(*(f for _, f in oldest)))
    gone = {id(e) for e, _ in oldest}
    return [m for m in managers if id(m[0]) not in gone] + [merged]


# ---- apply -----------------------------------------------------------------------------------------
def _merge(live: Any, applied: Any, schema: Schema) -> Any:
    if isinstance(applied, dict) and not schema.atomic:
        out = dict(live) if isinstance(live, dict) else {}
        for key, value in applied.items():
            if value is None:  # owned, and unset
                out.pop(key, None)
            else:
                out[key] = _merge(out.get(key), value, schema.field(key))
        return out
    if isinstance(applied, list) and schema.list_type == "map":
        out = list(live) if isinstance(live, list) else []
        keys = schema.map_keys
        for item in applied:
            at = next((i for i, old in enumerate(out) if isinstance(old, dict) and isinstance(item, dict)
                       and all(old.get(k) == item.get(k) for k in keys)), None)
            if at is None:
                out.append(_merge(None, item, schema.items()))
            else:
                out[at] = _merge(out[at], item, schema.items())
        return out
    if isinstance(applied, list) and schema.list_type == "set":
        out = list(live) if isinstance(live, list) else []
        return out + [copy.deepcopy(v) for v in applied if v not in out]
    return copy.deepcopy(applied)


def _child(node: Any, element: Element) -> Optional[Tuple[Any, Any]]:
    """(the key or index of `element` in `node`, the value there), None when it is not there."""
    kind, name = element
    if kind == "f":
        return (name, node[name]) if isinstance(node, dict) and name in node else None
    if kind not in ("k", "v") or not isinstance(node, list):
        return None
    wanted = json.loads(name)
    for i, item in enumerate(node):
        if (isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items())) if kind == "k" \
                else item == wanted:
            return i, item
    return None


def _remove(obj: dict, path: Path) -> None:
    """Take `path` out of `obj` (in place), and the objects and lists that this leaves empty, as the API server's
    removal does."""
    trail = [obj]  # the containers down to the path's parent
    for element in path[:-1]:
        found = _child(trail[-1], element)
        if found is None:
            return
        trail.append(found[1])
    for depth in range(len(path) - 1, -1, -1):
        found = _child(trail[depth], path[depth])
        if found is None:
            return
        del trail[depth][found[0]]
        if trail[depth] or depth == 0:
            return


def message(conflicts: List[Tuple[dict, Path]]) -> str:
    """The API server's conflict message: one line for one conflict, else the paths grouped by manager."""
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {manager_name(entry)}: {render(path)}"
    grouped: Dict[str, List[Path]] = {}
    for entry, path in conflicts:
        grouped.setdefault(manager_name(entry), []).append(path)
    lines = []
    for name in sorted(grouped):
        lines.append(f"conflicts with {name}:")
        lines += [f"- {render(p)}" for p in grouped[name]]
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


def manager_name(entry: dict) -> str:
    name = json.dumps(entry.get("manager", ""))
    if entry.get("subresource"):
        name += f' with subresource {json.dumps(entry["subresource"])}'
    return f"{name} using {entry.get('apiVersion', '')}" if entry.get("operation") == "Update" else name


def merge_applied(live: Optional[dict], applied: dict, manager: str, api_version: str, schema: Optional[Schema],
                  force: bool, now: str) -> dict:
    """The object an apply of `applied` by `manager` makes of `live` (None: it creates it), with its managed
    fields; Conflicts when it would change fields other managers own and is not forced."""
    if ((applied.get("metadata") or {}).get("managedFields")) is not None:
        raise ApplyError("metadata.managedFields must be nil")
    schema = schema or Schema(OPEN_KIND)
    managers = _managers(live, None)
    live_paths = paths(live, schema)
    if live is not None and not managers:  # made before fields were tracked: all of it is someone's
        managers = [({"manager": FIRST, "operation": "Update", "apiVersion": api_version, "time": now},
                     _owned_by_update(live_paths, live_paths))]
    merged = _merge(copy.deepcopy(live) if live is not None else {}, applied, schema)
    added, modified, _ = _compare(live_paths, paths(merged, schema))
    changed = added | modified
    entry = {"manager": manager, "operation": "Apply", "apiVersion": api_version}
    found = [(e, p) for e, f in managers if _identity(e) != _identity(entry) for p in sorted(f & changed)]
    if found and not force and manager == KUBECTL:
        allowed = _client_side_applied(live, schema)
        found = [(e, p) for e, p in found if p not in allowed]
    if found and not force:
        raise Conflicts(found)
    managers = [(e, f if _identity(e) == _identity(entry) else f - changed) for e, f in managers]
    last = next((f for e, f in managers if _identity(e) == _identity(entry)), set())
    now_applied = applied_set(applied, schema)
    _own(managers, entry, now_applied, now)
    kept = [f for _, f in managers]
    for path in sorted(last - now_applied, key=len, reverse=True):  # what it no longer applies, if no one owns it
        if not any(path == p[:len(path)] for fields in kept for p in fields):
            _remove(merged, path)
    annotations = (merged.get("metadata") or {}).get("annotations") or {}
    if manager == KUBECTL and LAST_APPLIED in annotations:
        config = copy.deepcopy(applied)
        ((config.get("metadata") or {}).get("annotations") or {}).pop(LAST_APPLIED, None)
        annotations[LAST_APPLIED] = json.dumps(config, separators=(",", ":")) + "\n"
    return _written(merged, managers)


def _client_side_applied(live: Optional[dict], schema: Schema) -> Set[Path]:
    """The fields the live object's last-applied-configuration set that still have its values."""
    text = (((live or {}).get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        config = json.loads(text) if text else None
        if not isinstance(config, dict):
            return set()
        last, now = paths(config, schema), paths(live, schema)
    except (ValueError, ApplyError):
        return set()
    return {p for p, seen in last.items() if seen[2] and now.get(p, (None, None))[:2] == seen[:2]}

