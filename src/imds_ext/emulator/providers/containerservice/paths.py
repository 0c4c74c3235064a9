"""Walking a resource body by a path of keys, the one way every module of this room does it."""
from __future__ import annotations

from typing import Iterable, Optional, Sequence


def get(body, path: Iterable[str]):
    """The value at `path`, or None where the body has no object on the way."""
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def parent(body, path: Sequence[str]) -> Optional[dict]:
    """The object that holds the last key of `path`, or None."""
    found = get(body, path[:-1])
    return found if isinstance(found, dict) else None
