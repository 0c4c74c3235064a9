"""The extension as az installs it: the wheel, help, `az --version`, removal, aks-preview side by side."""
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.az.azcli import REPO

pytestmark = pytest.mark.az

FLAGS = ("--enable-imds-restriction", "--disable-imds-restriction")


def test_wheel_ships_the_metadata_inside_the_extension_module_and_declares_no_dependency(wheel):
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        shipped = json.loads(whl.read("azext_imds/azext_metadata.json"))
        metadata = next(whl.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert json.loads((REPO / "azext_metadata.json").read_text()) == shipped
    assert shipped["azext.isPreview"] is True and shipped["azext.minCliCoreVersion"] == "2.91.0"
    assert {"azext_imds/__init__.py", "imds_ext/core/service.py"} <= names
    # What az would pip-install into the extension folder next to its own SDKs: nothing unconditional.
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires and all("extra ==" in line for line in requires), requires


def test_az_lists_the_extension_and_still_reports_its_version(az):
    listed = az("extension", "list", "-o", "json")
    assert listed.code == 0, listed.err
    [ext] = listed.json
    metadata = json.loads((REPO / "azext_metadata.json").read_text(encoding="utf-8"))
    assert (ext["name"], ext["version"], ext["preview"]) == \
        ("imds-ext", metadata["version"], metadata["azext.isPreview"])
    version = az("--version")
    assert version.code == 0, version.err
    assert "azure-cli" in version.out
    assert re.search(rf"^Extensions:\s*\nimds-ext\s+{re.escape(metadata['version'])}$", version.out, re.M), \
        version.out


def test_update_help_lists_both_flags_with_their_help(az):
    result = az("aks", "update", "--help")
    assert result.code == 0, result.err
    assert "IMDS Restriction (imds-ext) Arguments" in result.out
    for flag in (*FLAGS, "--skip-node-image-upgrade"):
        assert flag in result.out
    text = " ".join(result.out.split())  # help wraps lines
    assert "Enable IMDS restriction in the cluster" in text
    assert "Disable IMDS restriction in the cluster" in text
    # az's own options are all still there.
    for core in ("--tags", "--enable-oidc-issuer", "--attach-acr", "--if-match", "--aks-custom-headers"):
        assert core in result.out
    assert "altered by the following extension" not in result.out + result.err


def test_create_help_lists_the_enable_flag(az):
    result = az("aks", "create", "--help")
    assert result.code == 0, result.err
    assert "--enable-imds-restriction" in result.out and "--disable-imds-restriction" not in result.out
    assert "Requires --enable-oidc-issuer" in " ".join(result.out.split())
    assert "--node-count" in result.out


def test_show_command_help(az):
    result = az("aks", "imds-restriction", "show", "--help")
    assert result.code == 0, result.err
    assert "Show the IMDS restriction state" in " ".join(result.out.split())


@pytest.mark.parametrize("args, message", [
    (FLAGS, "Cannot specify --enable-imds-restriction and --disable-imds-restriction at the same time."),
    (("--skip-node-image-upgrade",), "--skip-node-image-upgrade goes with"),
    (("--disable-imds-restriction", "--enable-oidc-issuer"), "--enable-oidc-issuer goes with"),
    (("--enable-imds-restriction", "--aks-custom-headers", "nonsense"), "--aks-custom-headers"),
])
def test_usage_errors_exit_2_before_any_request(az, args, message):
    # Not logged in: a usage error must come before anything that needs a login.
    result = az("aks", "update", "-g", "rg1", "-n", "c1", *args)
    assert result.code == 2, result.err
    assert message in result.err and "Traceback" not in result.err


def test_remove_leaves_az_as_it_was(fresh_az, wheel):
    run = fresh_az("az-remove")
    before = run("aks", "update", "--help")
    assert run("extension", "add", "--source", str(wheel), "--yes").code == 0
    assert "--enable-imds-restriction" in run("aks", "update", "--help").out
    removed = run("extension", "remove", "--name", "imds-ext")
    assert removed.code == 0, removed.err
    after = run("aks", "update", "--help")
    assert after.code == 0 and after.out == before.out
    assert run("extension", "list", "-o", "json").json == []
    assert "Extensions:" not in run("--version").out
    gone = run("aks", "imds-restriction", "show", "-g", "g", "-n", "n")
    assert gone.code == 2 and "imds-restriction" in gone.err


def install_aks_preview_stand_in(extensions_dir):
    """The stand-in (aks_preview_standin/), laid out as `az extension add` lays a wheel out: the module, its
    azext_metadata.json, a dist-info."""
    root = extensions_dir / "aks-preview"
    module = root / "azext_aks_preview"
    module.mkdir(parents=True)
    shutil.copy(Path(__file__).parent / "aks_preview_standin" / "__init__.py", module / "__init__.py")
    (module / "azext_metadata.json").write_text(
        json.dumps({"azext.isPreview": True, "azext.minCliCoreVersion": "2.61.0"}))
    info = root / "aks_preview-19.0.0b1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: aks-preview\nVersion: 19.0.0b1\n")


def test_aks_preview_installed_too_leaves_help_and_its_options_alone(fresh_az, wheel):
    run = fresh_az("az-with-preview-help")
    assert run("extension", "add", "--source", str(wheel), "--yes").code == 0
    install_aks_preview_stand_in(run.home / "extensions")
    assert {e["name"] for e in run("extension", "list", "-o", "json").json} == {"aks-preview", "imds-ext"}
    helped = run("aks", "update", "--help")
    assert helped.code == 0 and "Traceback" not in helped.err
    assert helped.out.count("--enable-imds-restriction") >= 1 and "--skip-node-image-upgrade" in helped.out


def test_rollout_commands_have_help_with_examples_inside_az(az):
    for command in (("aks", "imds-restriction", "rollout", "start"), ("aks", "imds-restriction", "rollout", "status")):
        helped = az(*command, "--help")
        assert helped.code == 0 and "Examples" in helped.out and "az aks imds-restriction rollout" in helped.out
        assert "az-imds" not in helped.out
