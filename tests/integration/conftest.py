"""Integration tier: the real `az-imds` (a subprocess, as a user runs it) against the emulator over HTTPS."""
import functools
import os
import subprocess
import sys

import pytest

from tests.support.cli import Result
from tests.support.clusters import seed_cluster as _seed_cluster


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
    """seed_cluster(**kwargs): tests.support.clusters.seed_cluster over this test's admin client."""
    return functools.partial(_seed_cluster, admin)
