"""The record of a node-image upgrade still due, kept with the cluster as a tag.

ARM does not show whether a pool's nodes were reimaged since the IMDS setting changed (docs/convergence.md). So
the PUT that changes the setting also writes this tag, naming the setting and the pools still to reimage; the
flow rewrites it with the pools that failed, and removes it once every pool is done. A re-run reads it to know
what is left. Pure functions over tags: no I/O.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Optional, Set

TAG = "imds-ext-reimage-pending"
ALL = "*"
_MAX_TAG_VALUE = 256  # Azure's limit on a tag value


def value(setting: str, pools: Iterable[str]) -> str:
    """`<setting>:<pool>,<pool>`, or `<setting>:*` (every Linux pool) when the list would not fit a tag."""
    names = ",".join(sorted(pools))
    text = f"{setting}:{names}"
    return text if names and len(text) <= _MAX_TAG_VALUE else f"{setting}:{ALL}"


def pending(tags: Optional[Mapping[str, str]], setting: str) -> Optional[Set[str]]:
    """The pools (lower case; {"*"} for all) still to reimage for `setting`; None when there is no record of any.

    A record for another setting is stale (the setting was changed again since), and is no record either.
    """
    recorded = (tags or {}).get(TAG)
    if not recorded or ":" not in recorded:
        return None
    for_setting, _, pools = recorded.partition(":")
    if for_setting != setting:
        return None
    names = {p.strip().lower() for p in pools.split(",") if p.strip()}
    return names or None


def due(tags: Optional[Mapping[str, str]], setting: str, pools: Iterable[str]) -> List[str]:
    """The names among `pools` (the Linux pools, in order) that the record says are still to reimage for `setting`."""
    recorded = pending(tags, setting) or set()
    return [p for p in pools if ALL in recorded or (p or "").lower() in recorded]


def with_record(tags: Optional[Mapping[str, str]], setting: str, pools: Iterable[str]) -> Dict[str, str]:
    return {**(tags or {}), TAG: value(setting, pools)}


def without_record(tags: Optional[Mapping[str, str]]) -> Dict[str, str]:
    return {k: v for k, v in (tags or {}).items() if k != TAG}
