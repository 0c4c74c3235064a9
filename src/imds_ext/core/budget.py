"""Staying within ARM's request limits during a fleet rollout: a token bucket per subscription, as an azure-core
pipeline policy shared by every client of that subscription.

ARM throttles each principal per subscription and region with token buckets (since 2024: reads 250 at once and 25
per second after that, writes 200 and 10 per second; docs/fleet.md names the source). Dozens of cluster flows
polling at once would overrun the read bucket in seconds and collect 429s. The policy sits after azure-core's
RetryPolicy, so every attempt, first or retried, waits for a token; a request is delayed, never dropped. Single-
cluster commands make a few dozen requests and use no budget.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from azure.core.pipeline.policies import SansIOHTTPPolicy

_READS = ("GET", "HEAD")


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; `take()` returns how long to wait for one."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self._tokens, self._last = burst, clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1  # taken now, even if owed: waiters queue in the order they asked
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class RequestBudget(SansIOHTTPPolicy):
    """Waits before each request until its bucket (reads or writes) has a token. `rate` 0: no limit."""

    def __init__(self, reads_per_second: float, writes_per_second: float, sleep: Callable[[float], None] = time.sleep):
        self._reads = _bucket(reads_per_second)
        self._writes = _bucket(writes_per_second)
        self._sleep = sleep

    def on_request(self, request) -> None:
        bucket = self._reads if request.http_request.method.upper() in _READS else self._writes
        if bucket is not None:
            delay = bucket.take()
            if delay > 0:
                self._sleep(delay)


def _bucket(rate: float) -> Optional[TokenBucket]:
    # A burst of ten seconds' worth, as ARM's buckets are (250 reads at 25 per second).
    return TokenBucket(rate, max(1.0, 10 * rate)) if rate > 0 else None
