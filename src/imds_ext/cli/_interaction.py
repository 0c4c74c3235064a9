"""The terminal side of the flow: prompts, progress on stderr, warnings through the CLI's logger."""
from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager

from knack.log import get_logger
from knack.prompting import NoTTYException, prompt_y_n

from imds_ext.core.errors import ConfirmationRequired

logger = get_logger(__name__)


class TerminalInteraction:
    cli_name = "az-imds"

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr

    def confirm(self, message: str) -> bool:
        try:
            return prompt_y_n(message, default="n")
        except NoTTYException as ex:
            raise ConfirmationRequired(
                "This command changes the cluster and needs confirmation, but there is no terminal to ask "
                "on. Nothing was changed. Pass --yes to proceed without a prompt.") from ex

    @contextmanager
    def progress(self, message: str):
        """An elapsed-time status line on a terminal; a plain log line elsewhere (CI logs stay clean)."""
        if not self.stream.isatty():
            logger.info("%s ...", message)
            yield
            return
        done = threading.Event()
        start = time.monotonic()

        def tick():
            frames = "|/-\\"
            i = 0
            while not done.wait(0.2):
                self.stream.write(f"\r{frames[i % 4]} {message} ({time.monotonic() - start:.0f}s)")
                self.stream.flush()
                i += 1

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
            self.stream.write(f"\r{message}: done ({time.monotonic() - start:.0f}s)\n")
            self.stream.flush()

    def warn(self, message: str) -> None:
        logger.warning(message)
