"""A local emulator of the slice of Azure Resource Manager imds-ext uses (see docs/emulator.md).

Layers (docs/architecture.md):
- back end, no HTTP: backend.py wires store.py (state, lock, transactions, state file), operations.py
  (long-running operations), conditions.py (eTags) and one back end per ARM provider under providers/, each
  with its typed records (records.py), rules and rendering; seeding.py loads the admin API's seed documents;
- HTTP: responses/ maps requests onto the back ends, one module per provider; urls.py is the one URL map;
  app.py does routing, authentication, api-version checks, faults and the request log (admin.py);
- around them: auth.py (Entra tokens), tls.py (certificates), server.py (the server's lifecycle).
"""
from imds_ext.emulator.constants import (
    WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_SUBSCRIPTION_ID, WELL_KNOWN_TENANT_ID,
)
from imds_ext.emulator.errors import StartError, StateFileError
from imds_ext.emulator.server import Emulator

__all__ = ["Emulator", "StartError", "StateFileError", "WELL_KNOWN_CLIENT_ID", "WELL_KNOWN_CLIENT_SECRET",
           "WELL_KNOWN_SUBSCRIPTION_ID", "WELL_KNOWN_TENANT_ID"]
