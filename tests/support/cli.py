"""Running a command line as a user does: what it left behind, and reading what it wrote to a terminal."""
import json
import os
from dataclasses import dataclass


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)


def read_terminal(primary: int) -> str:
    """Everything written to a pseudo-terminal whose other end is closed, then close it."""
    data = b""
    try:
        while chunk := os.read(primary, 4096):
            data += chunk
    except OSError:  # EIO once the writer is gone
        pass
    os.close(primary)
    return data.decode(errors="replace")
