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
        under --verbose only."""
        pending = [p for p in pollers if not p.done()]
        if not pending:
            return
        if not self.shows_progress():
            logger.info("%s ...", message)
            for poller in pending:
                poller.wait()
            return
        progress = self.cli_ctx.get_progress_controller(det=False)
        start = time.monotonic()
        progress.begin(message=message)
        try:
            while pending:
                progress.add(message=f"{message} ({time.monotonic() - start:.0f}s)")
                pending[0].wait(_TICK_SECONDS)
                pending = [p for p in pending if not p.done()]
        finally:
            progress.end()
        self.stream.write(f"{message}: done ({time.monotonic() - start:.0f}s)\n")
        self.stream.flush()

    def warn(self, message: str) -> None:
        logger.warning(message)
