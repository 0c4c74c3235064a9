"""What a cluster's child resources with a long-running PUT and DELETE share (Deployment Safeguards, managed
namespaces): a table of records keyed under the cluster's key, gone with the cluster; one change at a time (a 409
while one runs); a PUT's operation ends `Succeeded` under a new eTag, a DELETE's removes the record, a failure leaves
`Failed`; a finished operation's result is the resource, or 204 for a delete.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Optional

from imds_ext.emulator import conditions
from imds_ext.emulator.errors import AKS, EmulatorError
from imds_ext.emulator.operations import CANCELED, Operation, OperationEngine, utc_iso
from imds_ext.emulator.records import Record
from imds_ext.emulator.store import Store

if TYPE_CHECKING:  # the back end passes itself in; no import cycle at run time
    from imds_ext.emulator.providers.containerservice.backend import ContainerServiceBackend


class ClusterChildren:
    """Subclasses name their table, record type, operation kinds and noun, and how a record is answered (`answer`).
    Callers outside hold no transaction: each public method takes one."""

    TABLE: str
    RECORD: type
    PUT: str
    DELETE: str
    NOUN: str  # how a 409 names the resource: "deployment safeguards"

    def __init__(self, store: Store, operations: OperationEngine, clusters: "ContainerServiceBackend"):
        self.store = store
        self.operations = operations
        self.clusters = clusters
        # since_file=False: a state file from before the table existed loads it empty
        self.rows: Dict[str, Record] = store.table(self.TABLE, self.RECORD, since_file=False)
        operations.handle(self.PUT, self._put_done, self._failed)
        operations.handle(self.DELETE, self._delete_done, self._failed)
        clusters.on_cluster_dropped(self._drop_cluster)

    def answer(self, found) -> dict:
        return found.render()

    def _drop_cluster(self, cluster_key: str) -> None:
        for key in [k for k, rec in self.rows.items() if rec.cluster == cluster_key]:
            del self.rows[key]

    def _busy(self, key: str) -> None:
        for op in self.operations.running(key):
            raise EmulatorError(409, "OperationNotAllowed", f"Operation is not allowed because there's an in "
                                f"progress {op.title} operation (operation ID: {op.id}) on the {self.NOUN} started "
                                f"on UTC {utc_iso(op.start)[:19]}Z. Please wait for it to finish before starting a "
                                "new operation.", AKS)

    def _start_delete(self, found, rec, api_version: str, if_match: Optional[str], failure: Optional[dict],
                      name: str) -> Operation:
        """`found` (of cluster `rec`) marked Deleting, and the DELETE's operation (callers hold the transaction)."""
        conditions.check(found.etag, if_match, None, self.NOUN, name)
        self._busy(found.key)
        found.properties["provisioningState"] = "Deleting"
        self.store.changed()
        return self.operations.start(self.DELETE, f"delete {self.NOUN}", found.key, rec.location, api_version,
                                     failure=failure, subscription=rec.subscription)

    # ---- its operations -----------------------------------------------------------------------
    def owns(self, op: Operation) -> bool:
        return op.kind in (self.PUT, self.DELETE)

    def result(self, op: Operation):
        """(status, body) of the `operationresults` URL of a finished operation: the resource, or 204."""
        with self.store.tx():
            found = self.rows.get(op.resource)
            if op.kind == self.DELETE or found is None:
                return 204, None
            return 200, self.answer(found)

    def _put_done(self, op: Operation) -> Optional[str]:
        found = self.rows.get(op.resource)
        if found is None:
            return CANCELED
        found.properties["provisioningState"] = "Succeeded"
        found.etag = conditions.new_etag()  # a read after the operation has another eTag than the PUT's answer
        return None

    def _delete_done(self, op: Operation) -> Optional[str]:
        self.rows.pop(op.resource, None)
        return None

    def _failed(self, op: Operation) -> Optional[str]:
        found = self.rows.get(op.resource)
        if found is None:
            return CANCELED
        found.properties["provisioningState"] = "Failed"
        return None
