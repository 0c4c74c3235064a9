"""Waiting on several operations: one that fails does not end the wait for the others (core/polling.py)."""
import threading

import pytest
from azure.core.exceptions import HttpResponseError

from imds_ext.core.fleet import _FlowInteraction
from imds_ext.core.interaction import Quiet
from imds_ext.core.polling import wait_all


class Operation:
    """An LROPoller's contract as the interactions use it: `wait` re-raises the operation's error once it ended."""

    def __init__(self, error=None):
        self.error, self.ended = error, False

    def done(self):
        return self.ended

    def wait(self, timeout=None):
        self.ended = True
        if self.error:
            raise self.error

    def result(self, timeout=None):
        self.wait(timeout)
        return "ok"


@pytest.mark.parametrize("ui", [Quiet(), _FlowInteraction("az-imds", threading.Event())], ids=["quiet", "rollout"])
def test_one_failed_operation_does_not_end_the_wait_for_the_others(ui):
    failed, other = Operation(HttpResponseError("Operation returned an invalid status 'OK'")), Operation()
    wait_all(ui, "Upgrading", [failed, other])
    assert failed.done() and other.done()  # both were waited for
    with pytest.raises(HttpResponseError):  # each one's error is its result's to raise
        failed.result()
    assert other.result() == "ok"
