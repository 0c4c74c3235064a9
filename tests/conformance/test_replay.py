"""The emulator answers the requests of five real recordings of the AKS service as the service did."""
import pytest

from tests.conformance.replay import era, replay

# recording: the resource group it runs in, and where
RECORDINGS = {
    "test_aks_enable_imds_restriction": ("clitest000001", "centraluseuap"),
    "test_aks_get_upgrades": ("clitest000001", "westus2"),
    "test_aks_upgrade_node_image_only_cluster": ("clitest000001", "westus2"),
    "test_aks_upgrade_node_image_only_nodepool": ("clitest000001", "westus2"),
    "test_aks_nodepool_add_with_ossku_windows2022": ("clitest000001", "westus2"),
}


@pytest.mark.parametrize("name", list(RECORDINGS))
def test_the_emulator_answers_as_the_service_did(name, arm, admin):
    group, location = RECORDINGS[name]
    groups, versions = era(name)
    admin.seed(resourceGroups=groups or [{"name": group, "location": location}])
    if versions:
        admin.config(kubernetes_versions=versions)
    differences = replay(name, arm)
    assert not differences, f"{len(differences)} difference(s):\n" + "\n".join(differences)
