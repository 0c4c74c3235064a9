"""Test-support state that is not part of ARM: the request log and injected faults."""
from __future__ import annotations

import re
import threading
from collections import deque
from typing import Optional

from imds_ext.emulator.errors import EmulatorError

# Request headers the log keeps. Authorization, cookies and anything token-like are never recorded.
LOGGED_HEADERS = ("If-Match", "If-None-Match", "AKSHTTPCustomFeatures", "Content-Type", "CommandName",
                  "x-ms-client-request-id")
_MAX_LOG = 10000


class RequestLog:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries = deque(maxlen=_MAX_LOG)

    def add(self, request, status: int) -> None:
        headers = {h: request.headers[h] for h in LOGGED_HEADERS if h in request.headers}
        query = {k: v for k, v in request.args.items()}
        entry = {"method": request.method, "path": request.path, "query": query, "status": status,
                 "headers": headers}
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Faults:
    """Faults matched by method and path regex (case-insensitive `search`), each for `count` matches after the
    first `skip`."""

    FIELDS = {"method", "path", "count", "skip", "status", "retryAfter", "delaySeconds", "drop", "dropResponse", "body",
              "headers", "failOperation"}

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []

    def add(self, spec: dict) -> dict:
        if not isinstance(spec, dict) or not spec.get("path"):
            raise EmulatorError(400, "InvalidFault", "A fault needs at least 'path' (a regular expression).")
        unknown = set(spec) - self.FIELDS
        if unknown:
            raise EmulatorError(400, "InvalidFault", f"Unknown fault fields: {sorted(unknown)}; known: "
                                f"{sorted(self.FIELDS)}.")
        try:
            pattern = re.compile(spec["path"], re.IGNORECASE)
        except re.error as e:
            raise EmulatorError(400, "InvalidFault", f"Invalid path regular expression: {e}.") from None
        if not any(spec.get(k) for k in ("status", "drop", "dropResponse", "delaySeconds", "failOperation")):
            raise EmulatorError(400, "InvalidFault", "A fault needs one of status, drop, dropResponse, delaySeconds, "
                                "failOperation.")
        try:
            fault = dict(spec, count=int(spec.get("count", 1)), skip=int(spec.get("skip", 0)),
                         method=(spec.get("method") or "*").upper())
        except (TypeError, ValueError):
            raise EmulatorError(400, "InvalidFault", "'count' and 'skip' must be integers.") from None
        with self._lock:
            self._faults.append((pattern, fault))
        return fault

    def match(self, method: str, path: str) -> Optional[dict]:
        with self._lock:
            for i, (pattern, fault) in enumerate(self._faults):
                if fault["method"] in ("*", method.upper()) and pattern.search(path):
                    if fault["skip"] > 0:  # let this many matching requests through first
                        fault["skip"] -= 1
                        return None
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        del self._faults[i]
                    return dict(fault)
        return None

    def list(self) -> list:
        with self._lock:
            return [dict(f) for _, f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
