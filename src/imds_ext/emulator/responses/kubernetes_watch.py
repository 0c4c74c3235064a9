"""A bounded watch (`?watch=1` on a list, Kubernetes API concepts, "Efficient detection of changes"): a stream of
JSON event lines (`{"type": "ADDED" | "MODIFIED" | "DELETED" | "ERROR", "object": ...}`) that closes after
`timeoutSeconds` (at most MAX_SECONDS; WATCH_SECONDS without one, where a real API server keeps a watch for
30 to 60 minutes).

The emulator keeps no change history: the stream is the difference between what the list gives from one poll to
the next (POLL_SECONDS), so a pod whose status moves as its containers run is MODIFIED, one deleted is DELETED.
Without `resourceVersion` (or with "0") the stream starts with an ADDED event per object, as the API server's
synthetic initial events; with the resourceVersion of a list it starts at that list. Objects carry the
resourceVersion they have (the emulator's are not a cluster-wide sequence)."""
from __future__ import annotations

import json
import time
from typing import Callable, Dict, Iterator

from werkzeug.wrappers import Response

from imds_ext.emulator.providers.kubernetes import KubernetesStatus

MAX_SECONDS = 300.0
WATCH_SECONDS = 60.0
POLL_SECONDS = 0.25


def _key(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _line(kind: str, obj: dict) -> bytes:
    return (json.dumps({"type": kind, "object": obj}) + "\n").encode()


def duration(timeout_seconds) -> float:
    try:
        asked = float(timeout_seconds) if timeout_seconds not in (None, "") else WATCH_SECONDS
    except ValueError:
        asked = WATCH_SECONDS
    return max(0.0, min(asked, MAX_SECONDS))


def stream(snapshot: Callable[[], list], render: Callable[[dict], dict], seconds: float, initial_events: bool,
           content_type: str) -> Response:
    """The watch response. `snapshot()` lists the objects now (raising KubernetesStatus when it may not);
    `render` makes an event's object (the object itself, or a one-row Table). The first snapshot is taken here,
    so that a refusal is the answer's status rather than an event."""
    first: Dict[str, dict] = {_key(o): o for o in snapshot()}
    deadline = time.monotonic() + seconds

    def events() -> Iterator[bytes]:
        current = first
        if initial_events:
            for obj in current.values():
                yield _line("ADDED", render(obj))
        while time.monotonic() < deadline:
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            try:
                now = {_key(o): o for o in snapshot()}
            except KubernetesStatus as e:
                yield _line("ERROR", e.body())
                return
            for key, obj in now.items():
                if key not in current:
                    yield _line("ADDED", render(obj))
                elif obj != current[key]:
                    yield _line("MODIFIED", render(obj))
            for key, obj in current.items():
                if key not in now:
                    yield _line("DELETED", render(obj))
            current = now

    # No Content-Length: cheroot sends the events as HTTP/1.1 chunks, each as it is written.
    return Response(events(), status=200, content_type=content_type, direct_passthrough=True,
                    headers={"Cache-Control": "no-cache, private"})
