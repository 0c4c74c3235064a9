"""What the flow needs from whoever runs it: a terminal, az, a script. The front ends implement it."""
from __future__ import annotations

from typing import List, Protocol, Sequence


class Interaction(Protocol):
    cli_name: str  # "az" or "az-imds": the program named in the commands we tell the user to run

    def confirm(self, message: str) -> bool:
        """Ask yes/no. Raise ConfirmationRequired when there is no terminal to ask on."""

    def wait(self, message: str, pollers: Sequence) -> None:
        """Block until every poller (azure-core LROPoller) is done, showing `message` as progress."""

    def warn(self, message: str) -> None: ...


class Quiet:
    """An Interaction for a caller that has already decided (a benchmark, a batch job): it never prompts
    and shows nothing; warnings are kept for the caller to read."""

    cli_name = "az-imds"

    def __init__(self, answer: bool = True):
        self.answer = answer
        self.warnings: List[str] = []

    def confirm(self, message):
        return self.answer

    def wait(self, message, pollers):
        for poller in pollers:
            poller.wait()

    def warn(self, message):
        self.warnings.append(message)
