"""Progress on stderr: the standalone CLI's progress controller, and a fleet rollout's live line and event lines.

`SpinnerProgress` is the contract az's `cli_ctx.get_progress_controller()` offers (begin / add / end / stop), drawn
with humanfriendly's spinner, the library az draws its own with.

knack (0.14) ships no progress controller of its own; az's lives in azure-cli-core, which the standalone
install does not have. Inside az the extension uses az's.
"""
from __future__ import annotations

import shutil
import sys
import threading
import time
from datetime import datetime, timezone
from typing import Callable, Optional, Sequence

from imds_ext.core.discovery import PLANNED


class SpinnerProgress:
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self._spinner = None

    def begin(self, message: str = "Starting", **_kwargs) -> None:
        from humanfriendly.terminal.spinners import Spinner

        # interactive=None: humanfriendly draws only when the stream is a terminal.
        self._spinner = Spinner(label=message, stream=self.stream, hide_cursor=False)

    def add(self, message: str = "", **_kwargs) -> None:
        if self._spinner is None:
            self.begin(message)
        self._spinner.step(label=message)

    def end(self, **_kwargs) -> None:
        if self._spinner is not None:
            self._spinner.clear()
            self._spinner = None

    stop = end


class FleetProgress:
    """What a rollout says while it runs, on stderr.

    On a terminal, a live line redrawn every tick (at least once a second): elapsed time, the done / running /
    queued / failed / blocked counts, an ETA from the clusters already done, and each cluster in flight with its
    step and how long it has been at it; above it, a line as each cluster starts or ends and each pool's reimage
    ends. Without a terminal (CI logs), no live line: one timestamped line per event, every step included, so a
    log shows what ran when. `quiet` (--only-show-errors) says nothing."""

    def __init__(self, targets: Sequence, *, parallel: int, stream=None, terminal: bool = True,
                 quiet: bool = False, clock: Callable[[], float] = time.monotonic):
        self.stream = stream or sys.stderr
        self.targets = targets
        self.parallel = max(1, parallel)
        self.terminal, self.quiet = terminal and not quiet, quiet
        self.clock = clock
        self.began = clock()
        self._lock = threading.Lock()  # events come from each cluster's thread, ticks from the scheduler's
        self._spinner = None
        if self.terminal and targets:
            from humanfriendly.terminal.spinners import Spinner

            self._spinner = Spinner(label="Rollout", stream=self.stream, hide_cursor=False)

    # -- the live line -------------------------------------------------------------------------------
    def update(self, _targets=None) -> None:
        if self._spinner is None:
            return
        with self._lock:
            self._spinner.step(label=self._fit(self.live_line()))

    def live_line(self) -> str:
        now = self.clock()
        running = [t for t in self.targets if t.step]
        counts = _counts(self.targets)
        queued = sum(1 for t in self.targets if t.result == PLANNED and not t.step)
        line = (f"Rollout {_duration(now - self.began)}: {counts['done']} done, {len(running)} running, "
                f"{queued} queued, {counts['failed']} failed, {counts['blocked']} blocked, of {len(self.targets)}")
        eta = self.eta(running, queued, now)
        line += f"; ETA {_duration(eta)}" if eta is not None else ""
        if running:
            line += " | " + "; ".join(f"{t.name}: {describe_step(t)} {_duration(now - (t.started_at or now))}"
                                      for t in sorted(running, key=lambda t: t.started_at or now))
        return line

    def eta(self, running: Sequence, queued: int, now: float) -> Optional[float]:
        """From the mean time of the clusters done so far: what the running have left of it, then the queued
        in batches of --max-parallel. None until one is done."""
        took = [t.seconds for t in self.targets if t.result == "done" and t.seconds and t.action != "none"]
        if not took:
            return None
        mean = sum(took) / len(took)
        left_running = max([max(0.0, mean - (now - (t.started_at or now))) for t in running] or [0.0])
        return left_running + mean * -(-queued // self.parallel)

    def _fit(self, line: str) -> str:
        width = shutil.get_terminal_size((120, 24)).columns - 4  # the spinner's own mark and a margin
        return line if len(line) <= width else line[:max(10, width - 1)] + "…"

    # -- the events ----------------------------------------------------------------------------------
    def event(self, target, event: str, detail: dict) -> None:
        if self.quiet:
            return
        text = describe_event(target, event, detail)
        if text is None or (self.terminal and event not in _TERMINAL_EVENTS):
            return
        with self._lock:
            if self._spinner is not None:
                self._spinner.clear()
            stamp = (datetime.now(timezone.utc).strftime("%H:%M:%S") if self.terminal
                     else datetime.now(timezone.utc).isoformat(timespec="seconds"))
            self.stream.write(f"{stamp} {text}\n")
            self.stream.flush()

    def end(self) -> None:
        with self._lock:
            if self._spinner is not None:
                self._spinner.clear()
                self._spinner = None


_TERMINAL_EVENTS = ("started", "poolReimaged", "ended")  # a terminal has the live line for the steps between


def describe_step(target) -> str:
    """A cluster's step as the live line shows it: "reimaging userpool (nodepool1 done)"."""
    if target.step == "reimaging":
        left = [p for p in target.pools_due if p not in target.pools_done]
        done = f" ({', '.join(target.pools_done)} done)" if target.pools_done else ""
        return f"reimaging {', '.join(left) or 'pools'}{done}"
    return target.step or ""


def describe_event(target, event: str, detail: dict) -> Optional[str]:
    where = f"{target.name} ({target.resource_group}, {target.subscription})"
    if event == "started":
        return f"{where}: started ({detail.get('wave') or 'main'} wave)"
    if event == "updating":
        return f"{where}: updating the cluster (podLinkLocalAccess={detail.get('podLinkLocalAccess')})"
    if event == "updated":
        return f"{where}: updated, podLinkLocalAccess={detail.get('podLinkLocalAccess')}"
    if event == "reimaging":
        return f"{where}: reimaging pool(s) {', '.join(detail.get('pools') or ())}"
    if event == "poolReimaged":
        verdict = "reimaged" if detail.get("ok") else f"reimage {str(detail.get('status', 'failed')).lower()}"
        return f"{where}: pool {detail.get('pool')} {verdict}"
    if event == "reimaged":
        failed = detail.get("failed") or ()
        return f"{where}: reimage ended" + (f", failed: {', '.join(failed)}" if failed else "")
    if event == "ended":
        seconds = detail.get("seconds")
        took = f" after {_duration(seconds)}" if seconds is not None else ""
        error = f": {detail['error']}" if detail.get("error") and detail.get("result") != "done" else ""
        return f"{where}: {detail.get('result')}{took}{error}"
    return None


def _counts(targets: Sequence) -> dict:
    counts = {"done": 0, "failed": 0, "blocked": 0}
    for target in targets:
        if target.result in counts:
            counts[target.result] += 1
    return counts


def _duration(seconds: float) -> str:
    """1h02m, 3m05s, 40s."""
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
