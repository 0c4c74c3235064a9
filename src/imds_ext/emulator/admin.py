"""Test-support state that is not part of ARM: the request log and injected faults."""
from __future__ import annotations

import re
import threading
from collections import deque
from typing import Optional

from imds_ext.emulator import validation
from imds_ext.emulator.errors import EmulatorError

# Request headers the log keeps. Authorization, cookies and anything token-like are never recorded.
LOGGED_HEADERS = ("If-Match", "If-None-Match", "AKSHTTPCustomFeatures", "Content-Type", "CommandName",
                  "x-ms-client-request-id")
# Query parameters whose value is a secret wherever they appear (OAuth parameters sent in a URL by mistake).
_SECRET_PARAMETER = re.compile(r"secret|password|token|assertion|code|key|sig", re.IGNORECASE)
REDACTED = "***"
_MAX_LOG = 10000

_FAULT = validation.schema({
    "type": "object", "required": ["path"], "additionalProperties": False,
    "properties": {
        "path": {"type": "string", "minLength": 1}, "method": {"type": ["string", "null"]},
        "count": {"type": "integer", "minimum": 1}, "skip": {"type": "integer", "minimum": 0},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "retryAfter": {"type": ["integer", "null"], "minimum": 0, "maximum": 3600},
        "delaySeconds": {"type": "number", "minimum": 0, "maximum": 600},
        "drop": {"type": "boolean"}, "dropResponse": {"type": "boolean"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "failOperation": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
        "body": {},
    },
})


class RequestLog:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries = deque(maxlen=_MAX_LOG)

    def add(self, request, status: int) -> None:
        headers = {h: request.headers[h] for h in LOGGED_HEADERS if h in request.headers}
        query = {k: REDACTED if _SECRET_PARAMETER.search(k) else v for k, v in request.args.items()}
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

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []

    def add(self, spec: dict) -> dict:
        validation.check(_FAULT, spec, lambda message, target: EmulatorError(400, "InvalidFault", message,
                                                                               target=target))
        try:
            pattern = re.compile(spec["path"], re.IGNORECASE)
        except re.error as e:
            raise EmulatorError(400, "InvalidFault", f"Invalid path regular expression: {e}.") from None
        if not any(spec.get(k) for k in ("status", "drop", "dropResponse", "delaySeconds", "failOperation")):
            raise EmulatorError(400, "InvalidFault", "A fault needs one of status, drop, dropResponse, delaySeconds, "
                                "failOperation.")
        fault = dict(spec, count=spec.get("count", 1), skip=spec.get("skip", 0),
                     method=(spec.get("method") or "*").upper())
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
