"""Files the user names (a rollout's journal, a kubeconfig): opened only when they are regular files, and read
only up to a bound, so that a FIFO does not hang the command and /dev/zero is not read for ever."""
from __future__ import annotations

import os
import stat

from imds_ext.core.errors import ConfigurationError


def open_regular(path: str, flags: int, what: str, doing: str = "read", hint: str = "", advice: str = "") -> int:
    """A descriptor on the regular file at `path` (`what`: "journal", "kubeconfig"), refusing anything else before a
    byte is read or written. `hint` follows an error opening it, `advice` the refusal of a file that is not
    regular. The OSError is the cause of the ConfigurationError (FileNotFoundError for a missing file)."""
    try:
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as ex:
        raise ConfigurationError(f"Cannot {doing} the {what} '{path}': {ex.strerror or ex}.{hint}") from ex
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "a device, pipe or socket"
        raise ConfigurationError(f"The {what} '{path}' is {kind}, not a regular file{advice}.")
    return fd


def read_regular(path: str, limit: int, what: str, too_large: str, advice: str = "") -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; a larger file is refused (`too_large`:
    why, and what to do)."""
    with os.fdopen(open_regular(path, os.O_RDONLY, what, advice=advice), "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ConfigurationError(f"The {what} '{path}' is larger than {limit // 2 ** 20} MiB{too_large}")
    return data
