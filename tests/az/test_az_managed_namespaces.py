"""az's own `az aks namespace` commands (no extension) against the emulator, end to end: what a user who checks the
emulator by hand with the real CLI sees, from the recording test_aks_managed_namespace replays."""
import pytest
import yaml

from tests.az.conftest import logged_in
from tests.support.clusters import seed_cluster

pytestmark = pytest.mark.az

RG = "rg1"
QUOTA = ("--cpu-request", "500m", "--cpu-limit", "800m", "--memory-request", "1Gi", "--memory-limit", "2Gi")


@pytest.fixture(scope="module")
def az(fresh_az, emulator):
    return logged_in(fresh_az("az-namespaces"), emulator)


def test_az_aks_namespace_adds_lists_shows_updates_gets_credentials_and_deletes(az, admin, tmp_path):
    seed_cluster(admin, RG, "c1")
    added = az("aks", "namespace", "add", "-g", RG, "--cluster-name", "c1", "-n", "team-a", *QUOTA,
               "--labels", "team=a", "--egress-policy", "DenyAll", "-o", "json")
    assert added.code == 0, added.err
    props = added.json["properties"]
    assert props["provisioningState"] == "Succeeded" and props["labels"] == {"team": "a"}
    assert props["defaultNetworkPolicy"] == {"ingress": "AllowSameNamespace", "egress": "DenyAll"}

    listed = az("aks", "namespace", "list", "-g", RG, "--cluster-name", "c1", "-o", "json")
    assert listed.code == 0, listed.err
    assert [n["name"] for n in listed.json] == ["team-a"]
    # Without a cluster, az lists the group's namespaces through ARM's generic resource list.
    in_group = az("aks", "namespace", "list", "-g", RG, "-o", "json")
    assert in_group.code == 0, in_group.err
    assert [n["name"] for n in in_group.json] == ["c1/team-a"]

    updated = az("aks", "namespace", "update", "-g", RG, "--cluster-name", "c1", "-n", "team-a", *QUOTA,
                 "--labels", "team=b", "-o", "json")
    assert updated.code == 0, updated.err
    shown = az("aks", "namespace", "show", "-g", RG, "--cluster-name", "c1", "-n", "team-a", "-o", "json")
    assert shown.code == 0 and shown.json["properties"]["labels"] == {"team": "b"}, shown.err

    kubeconfig = tmp_path / "config"
    got = az("aks", "namespace", "get-credentials", "-g", RG, "--cluster-name", "c1", "-n", "team-a",
             "--file", str(kubeconfig))
    assert got.code == 0, got.err
    config = yaml.safe_load(kubeconfig.read_text())
    assert config["clusters"][0]["cluster"]["server"].endswith(f"/{RG}/c1")  # the emulated cluster's API server

    deleted = az("aks", "namespace", "delete", "-g", RG, "--cluster-name", "c1", "-n", "team-a")
    assert deleted.code == 0, deleted.err
    gone = az("aks", "namespace", "show", "-g", RG, "--cluster-name", "c1", "-n", "team-a")
    assert gone.code != 0 and "ResourceNotFound" in gone.err
