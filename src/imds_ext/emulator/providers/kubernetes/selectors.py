"""How the API server narrows and pages a list (Kubernetes API concepts, "Retrieving large results sets in chunks";
"Labels and Selectors"; "Field Selectors"): `labelSelector` (`k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`,
`k notin (a,b)`, comma-joined), `fieldSelector` (`metadata.name`, `metadata.namespace`, `spec.nodeName`,
`status.phase`, an event's `involvedObject.*`, with `=`, `==`, `!=`), and `limit`/`continue`, whose token expires
after five minutes (410 Gone)."""
from __future__ import annotations

import base64
import json
import re
from typing import Callable, List, Optional, Tuple

CONTINUE_TTL_SECONDS = 300.0
_SET = re.compile(r"^\s*(!?)([A-Za-z0-9./_-]+)\s*(?:(in|notin)\s*\(([^)]*)\)|(==|=|!=)\s*([A-Za-z0-9._-]*))?\s*$")
FIELDS = {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace"),
          "spec.nodeName": ("spec", "nodeName"), "status.phase": ("status", "phase"),
          # events, as `kubectl describe` finds an object's events
          **{f"involvedObject.{f}": ("involvedObject", f) for f in (
              "kind", "name", "namespace", "uid", "apiVersion", "fieldPath", "resourceVersion")}}


class SelectorError(ValueError):
    """A selector the API server would refuse (400 BadRequest)."""


def _terms(text: str) -> List[str]:
    """Split on the commas that are not inside `in (...)`."""
    terms, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    return [t for t in terms + [current] if t.strip()]


def label_matcher(text: Optional[str]) -> Callable[[dict], bool]:
    tests = []
    for term in _terms(text or ""):
        match = _SET.match(term)
        if not match:
            raise SelectorError(f"unable to parse requirement: {term!r}")
        negated, key, set_op, values, op, value = match.groups()
        if set_op:
            members = {v.strip() for v in values.split(",") if v.strip()}
            tests.append(lambda labels, k=key, m=members, inside=set_op == "in":
                         (labels.get(k) in m) if inside else (labels.get(k) not in m))
        elif op:
            if negated:
                raise SelectorError(f"unable to parse requirement: {term!r}")
            tests.append(lambda labels, k=key, v=value, equal=op != "!=": (labels.get(k) == v) == equal)
        else:
            tests.append(lambda labels, k=key, absent=bool(negated): (k in labels) != absent)
    return lambda obj: all(t((obj.get("metadata") or {}).get("labels") or {}) for t in tests)


def field_matcher(text: Optional[str]) -> Callable[[dict], bool]:
    tests = []
    for term in _terms(text or ""):
        match = re.match(r"^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
        if not match or match.group(1) not in FIELDS:
            raise SelectorError(f"field label not supported: {term.split('=')[0].strip('!')}")
        path, op, value = FIELDS[match.group(1)], match.group(2), match.group(3)
        tests.append(lambda obj, p=path, v=value, equal=op != "!=":
                     (str((obj.get(p[0]) or {}).get(p[1]) or "") == v) == equal)
    return lambda obj: all(t(obj) for t in tests)


def page(items: list, limit: Optional[str], token: Optional[str], now: float) -> Tuple[list, Optional[str]]:
    """One page of `items` (already in the server's order) and the continue token of the next, if any."""
    start = 0
    if token:
        try:
            state = json.loads(base64.urlsafe_b64decode(token.encode()))
            start, issued = int(state["start"]), float(state["issued"])
        except (ValueError, KeyError, TypeError):
            raise SelectorError("continue key is not valid") from None
        if now - issued > CONTINUE_TTL_SECONDS:
            raise TokenExpired()
    size = int(limit) if limit and limit.isdigit() and int(limit) > 0 else 0
    if not size:
        return items[start:], None
    chunk = items[start:start + size]
    more = start + size < len(items)
    issued_at = now if not token else issued
    next_token = base64.urlsafe_b64encode(json.dumps({"start": start + size, "issued": issued_at}).encode()).decode() \
        if more else None
    return chunk, next_token


class TokenExpired(Exception):
    """The continue token is older than the server keeps a list's snapshot."""
