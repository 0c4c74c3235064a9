"""The real `az aks` command set against the emulator: each command works, and prints what the service would."""
import pytest

pytestmark = pytest.mark.az

RG = "sweep"


@pytest.fixture
def group(az_logged_in, admin):
    assert az_logged_in("group", "create", "-n", RG, "-l", "westus2", "-o", "none").code == 0
    return RG


def ok(result):
    assert result.code == 0, result.err[-3000:]
    return result.json if result.out.strip().startswith(("{", "[")) else result.out


def test_create_with_defaults_resolves_versions_and_fills_what_the_service_fills(az_logged_in, group):
    created = ok(az_logged_in("aks", "create", "-g", group, "-n", "c1", "--no-ssh-key", "-o", "json"))
    assert created["kubernetesVersion"] and created["currentKubernetesVersion"].startswith(created["kubernetesVersion"])
    assert created["servicePrincipalProfile"]["clientId"] == "msi"
    assert created["networkProfile"]["networkPlugin"] == "azure"
    assert created["agentPoolProfiles"][0]["orchestratorVersion"] == created["kubernetesVersion"]
    shown = ok(az_logged_in("aks", "show", "-g", group, "-n", "c1", "-o", "json"))
    assert shown["provisioningState"] == "Succeeded" and shown["eTag"]
    listed = ok(az_logged_in("aks", "list", "-g", group, "-o", "json"))
    assert [c["name"] for c in listed] == ["c1"]
    table = ok(az_logged_in("aks", "list", "-o", "table"))
    assert "c1" in table and "Succeeded" in table


def test_common_create_and_update_options(az_logged_in, group):
    created = ok(az_logged_in("aks", "create", "-g", group, "-n", "c2", "--no-ssh-key", "--node-count", "2",
                              "--kubernetes-version", "1.32.5", "--enable-oidc-issuer", "--enable-workload-identity",
                              "--network-plugin", "kubenet", "--tags", "team=a", "-o", "json"))
    assert created["agentPoolProfiles"][0]["count"] == 2 and created["agentPoolProfiles"][0]["maxPods"] == 110
    assert created["oidcIssuerProfile"]["enabled"] and created["securityProfile"]["workloadIdentity"]["enabled"]
    updated = ok(az_logged_in("aks", "update", "-g", group, "-n", "c2", "--tags", "team=b", "-o", "json"))
    assert updated["tags"] == {"team": "b"} and updated["servicePrincipalProfile"]["clientId"] == "msi"
    upgraded = ok(az_logged_in("aks", "upgrade", "-g", group, "-n", "c2", "--kubernetes-version", "1.33.1", "--yes",
                               "-o", "json"))
    assert upgraded["currentKubernetesVersion"] == "1.33.1"


def test_versions_and_upgrades(az_logged_in, group):
    versions = ok(az_logged_in("aks", "get-versions", "-l", "westus2", "-o", "json"))
    assert [v["version"] for v in versions["values"]] == ["1.31", "1.32", "1.33"]
    ok(az_logged_in("aks", "create", "-g", group, "-n", "c3", "--no-ssh-key", "--kubernetes-version", "1.32.4",
                    "-o", "none"))
    upgrades = ok(az_logged_in("aks", "get-upgrades", "-g", group, "-n", "c3", "-o", "json"))
    assert {u["kubernetesVersion"] for u in upgrades["controlPlaneProfile"]["upgrades"]} == \
        {"1.32.5", "1.33.0", "1.33.1"}
    pool = ok(az_logged_in("aks", "nodepool", "get-upgrades", "-g", group, "--cluster-name", "c3", "-n",
                           "nodepool1", "-o", "json"))
    assert pool["kubernetesVersion"] == "1.32.4" and pool["latestNodeImageVersion"]
    refused = az_logged_in("aks", "upgrade", "-g", group, "-n", "c3", "--kubernetes-version", "1.31.9", "--yes")
    assert refused.code != 0 and "NotAllowedDowngrade" in refused.err


def test_node_pools_linux_and_windows(az_logged_in, group):
    ok(az_logged_in("aks", "create", "-g", group, "-n", "c4", "--no-ssh-key", "--network-plugin", "azure",
                    "--windows-admin-username", "azureuser", "--windows-admin-password", "Passw0rd!Passw0rd!",
                    "-o", "none"))
    linux = ok(az_logged_in("aks", "nodepool", "add", "-g", group, "--cluster-name", "c4", "-n", "user1",
                            "--node-count", "1", "-o", "json"))
    assert linux["osType"] == "Linux" and linux["provisioningState"] == "Succeeded"
    windows = ok(az_logged_in("aks", "nodepool", "add", "-g", group, "--cluster-name", "c4", "-n", "win1",
                              "--os-type", "Windows", "--os-sku", "Windows2022", "--node-count", "1", "-o", "json"))
    assert windows["osSku"] == "Windows2022" and windows["nodeImageVersion"].startswith("AKSWindows-2022-")
    pools = ok(az_logged_in("aks", "nodepool", "list", "-g", group, "--cluster-name", "c4", "-o", "json"))
    assert sorted(p["name"] for p in pools) == ["nodepool1", "user1", "win1"]
    shown = ok(az_logged_in("aks", "nodepool", "show", "-g", group, "--cluster-name", "c4", "-n", "user1", "-o",
                            "json"))
    assert shown["mode"] == "User"
    ok(az_logged_in("aks", "nodepool", "upgrade", "-g", group, "--cluster-name", "c4", "-n", "user1",
                    "--node-image-only", "--yes", "-o", "json"))  # az prints no result for this operation
    after = ok(az_logged_in("aks", "nodepool", "show", "-g", group, "--cluster-name", "c4", "-n", "user1", "-o",
                            "json"))
    assert after["provisioningState"] == "Succeeded" and after["nodeImageVersion"] == linux["nodeImageVersion"]
    ok(az_logged_in("aks", "nodepool", "delete", "-g", group, "--cluster-name", "c4", "-n", "win1", "-o", "none"))
    last = az_logged_in("aks", "nodepool", "delete", "-g", group, "--cluster-name", "c4", "-n", "nodepool1")
    assert last.code != 0 and "last System node pool" in last.err


def test_node_image_upgrade_of_the_cluster(az_logged_in, group, admin):
    ok(az_logged_in("aks", "create", "-g", group, "-n", "c5", "--no-ssh-key", "-o", "none"))
    result = ok(az_logged_in("aks", "upgrade", "-g", group, "-n", "c5", "--node-image-only", "--yes", "-o", "json"))
    assert {p["provisioningState"] for p in result["agentPoolProfiles"]} == {"Succeeded"}


def test_credentials_addons_wait_and_delete(az_logged_in, group, tmp_path, emulator):
    ok(az_logged_in("aks", "create", "-g", group, "-n", "c6", "--no-ssh-key", "-o", "none"))
    kubeconfig = tmp_path / "config"
    ok(az_logged_in("aks", "get-credentials", "-g", group, "-n", "c6", "--file", str(kubeconfig)))
    text = kubeconfig.read_text()
    assert "current-context: c6" in text and emulator.arm_endpoint in text
    admin_config = tmp_path / "admin"
    ok(az_logged_in("aks", "get-credentials", "-g", group, "-n", "c6", "--admin", "--file", str(admin_config)))
    assert "clusterAdmin_sweep_c6" in admin_config.read_text()
    enabled = ok(az_logged_in("aks", "enable-addons", "-g", group, "-n", "c6", "--addons",
                              "azure-keyvault-secrets-provider", "-o", "json"))
    assert enabled["addonProfiles"]["azureKeyvaultSecretsProvider"]["enabled"] is True
    disabled = ok(az_logged_in("aks", "disable-addons", "-g", group, "-n", "c6", "--addons",
                               "azure-keyvault-secrets-provider", "-o", "json"))
    assert disabled["addonProfiles"]["azureKeyvaultSecretsProvider"]["enabled"] is False
    ok(az_logged_in("aks", "wait", "-g", group, "-n", "c6", "--updated"))
    ok(az_logged_in("aks", "delete", "-g", group, "-n", "c6", "--yes"))
    gone = az_logged_in("aks", "show", "-g", group, "-n", "c6")
    assert gone.code == 3
