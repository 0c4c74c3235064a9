"""Where the az tier's Azure CLI lives, and which version it is."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AZ_CLI_VERSION = "2.91.0"  # = azext.minCliCoreVersion: the oldest core this tier runs against
AZ_VENV = Path(os.environ.get("IMDS_EXT_AZ_VENV") or Path.home() / ".cache" / "imds-ext" / "azcli")
AZ = AZ_VENV / "bin" / "az"
