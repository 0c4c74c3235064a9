"""Wait overhead with the service's own polling behaviour (no Retry-After): how long after an operation ends does
the command notice, for `az-imds aks update --enable-imds-restriction` (its own polling: a quarter of the elapsed
time) and for the real az's own long-running operation (`az aks update --tags`, azure-core's default 30 s
interval), with the number of requests each made.
The emulator runs in its faithful mode, every operation taking --lro-delay seconds.

    python benchmarks/bench_wait.py [--lro-delay 20]

The real az is the one the az test tier installs (~/.cache/imds-ext/azcli); its row is left out without it.
No assertions: read the figures.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from imds_ext.emulator import (WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_TENANT_ID, Emulator)
from imds_ext.emulator.client import AdminClient

CLUSTER = {"location": "westus2", "identity": {"type": "SystemAssigned"}, "properties": {
    "dnsPrefix": "bench", "oidcIssuerProfile": {"enabled": True},
    "securityProfile": {"workloadIdentity": {"enabled": True}},
    "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "mode": "System"},
                          {"name": "userpool", "count": 2, "mode": "User"}]}}


def seed(admin):
    admin.reset()
    admin.seed(resourceGroups=[{"name": "bench", "location": "westus2"}],
               features={"Microsoft.ContainerService/IMDSRestrictionPreview": "Registered"},
               clusters=[{"resourceGroup": "bench", "name": "c1", "cluster": CLUSTER}])
    admin.clear_requests()


def timed(argv, env):
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed: {result.stderr[-2000:]}")
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lro-delay", type=float, default=20.0)
    delay = parser.parse_args().lro_delay
    az = Path(os.environ.get("IMDS_EXT_AZ_VENV") or Path.home() / ".cache" / "imds-ext" / "azcli") / "bin" / "az"
    rows = []
    with Emulator(lro_delay=delay, omit_retry_after=True) as emu:
        admin = AdminClient.for_emulator(emu)
        env = {**os.environ, **emu.env(), "AZIMDS_CONFIG_DIR": tempfile.mkdtemp()}
        seed(admin)
        # The flow waits for three operations one after another: the update, the pools' upgrades (together),
        # the record's tags PATCH.
        wall = timed([sys.executable, "-m", "imds_ext", "aks", "update", "-g", "bench", "-n", "c1",
                      "--enable-imds-restriction", "--yes", "-o", "none"], env)
        startup = timed([sys.executable, "-m", "imds_ext", "aks", "show", "-g", "bench", "-n", "c1", "-o", "none"], env)
        rows.append(("az-imds aks update --enable-imds-restriction", 3, wall, startup,
                     len([e for e in admin.requests() if e["path"].startswith("/subscriptions/")])))
        if az.exists():
            home = tempfile.mkdtemp()
            az_env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZIMDS_"))}
            az_env.update(AZURE_CONFIG_DIR=home, REQUESTS_CA_BUNDLE=emu.ca_bundle_path,
                          AZURE_CORE_COLLECT_TELEMETRY="false")
            for args in (("cloud", "register", "-n", "bench", "--endpoint-resource-manager", emu.arm_endpoint),
                         ("cloud", "set", "-n", "bench"), ("config", "set", "core.instance_discovery=false"),
                         ("login", "--service-principal", "-u", WELL_KNOWN_CLIENT_ID, "-p", WELL_KNOWN_CLIENT_SECRET,
                          "--tenant", WELL_KNOWN_TENANT_ID, "-o", "none")):
                timed([str(az), *args], az_env)
            seed(admin)
            wall = timed([str(az), "aks", "update", "-g", "bench", "-n", "c1", "--tags", "a=b", "-o", "none"], az_env)
            startup = timed([str(az), "aks", "show", "-g", "bench", "-n", "c1", "-o", "none"], az_env)
            rows.append(("az aks update --tags (az's own polling)", 1, wall, startup,
                         len([e for e in admin.requests() if e["path"].startswith("/subscriptions/")])))
    print(f"operations of {delay:.0f} s each, no Retry-After (the service's behaviour)")
    print(f"{'command':<46} {'waits':>5} {'wall s':>7} {'overhead per wait s':>20} {'requests':>9}")
    for label, waits, wall, startup, requests in rows:
        overhead = (wall - startup - waits * delay) / waits
        print(f"{label:<46} {waits:>5} {wall:>7.1f} {overhead:>20.1f} {requests:>9}")
    print("(overhead per wait: wall time less a plain read's wall time and the operations' own time, per operation "
          "waited for; goal: under 5 s)")


if __name__ == "__main__":
    main()
