"""ConsoleInteraction.wait: which pool of a reimage is done, on a terminal and in CI logs, and a long wait in CI
says it still runs; a registration's wait is a poller like any other (issue 18)."""
import io
import logging

import pytest

from imds_ext.core.errors import ImdsExtError
from imds_ext.core.registration import RegistrationPoller
from imds_ext.frontend import interaction
from imds_ext.frontend.interaction import ConsoleInteraction


class Part:
    """A poller that ends after `polls` waits (no clock involved); `fails`: its result raises."""

    def __init__(self, label, polls, fails=False):
        self.label, self._left, self._fails = label, polls, fails

    def done(self):
        return self._left <= 0

    def wait(self, timeout=None):
        self._left -= 1

    def result(self, timeout=None):
        if self._fails:
            raise RuntimeError("failed")


class Tick:
    """Every part's wait moves the others on too, as time does."""

    def __init__(self, parts):
        self.parts = parts
        for part in parts:
            part.wait = self._tick

    def _tick(self, timeout=None):
        for part in self.parts:
            part._left -= 1


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Progress:
    def __init__(self):
        self.messages = []

    def begin(self, message="", **_):
        self.messages.append(message)

    def add(self, message="", **_):
        self.messages.append(message)

    def end(self, **_):
        pass


class Context:
    only_show_errors = False
    config = None

    def __init__(self):
        self.progress = Progress()

    def get_progress_controller(self, det=False):
        return self.progress


def _parts():
    parts = [Part("a (3 nodes)", 2), Part("b (2 nodes)", 4, fails=True)]
    Tick(parts)
    return parts


def test_on_a_terminal_each_pool_has_its_line_and_the_spinner_says_which_still_run():
    stream, ctx = Terminal(), Context()
    ConsoleInteraction(ctx, "az-imds", stream=stream).wait("Upgrading the node image of 2 pool(s): a, b", _parts())
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("  pool a (3 nodes) done (") and lines[1].startswith("  pool b (2 nodes) failed (")
    assert lines[2].startswith("Upgrading the node image of 2 pool(s): a, b: done (")
    assert any(m.endswith("; none done yet, a (3 nodes), b (2 nodes) still running") for m in ctx.progress.messages)
    assert any(m.endswith("; a (3 nodes) done, b (2 nodes) still running") for m in ctx.progress.messages)


def test_without_a_terminal_each_pool_is_a_log_line_and_a_long_wait_says_it_still_runs(monkeypatch, caplog):
    monkeypatch.setattr(interaction, "_HEARTBEAT_SECONDS", 0.0)
    caplog.set_level(logging.INFO)
    ConsoleInteraction(Context(), "az-imds", stream=io.StringIO()).wait("Upgrading 2 pool(s)", _parts())
    said = [r.getMessage() for r in caplog.records]
    assert said[0] == "Upgrading 2 pool(s) ..."
    assert any(m.startswith("Upgrading 2 pool(s): pool a (3 nodes) done (") for m in said)
    assert any(m.startswith("Upgrading 2 pool(s): pool b (2 nodes) failed (") for m in said)
    assert any(m.startswith("Still waiting: Upgrading 2 pool(s) (") and "a (3 nodes) done, b (2 nodes) still running"
               in m for m in said)


def test_one_unlabelled_wait_has_no_pool_lines():
    stream = Terminal()
    ConsoleInteraction(Context(), "az-imds", stream=stream).wait("Updating cluster 'c1'", [Part("", 2)])
    assert stream.getvalue().splitlines() == ["Updating cluster 'c1': done (0s)"]


def test_a_registration_is_a_poller_that_ends_at_its_state_or_its_deadline():
    states = iter(["Registering", "Registering", "Registered"])
    poller = RegistrationPoller(lambda: next(states), "Registered", timeout=60, interval=0, what="Feature 'x/y'")
    assert not poller.done() and poller.status() == "Registering"
    poller.wait()
    assert poller.done() and poller.result() == "Registered"
    stuck = RegistrationPoller(lambda: "Registering", "Registered", timeout=0, interval=0, what="Feature 'x/y'")
    stuck.wait()
    with pytest.raises(ImdsExtError, match="Feature 'x/y' is still 'Registering' after 0s"):
        stuck.result()
