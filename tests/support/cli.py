"""Running a command line as a user does: what it left behind, and reading what it wrote to a terminal."""
import json
import os
import pty
import subprocess
import sys
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


def run_on_a_terminal(env, args, answer: str):
    """Run az-imds with a pseudo-terminal as stdin and type `answer` at the prompt: (code, out, err and what the
    terminal showed)."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *args], stdin=secondary, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    os.close(secondary)
    os.write(primary, answer.encode() + b"\n")
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err + read_terminal(primary)
