"""A local emulator of the slice of Azure Resource Manager imds-ext uses (see docs/emulator.md).

Layers: models.py (state and the service's behaviour) and rules.py (the IMDS-restriction rules) know
nothing of HTTP; responses.py maps requests onto them; urls.py is the one URL map; auth.py, tls.py and
server.py provide tokens, certificates and the server's lifecycle.
"""
from imds_ext.emulator.constants import (
    WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_SUBSCRIPTION_ID, WELL_KNOWN_TENANT_ID,
)
from imds_ext.emulator.errors import StateFileError
from imds_ext.emulator.server import Emulator

__all__ = ["Emulator", "StateFileError", "WELL_KNOWN_CLIENT_ID", "WELL_KNOWN_CLIENT_SECRET",
           "WELL_KNOWN_SUBSCRIPTION_ID", "WELL_KNOWN_TENANT_ID"]
