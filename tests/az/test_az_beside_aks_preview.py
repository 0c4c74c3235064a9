"""With aks-preview installed too (its stand-in, registered as aks-preview registers), the IMDS flags run
imds-ext's whole flow inside az, whoever registered them; every other option stays aks-preview's."""
import pytest

from tests.az.conftest import logged_in
from tests.az.test_az_guest import seed_due
from tests.az.test_az_install import install_aks_preview_stand_in
from tests.support.clusters import seed_cluster
from tests.support.constants import FEATURE, PREVIEW_API

pytestmark = pytest.mark.az

RG = "rg1"


@pytest.fixture(scope="module")
def az_with_preview(fresh_az, wheel, emulator):
    run = fresh_az("az-with-preview")
    assert run("extension", "add", "--source", str(wheel), "--yes").code == 0
    install_aks_preview_stand_in(run.home / "extensions")
    return logged_in(run, emulator)


def test_update_with_the_flag_runs_the_whole_flow(az_with_preview, admin):
    seed_cluster(admin, RG, "c1")
    result = az_with_preview("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes", "-o",
                             "json")
    assert result.code == 0, result.err
    assert "handledBy" not in result.out and result.json["networkProfile"]["podLinkLocalAccess"] == "None"
    assert set(admin.enforced(RG, "c1").values()) == {"None"}  # preflight, PUT, and the reimage: the whole job
    [put] = admin.requests("PUT", "/managedClusters/c1")
    assert put["query"]["api-version"] == PREVIEW_API and put["headers"].get("If-Match")


def test_other_update_options_stay_aks_previews(az_with_preview, admin):
    seed_cluster(admin, RG, "c1")
    result = az_with_preview("aks", "update", "-g", RG, "-n", "c1", "--tags", "a=b", "-o", "json")
    assert result.code == 0, result.err
    assert result.json == {"handledBy": "aks-preview stand-in", "tags": {"a": "b"}}
    mixed = az_with_preview("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--tags", "a=b",
                            "--yes")
    assert mixed.code == 2 and "cannot be combined with other 'az aks update' options" in mixed.err
    assert admin.requests("PUT") == []


def test_a_blocker_stops_the_update_before_any_change(az_with_preview, admin):
    seed_cluster(admin, RG, "c1", feature="NotRegistered")
    result = az_with_preview("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes")
    assert result.code == 1 and "IMDSRestrictionPreview" in result.err
    assert admin.requests("PUT") == []


def test_node_image_only_upgrade_is_aks_previews_unless_the_imds_reimage_is_due(az_with_preview, admin):
    seed_cluster(admin, RG, "c1", restricted=True, nodes={"nodepool1": {"podLinkLocalAccess": "IMDS"},
                                                          "userpool": {"podLinkLocalAccess": "IMDS"}})
    plain = az_with_preview("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--yes", "-o", "json")
    assert plain.code == 0, plain.err
    assert plain.json["handledBy"] == "aks-preview stand-in" and "imds-ext" not in plain.err
    seed_due(admin, pools=("nodepool1", "userpool"))
    due = az_with_preview("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--yes", "-o", "json")
    assert due.code == 0, due.err
    assert "imds-ext: the IMDS restriction of cluster 'c1' is not yet enforced" in due.err
    assert set(admin.enforced(RG, "c1").values()) == {"None"}
    other = az_with_preview("aks", "upgrade", "-g", RG, "-n", "c1", "-k", "1.33.1", "--yes", "-o", "json")
    assert other.json["handledBy"] == "aks-preview stand-in"


def test_create_with_the_flag_is_checked_before_and_verified_after(az_with_preview, admin):
    admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}], features={FEATURE: "NotRegistered"})
    refused = az_with_preview("aks", "create", "-g", RG, "-n", "new1", "--enable-oidc-issuer",
                              "--enable-imds-restriction")
    assert refused.code == 1 and "IMDSRestrictionPreview" in refused.err
    no_issuer = az_with_preview("aks", "create", "-g", RG, "-n", "new1", "--enable-imds-restriction",
                                "--aks-custom-headers", f"AKSHTTPCustomFeatures={FEATURE}")
    assert no_issuer.code == 1 and "--enable-oidc-issuer" in no_issuer.err
    assert admin.requests("PUT") == []
    admin.seed(features={FEATURE: "Registered"})
    created = az_with_preview("aks", "create", "-g", RG, "-n", "new1", "--enable-oidc-issuer",
                              "--enable-imds-restriction", "-o", "json")
    assert created.code == 0, created.err
    assert admin.nodes(RG, "new1")["podLinkLocalAccess"] == "None"
    assert set(admin.enforced(RG, "new1").values()) == {"None"}
