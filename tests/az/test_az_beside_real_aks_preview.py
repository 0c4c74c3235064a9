"""Beside the real aks-preview (19.0.0b16, tests/az/aks_preview/): its `aks create` and `aks update` with the IMDS
flags run imds-ext's whole job inside az and end as az ends them; everything else stays aks-preview's."""
from pathlib import Path

import pytest

from tests.az.conftest import logged_in
from tests.support.clusters import seed_cluster
from tests.support.constants import FEATURE

pytestmark = pytest.mark.az

RG = "rg1"
AKS_PREVIEW = Path(__file__).parent / "aks_preview" / "aks_preview-19.0.0b16-py2.py3-none-any.whl"


@pytest.fixture(scope="module")
def az_with_real_preview(fresh_az, wheel, emulator):
    run = fresh_az("az-with-real-preview")
    for source in (wheel, AKS_PREVIEW):
        added = run("extension", "add", "--source", str(source), "--yes", timeout=600)
        assert added.code == 0, added.err
    return logged_in(run, emulator)


def test_both_extensions_are_installed(az_with_real_preview):
    listed = {e["name"]: e["version"] for e in az_with_real_preview("extension", "list", "-o", "json").json}
    assert listed["aks-preview"] == "19.0.0b16" and "imds-ext" in listed


def test_create_with_the_flag_beside_aks_preview_succeeds_and_is_restricted(az_with_real_preview, admin):
    admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}], features={FEATURE: "Registered"})
    created = az_with_real_preview("aks", "create", "-g", RG, "-n", "new1", "--enable-oidc-issuer",
                                   "--enable-imds-restriction", "--node-count", "1", "--no-ssh-key",
                                   "-o", "json", timeout=600)
    assert created.code == 0, created.err
    assert "Traceback" not in created.err and "has no attribute" not in created.err
    assert created.json["networkProfile"]["podLinkLocalAccess"] == "None"
    assert admin.nodes(RG, "new1")["podLinkLocalAccess"] == "None"


def test_update_with_the_flag_beside_aks_preview_runs_the_whole_flow(az_with_real_preview, admin):
    seed_cluster(admin, RG, "c1")
    result = az_with_real_preview("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes",
                                  "-o", "json")
    assert result.code == 0, result.err
    assert result.json["networkProfile"]["podLinkLocalAccess"] == "None"
    assert set(admin.enforced(RG, "c1").values()) == {"None"}
