"""The rollout journal: one JSON object per line, appended and flushed as each step of each cluster ends.

It is the audit of a fleet rollout (what was planned, what changed, what failed and why) and what `rollout status`
reports. A run appends to the journal of the runs before it, so running the same rollout again with the same
journal keeps one history. A line cut short (the process killed while writing) is the last line and is skipped;
any other line that is not a JSON object is refused, naming it.
"""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from typing import Dict, List, Optional

from imds_ext.core.errors import ConfigurationError

# A cluster's state is its latest event among these (others, like "updated", are steps on the way).
FINAL = ("done", "blocked", "failed", "interrupted", "notStarted")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Journal:
    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()  # the flows of many clusters write to it at once
        try:
            self._file = open(path, "a", encoding="utf-8")
        except OSError as ex:
            raise ConfigurationError(f"Cannot write the journal '{path}': {ex.strerror}. Choose a path in a "
                                     "folder you can write to.") from ex

    def write(self, event: str, cluster: Optional[str] = None, **detail) -> None:
        entry = {"time": now(), "event": event, **({"cluster": cluster} if cluster else {}), **detail}
        line = json.dumps(entry, sort_keys=False) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())  # a step the journal says ended did end, even after a power cut

    def close(self) -> None:
        self._file.close()


def read(path: str) -> List[dict]:
    """Every entry of the journal at `path` ([] when it does not exist yet)."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as ex:
        raise ConfigurationError(f"Cannot read the journal '{path}': {ex}.") from ex
    entries = []
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or not isinstance(entry.get("event"), str):
            if number == last and not line.endswith("}"):
                break  # cut short by a kill: the step it was recording is not known to have ended
            raise ConfigurationError(f"The journal '{path}' is not an imds-ext rollout journal: line {number + 1} "
                                     "is not one of its entries. Pass another --journal path.")
        entries.append(entry)
    return entries


def action_of(entries: List[dict]) -> Optional[str]:
    """The action ("enable"/"disable") the journal's runs carried out; None for a new journal."""
    return next((e.get("action") for e in reversed(entries) if e["event"] == "run"), None)


def clusters(entries: List[dict]) -> Dict[str, dict]:
    """Each cluster's story, by lower-case resource ID: its latest state, steps and details."""
    found: Dict[str, dict] = {}
    for entry in entries:
        cluster = entry.get("cluster")
        if not cluster:
            continue
        story = found.get(cluster.lower())
        if entry["event"] == "planned":
            if story is not None and story["state"] == "done" and entry.get("action") == "none":
                continue  # a later run found it done: its story stays the one of the run that did the work
            story = None  # a new run starts the cluster's story over
        if story is None:
            story = found[cluster.lower()] = {"id": cluster, "state": "planned", "steps": [], "detail": {}}
        elif story["state"] == "done" and entry["event"] == "done" and story["steps"][-1] == "done":
            continue
        story["steps"].append(entry["event"])
        story["updated"] = entry["time"]
        if entry["event"] in FINAL:
            story["state"] = entry["event"]
        for key in ("action", "blockers", "error", "podLinkLocalAccess", "pools", "failed"):
            if key in entry:
                story["detail"][key] = entry[key]
    return found
