"""The az tier: the real Azure CLI with the extension installed from the wheel, against the emulator.

Session set-up, in order: the Azure CLI venv (cached outside the checkout, created on a fresh machine), the
wheel (built with the standard tools from a copy of the sources), a temporary AZURE_CONFIG_DIR /
AZURE_EXTENSION_DIR with the wheel added, and, for the tests that talk to ARM, az pointed at the emulator
(cloud register/set, instance discovery off, service-principal login with the emulator's CA).
"""
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imds_ext.emulator import WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_TENANT_ID
from tests.az.azcli import AZ, AZ_CLI_VERSION, AZ_VENV, REPO
from tests.support.cli import Result

def _az_installed() -> bool:
    # Cache key: the pinned azure-cli's dist-info in the venv.
    return AZ.exists() and bool(glob.glob(str(AZ_VENV / "lib" / "python*" / "site-packages" /
                                                  f"azure_cli-{AZ_CLI_VERSION}.dist-info")))


@pytest.fixture(scope="session")
def az_cli():
    """The `az` executable, installed into its own venv on first use (a few minutes on a fresh machine)."""
    if not _az_installed():
        shutil.rmtree(AZ_VENV, ignore_errors=True)
        AZ_VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(AZ_VENV)], check=True)
        subprocess.run([str(AZ_VENV / "bin" / "python"), "-m", "pip", "install", "-q",
                        f"azure-cli=={AZ_CLI_VERSION}"], check=True)
    return str(AZ)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """`python -m build --wheel` over a copy of the sources (no build/ or egg-info left in the checkout)."""
    src = tmp_path_factory.mktemp("wheel-src")
    for name in ("setup.py", "azext_metadata.json", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info",
                                                                             "azext_metadata.json"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(src)], check=True,
                   capture_output=True)
    wheels = list(out.glob("imds_ext-*-py3-none-any.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def az_environment(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZIMDS_"))}
    env.pop("REQUESTS_CA_BUNDLE", None)
    env.update(AZURE_CONFIG_DIR=str(home / "config"), AZURE_EXTENSION_DIR=str(home / "extensions"),
               AZURE_CORE_COLLECT_TELEMETRY="false", AZURE_CORE_SURVEY_MESSAGE="false", PYTHONPATH="")
    return env


def make_runner(az_path, env):
    def run(*args, stdin=subprocess.DEVNULL, extra_env=None, timeout=300):
        proc = subprocess.run([az_path, *args], stdin=stdin, capture_output=True, text=True, timeout=timeout,
                              env={**env, **(extra_env or {})})
        return Result(proc.returncode, proc.stdout, proc.stderr)

    run.env, run.az_path = env, az_path
    return run


@pytest.fixture(scope="session")
def fresh_az(az_cli, tmp_path_factory):
    """A factory: a runner over a new, empty AZURE_CONFIG_DIR / AZURE_EXTENSION_DIR."""

    def make(name="az-home"):
        home = tmp_path_factory.mktemp(name)
        run = make_runner(az_cli, az_environment(home))
        run.home = home
        return run

    return make


@pytest.fixture(scope="session")
def az(fresh_az, wheel):
    """`az` with the extension added from the wheel, as a user does it."""
    run = fresh_az()
    added = run("extension", "add", "--source", str(wheel), "--yes")
    assert added.code == 0, added.err
    return run


def logged_in(az, emulator):
    """`az` pointed at the emulator and logged in with its well-known service principal."""
    ca = {"REQUESTS_CA_BUNDLE": emulator.ca_bundle_path}

    def run(*args, **kwargs):
        return az(*args, extra_env={**ca, **(kwargs.pop("extra_env", None) or {})}, **kwargs)

    run.env, run.az_path, run.home = az.env, az.az_path, getattr(az, "home", None)
    for args in (("cloud", "register", "-n", "imdsemulator", "--endpoint-resource-manager", emulator.arm_endpoint),
                 ("cloud", "set", "-n", "imdsemulator"),
                 ("config", "set", "core.instance_discovery=false"),
                 ("login", "--service-principal", "-u", WELL_KNOWN_CLIENT_ID, "-p", WELL_KNOWN_CLIENT_SECRET,
                  "--tenant", WELL_KNOWN_TENANT_ID, "-o", "none")):
        result = run(*args)
        assert result.code == 0, f"az {' '.join(args[:2])}: {result.err}"
    return run


@pytest.fixture(scope="session")
def az_logged_in(az, emulator):
    return logged_in(az, emulator)
