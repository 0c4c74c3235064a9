"""What real clients read from the service and the emulator now answers alike: versions, defaults, kept fields,
upgrade profiles, credentials, the last System pool, no eTag on a create, the faithful polling mode."""
import base64
import json
from urllib.parse import urlsplit

import pytest
from azure.core.exceptions import HttpResponseError

from tests.support.clusters import cluster_body, pool
from tests.support.constants import SUB

MC = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters"


def _create(arm, name="c1", **body):
    r = arm("PUT", f"{MC}/{name}", json=body or cluster_body(kubernetes_version=""))
    assert r.status_code == 201, r.text
    return r


def test_an_empty_version_resolves_to_the_default_minor_and_its_latest_patch(arm, rg, admin):
    created = _create(arm).json()
    props = created["properties"]
    assert (props["kubernetesVersion"], props["currentKubernetesVersion"]) == ("1.33", "1.33.1")
    assert {(p["orchestratorVersion"], p["currentOrchestratorVersion"]) for p in props["agentPoolProfiles"]} == \
        {("1.33", "1.33.1")}
    assert "eTag" not in created and all("eTag" not in p for p in props["agentPoolProfiles"])
    assert arm("GET", f"{MC}/c1").json()["eTag"]  # a read then carries it


@pytest.mark.parametrize("version, code", [("1.29.1", "VersionNotSupported"), ("1.31.9", "NotAllowedDowngrade")])
def test_versions_the_service_refuses(arm, rg, admin, version, code):
    arm("PUT", f"{MC}/c1", json=cluster_body(kubernetes_version="1.32.5"))
    r = arm("PUT", f"{MC}/c1", json=cluster_body(kubernetes_version=version))
    assert r.status_code == 400 and r.json()["code"] == code


def test_an_upgrade_may_not_skip_a_minor(arm, rg, admin):
    arm("PUT", f"{MC}/c1", json=cluster_body(kubernetes_version="1.31.9"))
    r = arm("PUT", f"{MC}/c1", json=cluster_body(kubernetes_version="1.33.1"))
    assert r.status_code == 400 and r.json()["code"] == "UpgradeNotAllowed" and "1.32.5" in r.json()["message"]
    assert arm("PUT", f"{MC}/c1", json=cluster_body(kubernetes_version="1.32.5")).status_code == 200


def test_upgrade_profiles_list_what_the_cluster_may_move_to(arm, rg, admin):
    arm("PUT", f"{MC}/c1", json=cluster_body(kubernetes_version="1.32.4"))
    control = arm("GET", f"{MC}/c1/upgradeProfiles/default").json()["properties"]["controlPlaneProfile"]
    assert control["kubernetesVersion"] == "1.32.4"
    assert [u["kubernetesVersion"] for u in control["upgrades"]] == ["1.33.1", "1.33.0", "1.32.5"]
    pool_profile = arm("GET", f"{MC}/c1/agentPools/nodepool1/upgradeProfiles/default").json()["properties"]
    assert pool_profile["kubernetesVersion"] == "1.32.4" and pool_profile["latestNodeImageVersion"].startswith(
        "AKSUbuntu-")


def test_what_the_service_fills_in_and_keeps(arm, rg, admin):
    body = cluster_body()
    body["properties"]["networkProfile"] = {}
    body["properties"]["storageProfile"] = {}
    props = _create(arm, **body).json()["properties"]
    assert props["servicePrincipalProfile"] == {"clientId": "msi"}  # a managed-identity cluster
    network = props["networkProfile"]
    assert (network["networkPlugin"], network["networkPluginMode"], network["networkPolicy"]) == \
        ("azure", "overlay", "none")
    assert network["podCidrs"] == ["10.244.0.0/16"] and network["ipFamilies"] == ["IPv4"]
    assert props["storageProfile"]["diskCSIDriver"] == {"enabled": True, "version": "v1"}
    assert props["supportPlan"] == "KubernetesOfficial" and props["oidcIssuerProfile"]["enabled"] is True
    first = props["agentPoolProfiles"][0]
    assert (first["maxPods"], first["osDiskType"], first["kubeletDiskType"], first["osSKU"]) == \
        (250, "Managed", "OS", "Ubuntu")
    # A later PUT that leaves out what the service keeps (as az does with servicePrincipalProfile) keeps it.
    update = cluster_body()
    update["properties"].pop("networkProfile")
    kept = arm("PUT", f"{MC}/c1", json=update).json()["properties"]
    assert kept["servicePrincipalProfile"] == {"clientId": "msi"}
    assert kept["networkProfile"]["networkPluginMode"] == "overlay"


def test_a_windows_pool_is_modelled_as_windows(aks, arm, rg, admin):
    aks.managed_clusters.begin_create_or_update("rg1", "c1", cluster_body(pools=["nodepool1"])).result()
    created = aks.agent_pools.begin_create_or_update("rg1", "c1", "npwin", {"properties": {
        "osType": "Windows", "count": 1, "mode": "User", "vmSize": "Standard_D2s_v3"}}).result()
    assert (created.os_sku, created.max_pods) == ("Windows2022", 250)
    assert created.node_image_version.startswith("AKSWindows-2022-")


def test_the_last_system_pool_cannot_be_deleted(aks, rg, admin):
    aks.managed_clusters.begin_create_or_update("rg1", "c1", cluster_body(pools=["nodepool1", "userpool"])).result()
    with pytest.raises(HttpResponseError) as e:
        aks.agent_pools.begin_delete("rg1", "c1", "nodepool1").result()
    assert e.value.error.code == "OperationNotAllowed" and "last System node pool" in e.value.error.message
    aks.agent_pools.begin_delete("rg1", "c1", "userpool").result()
    assert [p.name for p in aks.agent_pools.list("rg1", "c1")] == ["nodepool1"]


def test_credentials_are_kubeconfigs_that_trust_the_emulator_ca(arm, rg, admin, emulator):
    _create(arm, **cluster_body(pools=[pool("nodepool1", mode="System")]))
    answer = arm("POST", f"{MC}/c1/listClusterUserCredential").json()
    [entry] = answer["kubeconfigs"]
    config = json.loads(base64.b64decode(entry["value"]))
    assert entry["name"] == "clusterUser" and config["current-context"] == "c1"
    cluster = config["clusters"][0]["cluster"]
    with open(emulator.ca_bundle_path, encoding="ascii") as f:
        assert base64.b64decode(cluster["certificate-authority-data"]).decode() == f.read()
    assert cluster["server"].startswith(emulator.arm_endpoint)
    again = json.loads(base64.b64decode(arm("POST", f"{MC}/c1/listClusterUserCredential").json()["kubeconfigs"][0][
        "value"]))
    assert again["users"][0]["user"]["token"] == config["users"][0]["user"]["token"]  # static, as the service's


def test_admin_credentials_are_refused_without_local_accounts(arm, rg, admin):
    _create(arm, **cluster_body(disableLocalAccounts=True, aadProfile={"managed": True}))
    r = arm("POST", f"{MC}/c1/listClusterAdminCredential")
    assert r.status_code == 400 and "disable local accounts" in r.json()["message"]
    user = json.loads(base64.b64decode(arm("POST", f"{MC}/c1/listClusterUserCredential").json()["kubeconfigs"][0][
        "value"]))["users"][0]["user"]
    assert user["exec"]["command"] == "kubelogin" and "6dae42f8-4368-4678-94ff-3960e28e3630" in user["exec"]["args"]


def test_an_api_the_emulator_does_not_serve_is_not_a_missing_resource(arm, rg, admin):
    r = arm("GET", f"{MC}/c1/maintenanceConfigurations")
    assert r.status_code == 501 and r.json()["error"]["code"] == "NotImplemented"


def test_the_faithful_mode_sends_no_retry_after(arm, rg, admin):
    admin.config(lro_delay=30, retry_after=None)
    assert "Retry-After" in _create(arm, name="c1").headers
    admin.config(omit_retry_after=True)
    r = _create(arm, name="c2")
    assert "Retry-After" not in r.headers and "Azure-AsyncOperation" in r.headers
    operation = urlsplit(r.headers["Azure-AsyncOperation"])
    status = arm("GET", f"{operation.path}?{operation.query}", api=None)
    assert status.json()["status"] == "InProgress" and "Retry-After" not in status.headers


def test_the_latest_operation_of_a_cluster(arm, rg, admin):
    r = _create(arm)
    operation_id = r.headers["Azure-AsyncOperation"].split("/operations/", 1)[1].split("?", 1)[0]
    latest = arm("GET", f"{MC}/c1/operations/latest").json()
    assert latest["name"] == operation_id and latest["status"] in ("InProgress", "Succeeded")
    assert latest["id"].endswith(f"/managedClusters/c1/operations/{operation_id}")
    assert arm("GET", f"{MC}/c1/operations/{operation_id}").json()["name"] == operation_id
    assert arm("GET", f"{MC}/c1/operations/00000000-0000-0000-0000-000000000009").status_code == 404
