"""Integration tier: the real `az-imds` (a subprocess, as a user runs it) against the emulator over HTTPS."""
import os
import subprocess
import sys

import pytest

from cli_result import Result
from integration_support import FEATURE, RG, Admin, cluster_body


@pytest.fixture
def admin(emulator):
    admin = Admin(emulator)
    admin.reset()
    return admin


@pytest.fixture
def cli_env(emulator, tmp_path):
    env = dict(os.environ)
    for key in ("AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"):
        env.pop(key, None)
    env.update(emulator.env())
    env["AZIMDS_CONFIG_DIR"] = str(tmp_path / "config")
    env["AZURE_CONFIG_DIR"] = str(tmp_path / "azure")  # never read the developer's az login
    return env


@pytest.fixture
def az_imds(cli_env):
    """Run `az-imds ARGS` as a user would; stdin is not a terminal unless given a pty."""

    def run(*args, stdin=subprocess.DEVNULL, env=None):
        proc = subprocess.run([sys.executable, "-m", "imds_ext", *args], stdin=stdin, capture_output=True,
                              text=True, env=env or cli_env, timeout=180)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def seed_cluster(admin):
    """Seed a cluster (bypassing the service's rules) and, by default, a Registered feature."""

    def seed(name="c1", feature="Registered", extensions=(), nodes=None, **body_kwargs):
        admin.seed(
            resourceGroups=[{"name": RG, "location": "westus2"}],
            features={FEATURE: feature},
            clusters=[{"resourceGroup": RG, "name": name, "cluster": cluster_body(**body_kwargs),
                       **({"nodes": nodes} if nodes else {})}],
            extensions=[{"resourceGroup": RG, "cluster": name, "name": e[0], "extensionType": e[1]}
                        for e in extensions])
        admin.clear_requests()
        return name

    return seed
