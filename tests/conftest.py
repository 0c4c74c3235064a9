"""Fixtures shared by every test tier: one HTTPS ARM emulator for the whole session."""
import pytest

from imds_ext.emulator import Emulator


@pytest.fixture(scope="session")
def emulator():
    """The in-process emulator (docs/emulator.md). Tests reset it through the admin API, not by restarting."""
    with Emulator(lro_delay=0.0, registration_delay=0.0) as emu:
        yield emu
