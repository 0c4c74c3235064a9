"""Waiting with azure-core's polling: for our own operations, and for an operation we did not start.

AKS sends no Retry-After on its long-running operations (docs/arm-protocol.md), so a poller would wait its fixed
interval (azure-core: 30 s). `BackoffPolling` is azure-mgmt-core's ARM polling with an interval of its own when
the service gives none: a quarter of the time the operation has run so far, between 1 and 30 seconds. `watch`
waits on a resource's provisioningState (an operation started elsewhere, or by an earlier run) with the same
machinery.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

from azure.core.polling import LROPoller
from azure.mgmt.core.polling.arm_polling import ARMPolling, BodyContentPolling


class BackoffPolling(ARMPolling):
    """Without a Retry-After, the next poll comes after a quarter of the time the operation has run so far, at
    least 1 s and at most 30 s: an operation is noticed at most 25% (and 30 s) after it ends, and a long one costs
    few requests (about 30 for ten minutes). With a Retry-After, that is used, as azure-core does."""

    def __init__(self, fraction: float = 0.25, minimum: float = 1.0, maximum: float = 30.0, **kwargs):
        super().__init__(timeout=minimum, **kwargs)
        self._fraction, self._minimum, self._maximum = fraction, minimum, maximum
        self._started = time.monotonic()

    def _extract_delay(self) -> float:
        retry_after = self._pipeline_response.http_response.headers.get("Retry-After")
        if retry_after and retry_after.strip().isdigit() and int(retry_after) > 0:
            return float(retry_after)
        elapsed = time.monotonic() - self._started
        return min(self._maximum, max(self._minimum, self._fraction * elapsed))


class ProvisioningStatePolling(BodyContentPolling):
    """Polls a resource's own URL until its provisioningState is terminal, starting from a GET of it."""

    def can_poll(self, pipeline_response) -> bool:
        return pipeline_response.http_response.request.method == "GET"


def watch(pipeline_client, read: Callable) -> LROPoller:
    """A poller over the resource `read(cls=...)` returns, done when its provisioningState is terminal.

    `read` is an SDK `get` operation bound to the resource; `pipeline_client` the PipelineClient of its SDK
    client (what the SDK's own `begin_*` operations hand their pollers).
    """
    initial = read(cls=lambda pipeline_response, _deserialized, _headers: pipeline_response)
    return LROPoller(pipeline_client, initial, lambda _response: None,
                     BackoffPolling(lro_algorithms=[ProvisioningStatePolling()]))


class _EndsQuietly:
    """A poller as an `Interaction` waits on it: `wait` returns once the operation has ended, whether it succeeded
    or failed. azure-core's `LROPoller.wait` re-raises the operation's error, which would end the interaction's
    wait at the first operation that failed, before the others are waited for and before the caller collects each
    one's result (`result()` still raises it)."""

    def __init__(self, poller, label: str = "", key: str = ""):
        self._poller = poller
        self.label = label  # what it waits for, as said (a pool's name and size), for a report of each one's end
        self.key = key or label  # the same as a name the caller knows it by (the pool's)

    def done(self) -> bool:
        return self._poller.done()

    def wait(self, timeout=None) -> None:
        try:
            self._poller.wait(timeout)
        except Exception:  # pylint: disable=broad-except  # the caller's result() raises it; Ctrl-C still ends it
            pass

    def result(self, timeout=None):
        return self._poller.result(timeout)

    def status(self) -> str:
        return self._poller.status()


def wait_all(ui, message: str, pollers, labels: Sequence[str] = (), keys: Sequence[str] = ()) -> None:
    """`ui.wait` over `pollers` until every one has ended; each one's error is then its `result()`'s to raise.
    `labels` say what each poller waits for (a pool and its size), `keys` name it (the pool), in order."""
    pollers = list(pollers)
    labels = (list(labels) + [""] * len(pollers))[:len(pollers)]
    keys = (list(keys) + [""] * len(pollers))[:len(pollers)]
    ui.wait(message, [_EndsQuietly(p, label, key) for p, label, key in zip(pollers, labels, keys, strict=True)])
