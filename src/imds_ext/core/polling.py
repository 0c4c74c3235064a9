"""Waiting with azure-core's polling: for our own operations, and for an operation we did not start.

AKS sends no Retry-After on its long-running operations (docs/arm-protocol.md), so a poller would wait its fixed
interval (azure-core: 30 s). `BackoffPolling` is azure-mgmt-core's ARM polling with a schedule of its own when
the service gives none: short intervals first, longer ones for long operations. `watch` waits on a resource's
provisioningState (an operation started elsewhere, or by an earlier run) with the same machinery.
"""
from __future__ import annotations

from typing import Callable, Sequence

from azure.core.polling import LROPoller
from azure.mgmt.core.polling.arm_polling import ARMPolling, BodyContentPolling

# Seconds between polls when the service gives no Retry-After: the n-th poll waits SCHEDULE[n] (the last one
# from then on).
SCHEDULE = (1.0, 1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 10.0, 15.0)


class BackoffPolling(ARMPolling):
    def __init__(self, schedule: Sequence[float] = SCHEDULE, **kwargs):
        super().__init__(timeout=schedule[-1], **kwargs)
        self._schedule = tuple(schedule)
        self._polls = 0

    def _extract_delay(self) -> float:
        retry_after = self._pipeline_response.http_response.headers.get("Retry-After")
        if retry_after and retry_after.strip().isdigit() and int(retry_after) > 0:
            return float(retry_after)
        delay = self._schedule[min(self._polls, len(self._schedule) - 1)]
        self._polls += 1
        return delay


class ProvisioningStatePolling(BodyContentPolling):
    """Polls a resource's own URL until its provisioningState is terminal, starting from a GET of it."""

    def can_poll(self, pipeline_response) -> bool:
        return pipeline_response.http_response.request.method == "GET"


def watch(pipeline_client, read: Callable, schedule: Sequence[float] = SCHEDULE) -> LROPoller:
    """A poller over the resource `read(cls=...)` returns, done when its provisioningState is terminal.

    `read` is an SDK `get` operation bound to the resource; `pipeline_client` the PipelineClient of its SDK
    client (what the SDK's own `begin_*` operations hand their pollers).
    """
    initial = read(cls=lambda pipeline_response, _deserialized, _headers: pipeline_response)
    return LROPoller(pipeline_client, initial, lambda _response: None,
                     BackoffPolling(schedule, lro_algorithms=[ProvisioningStatePolling()]))
