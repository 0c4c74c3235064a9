"""The conformance tier reuses the emulator tier's fixtures (the raw ARM caller, the admin client)."""
from tests.emulator.conftest import admin, arm, credential, resources, token  # noqa: F401
