"""Fixtures shared by every test tier: one HTTPS ARM emulator for the whole session, and its admin client."""
import pytest

from imds_ext.emulator import Emulator
from imds_ext.emulator.client import AdminClient


@pytest.fixture(scope="session")
def emulator():
    """The in-process emulator (docs/emulator.md). Tests reset it through the admin API, not by restarting."""
    with Emulator(lro_delay=0.0, registration_delay=0.0) as emu:
        yield emu


@pytest.fixture
def admin(emulator):
    """The emulator's admin API over a fresh start state (no delays, no faults, an empty request log)."""
    client = AdminClient.for_emulator(emulator)
    client.reset()
    return client
