"""`--help`, usage errors and `--version` load no Azure SDK, no azure-core, no HTTP or crypto library: they are
answered from the command table alone (checked in a clean interpreter, as a user's shell would start it)."""
import json
import subprocess
import sys

import pytest

HEAVY = ("azure.core", "azure.identity", "azure.mgmt.containerservice", "azure.mgmt.resource", "msal", "requests",
         "cryptography", "imds_ext.core.service", "imds_ext.emulator")

PROBE = """
import contextlib, io, json, sys
from imds_ext.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize("args, code", [
    (["aks", "update", "--help"], 0),
    (["--help"], 0),
    (["aks", "update", "-g", "rg", "-n", "c1", "--enable-imds-restriction", "--disable-imds-restriction"], 2),
    (["--version"], 0),
])
def test_answered_without_loading_the_sdks(args, code):
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["code"] == code
    loaded = [m for m in result["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == [], loaded
