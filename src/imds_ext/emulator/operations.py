"""Long-running operations: records, the clock that ends them, and a registry of what each kind does when it ends.

A back end registers, per kind of operation, what success and failure do to its resources (`handle`), starts
operations (`start`) and reads them; the engine ends each one when it is due, in the store's transaction.
"""
from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timezone
from typing import Callable, Dict, Iterator, Optional, Tuple

from imds_ext.emulator.errors import EmulatorError
from imds_ext.emulator.records import Record
from imds_ext.emulator.store import Store

IN_PROGRESS, SUCCEEDED, FAILED, CANCELED = "InProgress", "Succeeded", "Failed", "Canceled"
_MAX_OPERATIONS = 2000  # finished operations beyond this many are forgotten, oldest first


def utc_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


@dataclasses.dataclass
class Operation(Record):
    id: str
    kind: str  # e.g. "cluster.put": picks the completion handlers
    title: str  # "update managed cluster": how 409s name it
    resource: str  # key of the resource it runs on
    subscription: str  # the subscription it runs in: its status URLs are under it
    location: str
    api_version: str
    start: float
    due: float
    status: str = IN_PROGRESS
    child: Optional[str] = None  # a child resource it runs on (an agent pool)
    end: Optional[float] = None
    failure: Optional[dict] = None  # {"code", "message"}: it will end Failed (fault injection)

    def status_body(self) -> dict:
        """The body of the operation-status URL (Azure-AsyncOperation)."""
        body = {"name": self.id, "status": self.status, "startTime": utc_iso(self.start)}
        if self.status != IN_PROGRESS:
            body["endTime"] = utc_iso(self.end)
        if self.status == FAILED:
            failure = self.failure or {}
            body["error"] = {"code": failure.get("code", "InternalOperationError"),
                             "message": failure.get("message", "The operation failed."), "details": []}
        return body


def operation_not_found(op_id: str) -> EmulatorError:
    return EmulatorError(404, "NotFound", f"The operation '{op_id}' could not be found.")


# (on success, on failure): each gets the operation and may return another final status than the one it is for
# (Canceled, when the resource went away under it); None keeps Succeeded / Failed.
Handler = Callable[[Operation], Optional[str]]


class OperationEngine:
    def __init__(self, store: Store, delay: Callable[[], float]):
        self.store = store
        self.delay = delay
        self.rows: Dict[str, Operation] = store.table("operations", Operation)
        self._handlers: Dict[str, Tuple[Handler, Handler]] = {}
        store.on_advance(self._advance)

    def handle(self, kind: str, on_success: Handler, on_failure: Handler) -> None:
        self._handlers[kind] = (on_success, on_failure)

    def start(self, kind: str, title: str, resource: str, location: str, api_version: str,
              child: Optional[str] = None, failure: Optional[dict] = None, *, subscription: str,
              delay: Optional[float] = None) -> Operation:
        """A new operation, due after the configured delay (or `delay` seconds)."""
        if kind not in self._handlers:
            raise ValueError(f"no handlers for operations of kind {kind!r}")
        now = self.store.clock()
        op = Operation(id=str(uuid.uuid4()), kind=kind, title=title, resource=resource,
                       subscription=subscription.lower(), location=location, api_version=api_version, start=now,
                       due=now + (self.delay() if delay is None else delay), child=child, failure=failure)
        self.rows[op.id] = op
        self._forget_old()
        self.store.changed()
        return op

    def running(self, resource: str) -> Iterator[Operation]:
        return (op for op in self.rows.values() if op.resource == resource and op.status == IN_PROGRESS)

    def get(self, op_id: str) -> Operation:
        with self.store.tx():
            op = self.rows.get(op_id.lower())
            if op is None:
                raise operation_not_found(op_id)
            return dataclasses.replace(op)

    def _advance(self, now: float) -> None:
        for op in list(self.rows.values()):
            if op.status == IN_PROGRESS and op.due <= now:
                self._finish(op, now)

    def _finish(self, op: Operation, now: float) -> None:
        on_success, on_failure = self._handlers[op.kind]
        op.end = now
        if op.failure:
            op.status = on_failure(op) or FAILED
        else:
            op.status = on_success(op) or SUCCEEDED
        self.store.changed()

    def cancel(self, op: Operation) -> None:
        """End a running operation as Canceled, without its completion (what it would have done is not done)."""
        op.status, op.end = CANCELED, self.store.clock()
        self.store.changed()

    def _forget_old(self) -> None:
        excess = len(self.rows) - _MAX_OPERATIONS
        if excess > 0:
            done = sorted((o for o in self.rows.values() if o.status != IN_PROGRESS), key=lambda o: o.start)
            for old in done[:excess]:
                del self.rows[old.id]
