"""The core's `Interaction` on a console: knack's prompt, the host CLI's progress controller, the CLI's logger.

One class for both command lines: `cli_ctx` is az's inside the extension (its prompt, progress controller and
logging settings) and `az-imds`'s standalone.
"""
from __future__ import annotations

import sys
import time

from knack.log import get_logger
from knack.prompting import NoTTYException, prompt_y_n

from imds_ext.core.errors import ConfirmationRequired

logger = get_logger(__name__)

_TICK_SECONDS = 0.25  # how often the spinner moves while the SDK's pollers poll on their own threads
_HEARTBEAT_SECONDS = 60.0  # without a terminal (CI logs), a long wait says it still runs this often


def _elapsed(start: float) -> str:
    seconds = int(time.monotonic() - start)
    return f"{seconds}s" if seconds < 60 else f"{seconds // 60}m{seconds % 60:02d}s"


class _Parts:
    """The labelled pollers of one wait (a reimage's pools, each labelled with its name and node count): which
    have ended, told once each, and which still run."""

    def __init__(self, pollers):
        labelled = [p for p in pollers if getattr(p, "label", "")]
        self.labelled = labelled if len(labelled) > 1 else []  # one part is the wait itself
        self._told = {id(p) for p in self.labelled if p.done()}  # ended before the wait: nothing to tell

    def ended(self, start: float) -> list:
        lines = []
        for poller in self.labelled:
            if id(poller) not in self._told and poller.done():
                self._told.add(id(poller))
                lines.append(f"pool {poller.label} {_outcome(poller)} ({_elapsed(start)})")
        return lines

    def status(self, separator: str) -> str:
        if not self.labelled:
            return ""
        done = [p.label for p in self.labelled if p.done()]
        running = [p.label for p in self.labelled if not p.done()]
        return (separator + (f"{', '.join(done)} done" if done else "none done yet")
                + (f", {', '.join(running)} still running" if running else ""))


def _outcome(poller) -> str:
    """A finished part's end: done or failed (its error is the caller's to report)."""
    try:
        poller.result()
    except Exception:  # pylint: disable=broad-except
        return "failed"
    return "done"


class ConsoleInteraction:
    def __init__(self, cli_ctx, cli_name: str, stream=None):
        self.cli_ctx = cli_ctx
        self.cli_name = cli_name
        self.stream = stream or sys.stderr

    def confirm(self, message: str) -> bool:
        try:
            return prompt_y_n(message, default="n")
        except NoTTYException as ex:
            raise ConfirmationRequired(
                "This command changes the cluster and needs confirmation, but there is no terminal to ask "
                "on. Nothing was changed. Pass --yes to proceed without a prompt.") from ex

    def only_errors(self) -> bool:
        """--only-show-errors: no warnings, no progress."""
        return bool(getattr(self.cli_ctx, "only_show_errors", False))

    def shows_progress(self) -> bool:
        config = getattr(self.cli_ctx, "config", None)
        disabled = config is not None and config.getboolean("core", "disable_progress_bar", fallback=False)
        return (self.stream.isatty() and not disabled and not getattr(self.cli_ctx, "only_show_errors", False)
                and hasattr(self.cli_ctx, "get_progress_controller"))

    def wait(self, message: str, pollers) -> None:
        """On a terminal, a spinner with the elapsed time, then a `done` line; elsewhere (CI logs) a log line
        under --verbose, and a line every minute of a long wait. Pollers that carry a `label` (the pools of a
        reimage) are told apart: each one's end is a line of its own (on a terminal; without one when there are
        several), and the spinner says which are done and which still run."""
        pending = [p for p in pollers if not p.done()]
        if not pending:
            return
        parts = _Parts(pollers)
        start = time.monotonic()
        if not self.shows_progress():
            logger.info("%s ...", message)
            heartbeat = start + _HEARTBEAT_SECONDS
            while pending:
                pending[0].wait(_TICK_SECONDS)
                pending = [p for p in pending if not p.done()]
                for line in parts.ended(start):
                    logger.warning("%s: %s", message, line)
                if pending and time.monotonic() >= heartbeat:
                    heartbeat += _HEARTBEAT_SECONDS
                    logger.warning("Still waiting: %s (%s%s)", message, _elapsed(start), parts.status(", "))
            return
        progress = self.cli_ctx.get_progress_controller(det=False)
        progress.begin(message=message)
        try:
            while pending:
                progress.add(message=f"{message} ({_elapsed(start)}){parts.status('; ')}")
                pending[0].wait(_TICK_SECONDS)
                pending = [p for p in pending if not p.done()]
                ended = parts.ended(start)
                if ended:  # a line each, above the spinner
                    progress.end()
                    self.stream.write("".join(f"  {line}\n" for line in ended))
                    self.stream.flush()
                    if pending:
                        progress.begin(message=message)
        finally:
            progress.end()
        self.stream.write(f"{message}: done ({_elapsed(start)})\n")
        self.stream.flush()

    def warn(self, message: str) -> None:
        logger.warning(message)
