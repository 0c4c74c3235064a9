"""The standalone CLI's progress controller: the contract az's `cli_ctx.get_progress_controller()` offers
(begin / add / end / stop), drawn with humanfriendly's spinner, the library az draws its own with.

knack (0.14) ships no progress controller of its own; az's lives in azure-cli-core, which the standalone
install does not have. Inside az the extension uses az's.
"""
from __future__ import annotations

import sys


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
    """A rollout's live progress on a terminal: how many clusters are done, running, failed, of how many; drawn
    with humanfriendly's spinner (with a total, it shows the share done). `enabled`: the console's decision
    (a terminal, progress not turned off), so CI logs get the result alone."""

    def __init__(self, total: int, stream=None, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.total = total
        self._spinner = None
        if enabled and total:
            from humanfriendly.terminal.spinners import Spinner

            self._spinner = Spinner(label="Rollout", total=total, stream=self.stream, hide_cursor=False)

    def update(self, counts: dict, running: int) -> None:
        if self._spinner is None:
            return
        finished = counts["total"] - counts["planned"]
        self._spinner.step(progress=finished, label=(
            f"Rollout: {counts['done']} done, {running} running, {counts['failed']} failed, {counts['blocked']} "
            f"blocked, {counts['notStarted']} not started, of {counts['total']}"))

    def end(self) -> None:
        if self._spinner is not None:
            self._spinner.clear()
            self._spinner = None
