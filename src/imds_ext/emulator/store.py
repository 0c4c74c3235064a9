"""The emulator's state: tables of typed records, one lock, transactions, and the state file.

Each provider back end registers its tables here. Time-driven transitions (long-running operations, feature and
provider registration) are not run by background threads: each transaction first runs the transitions that are
due (`on_advance`), so what a client reads is always consistent with the clock.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from contextlib import contextmanager
from typing import Callable, Dict, List, Optional, Tuple, Type

from imds_ext.emulator.errors import EmulatorError, StateFileError
from imds_ext.emulator.records import Record

log = logging.getLogger(__name__)
STATE_VERSION = 3  # 3: several subscriptions (keys and records carry theirs)


class Store:
    def __init__(self, state_file: Optional[str] = None, clock: Callable[[], float] = time.time):
        if state_file:
            folder = os.path.dirname(os.path.abspath(state_file))
            if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
                raise StateFileError(f"The folder of the state file '{state_file}' does not exist or cannot be "
                                     "written to. Create it, or choose another --state-file.")
        self.lock = threading.RLock()
        self.clock = clock
        self.state_file = state_file
        self._tables: Dict[str, Tuple[Type[Record], dict]] = {}
        self._added_later: set = set()
        self._advancers: List[Callable[[float], None]] = []
        self._dirty = False
        self._depth = 0

    # ---- set-up (by the back ends, before load) ---------------------------------------------------
    def table(self, name: str, record_type: Type[Record], since_file: bool = True) -> dict:
        """A table of records by key; the same dict object for the store's whole life. `since_file` False: a table
        added after state files of this version were written, which such a file lacks and loads empty."""
        rows: dict = {}
        self._tables[name] = (record_type, rows)
        if not since_file:
            self._added_later.add(name)
        return rows

    def on_advance(self, advance: Callable[[float], None]) -> None:
        self._advancers.append(advance)

    # ---- transactions ---------------------------------------------------------------------------
    @contextmanager
    def tx(self):
        """Every back-end call runs in here: lock, apply due transitions, persist once if anything changed."""
        with self.lock:
            self._depth += 1
            # With a state file, a change that cannot be saved is not applied either: keep what to go back to.
            before = self.to_json() if self._depth == 1 and self.state_file else None
            try:
                now = self.clock()
                for advance in self._advancers:
                    advance(now)
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._dirty:
                    self._dirty = False
                    self._save_or_undo(before)

    def _save_or_undo(self, before: Optional[dict]) -> None:
        try:
            self.persist()
        except OSError as e:
            log.error("The emulator could not save its state file %s (%s); the change was undone.",
                      self.state_file, e)
            if before is not None:
                self._replace(self._records(before, "the state before the change"))
            raise EmulatorError(500, "InternalServerError", f"The emulator could not save its state file: "
                                f"{e.strerror or e}. The change was not applied.") from None

    def changed(self) -> None:
        self._dirty = True

    def clear(self) -> None:
        with self.lock:
            for _, rows in self._tables.values():
                rows.clear()
            self._dirty = True

    # ---- persistence ----------------------------------------------------------------------------
    def to_json(self) -> dict:
        with self.lock:
            return {"version": STATE_VERSION,
                    **{name: {key: record.to_json() for key, record in rows.items()}
                       for name, (_, rows) in self._tables.items()}}

    def load(self) -> bool:
        """Read the state file into the tables; False when there is none. StateFileError leaves the file as it is."""
        path = self.state_file
        if not path or not os.path.exists(path):
            return False
        try:
            with open(path, encoding="utf-8") as f:
                state = json.load(f)
        except OSError as e:
            raise StateFileError(f"Cannot read the emulator state file '{path}': {e.strerror or e}.") from e
        except ValueError as e:
            raise StateFileError(f"The emulator state file '{path}' is not valid JSON ({e}). "
                                 "Fix or remove it; it was left untouched.") from e
        required = set(self._tables) - self._added_later
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION or not required <= set(state):
            raise StateFileError(f"The emulator state file '{path}' is not an emulator state file of version "
                                 f"{STATE_VERSION} (missing keys or wrong version). It was left untouched.")
        self._replace(self._records(state, f"The emulator state file '{path}'"))
        return True

    def _records(self, state: dict, where: str) -> Dict[str, dict]:
        """The tables of a state document as records; StateFileError naming the field that does not fit."""
        loaded = {}
        for name, (record_type, _) in self._tables.items():
            rows = state.get(name, {})  # a table added later: the file predates it
            if not isinstance(rows, dict):
                raise StateFileError(f"{where}: '{name}' must be an object. It was left untouched.")
            try:
                loaded[name] = {key: record_type.from_json(value, f"{name}[{key!r}]") for key, value in rows.items()}
            except StateFileError as e:
                raise StateFileError(f"{where} does not fit the emulator's schema: {e} It was left untouched.") \
                    from None
        return loaded

    def _replace(self, loaded: Dict[str, dict]) -> None:
        for name, (_, rows) in self._tables.items():
            rows.clear()
            rows.update(loaded[name])

    def persist(self) -> None:
        """Write the state file atomically (a crash leaves the old file or the new one, never half of one)."""
        if not self.state_file:
            return
        directory = os.path.dirname(os.path.abspath(self.state_file))
        fd, tmp = tempfile.mkstemp(prefix=".emulator-state-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.to_json(), f, indent=1, sort_keys=True)
            os.replace(tmp, self.state_file)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
