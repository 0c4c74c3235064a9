"""The rollout journal: one JSON object per line, appended and flushed as each step of each cluster ends.

It is the audit of a fleet rollout (what was planned, what changed, what failed and why) and what `rollout status`
reports. A run appends to the journal of the runs before it, so running the same rollout again with the same
journal keeps one history. A line cut short (the process killed, the power cut or the disk full while writing) is
ended before the next run appends, and skipped on reading with a warning naming it; a file that is not a journal
(not a regular file, or a line that is whole but not one of its entries) is refused, naming what is wrong.
"""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional

from imds_ext.core.cluster import parse_cluster_id
from imds_ext.core import files
from imds_ext.core.errors import ConfigurationError

# How a cluster ends; until it does, its state is its latest step ("started", "updating", "reimaging", ...).
FINAL = ("done", "blocked", "failed", "interrupted", "notStarted")
# Far beyond any rollout's history (an entry is a few hundred bytes); what is larger is not read.
MAX_BYTES = 128 * 1024 * 1024


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


NOT_REGULAR = ": pass the path of a file (it is created if missing). Nothing was changed"


def _open(path: str, flags: int, doing: str) -> int:
    return files.open_regular(path, flags, "journal", doing,
                              hint=" Choose a path in a folder you can write to." if doing == "write" else "",
                              advice=NOT_REGULAR)


class Journal:
    """The journal a run appends to. Should a write fail (the disk full, say), the journal says so once through
    `on_failure` and writes no more in this run: a write cut short leaves a partial line, which the next run ends
    before appending, and no later entry may be glued onto it."""

    def __init__(self, path: str, on_failure: Callable[[str], None] = lambda message: None):
        self.path = path
        self.on_failure = on_failure
        self.error: Optional[str] = None  # the sentence saying why the journal could not be written
        self._lock = threading.Lock()  # the flows of many clusters write to it at once
        self._fd = _open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, "write")
        try:
            size = os.fstat(self._fd).st_size
            if size:
                os.lseek(self._fd, size - 1, os.SEEK_SET)
                if os.read(self._fd, 1) != b"\n":
                    self._append(b"\n")  # a line cut short by the run before: it stays alone on its line
        except OSError as ex:
            os.close(self._fd)
            raise ConfigurationError(f"Cannot write the journal '{path}': {ex.strerror}. Free some space or pass "
                                     "another --journal. Nothing was changed.") from ex

    def _append(self, data: bytes) -> None:
        while data:
            data = data[os.write(self._fd, data):]
        os.fsync(self._fd)  # a step the journal says ended did end, even after a power cut

    def write(self, event: str, cluster: Optional[str] = None, **detail) -> None:
        entry = {"time": now(), "event": event, **({"cluster": cluster} if cluster else {}), **detail}
        line = (json.dumps(entry, sort_keys=False) + "\n").encode("utf-8")
        with self._lock:
            if self.error is not None:
                return
            try:
                self._append(line)
            except OSError as ex:
                self.error = f"The journal '{self.path}' could not be written: {ex.strerror or ex}."
                failed = True
            else:
                failed = False
        if failed:
            self.on_failure(self.error)

    def close(self) -> None:
        os.close(self._fd)


def read(path: str, warn: Callable[[str], None] = lambda message: None) -> List[dict]:
    """Every entry of the journal at `path` ([] when it does not exist yet). A line cut short is skipped, saying
    so through `warn`; a file that is not a journal is refused (ConfigurationError)."""
    try:
        data = files.read_regular(path, MAX_BYTES, "journal",
                                  ": it is not one this tool wrote. Pass another --journal path.", NOT_REGULAR)
    except ConfigurationError as ex:
        if isinstance(ex.__cause__, FileNotFoundError):
            return []
        raise
    try:
        lines = data.decode("utf-8-sig").split("\n")  # a BOM, as some editors save UTF-8, is no part of it
    except UnicodeDecodeError as ex:
        raise ConfigurationError(f"Cannot read the journal '{path}': {ex}.") from ex
    entries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            if line.lstrip().startswith("{") or not line.strip("\0 "):
                # an entry cut short (its step is not known to have ended), or the zeros a power cut leaves
                warn(f"The journal '{path}': line {number} is an entry cut short (the process killed, the power "
                     "cut or the disk full while writing it); it was skipped.")
                continue
            entry = None
        problem = _problem(entry)
        if problem:
            raise ConfigurationError(f"The journal '{path}' is not an imds-ext rollout journal: line {number} is "
                                     f"not one of its entries ({problem}). Pass another --journal path.")
        entries.append(entry)
    return entries


def _problem(entry) -> Optional[str]:
    """What makes a whole line not a journal entry; None for an entry."""
    if not isinstance(entry, dict):
        return "not a JSON object"
    for key in ("event", "time"):
        if not isinstance(entry.get(key), str):
            return f"its \"{key}\" is {json.dumps(entry.get(key))}, not a string"
    if "cluster" in entry:
        try:
            parse_cluster_id(entry["cluster"] if isinstance(entry["cluster"], str) else "")
        except ValueError:
            return f"its \"cluster\" is {json.dumps(entry['cluster'])}, not a managed cluster's resource ID"
    return None


def action_of(entries: List[dict]) -> Optional[str]:
    """The action ("enable"/"disable") the journal's runs carried out; None for a new journal."""
    return next((e.get("action") for e in reversed(entries) if e["event"] == "run"), None)


def paused_after_canary(entries: List[dict]) -> bool:
    """Whether the journal's last run stopped after its canary wave (--pause-after-canary), so that the same
    command, run again, goes on with the rest instead of starting another canary wave."""
    for entry in reversed(entries):
        if entry["event"] == "paused":
            return True
        if entry["event"] == "run":  # a run that went on after a pause and was itself cut short still has
            return bool(entry.get("canaryDone"))
    return False


def reimaged_pools(entries: List[dict]) -> Dict[str, List[str]]:
    """By lower-case cluster ID, the pools whose reimage the journal saw succeed since the cluster's setting was
    last written: a resumed rollout does not reimage them again (an interruption after the reimage but before the
    record was rewritten would otherwise cost one more reimage of each)."""
    found: Dict[str, List[str]] = {}
    for entry in entries:
        cluster = (entry.get("cluster") or "").lower()
        if entry["event"] in ("updating", "updated"):  # a new write of the setting: the earlier reimages count no more
            found.pop(cluster, None)
        elif entry["event"] == "poolReimaged" and entry.get("ok") and entry.get("pool"):
            found.setdefault(cluster, []).append(entry["pool"])
    return found


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
        if entry["event"] in FINAL or story["state"] not in FINAL:
            story["state"] = entry["event"]  # the last step, until the cluster ends
        for key in ("action", "blockers", "error", "podLinkLocalAccess", "pools", "failed"):
            if key in entry:
                story["detail"][key] = entry[key]
    return found
