"""What real clients read from the service and the emulator now answers alike: versions, defaults, kept fields,
upgrade profiles, credentials, the last System pool, no eTag on a create, the faithful polling mode."""
import base64
import json
from urllib.parse import urlsplit

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from tests.support.clusters import cluster_body, pool, settle
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


def test_a_pool_upgrades_no_further_than_its_control_plane(arm, rg, admin):
    # test_aks_get_upgrades: a pool on its cluster's version lists no upgrade, though the region offers newer ones.
    arm("PUT", f"{MC}/c1", json=cluster_body(kubernetes_version="1.32.4"))
    pool_profile = arm("GET", f"{MC}/c1/agentPools/nodepool1/upgradeProfiles/default").json()["properties"]
    assert pool_profile.get("upgrades") is None


def test_the_region_default_version_is_configurable(arm, rg, admin):
    admin.config(kubernetes_versions=["1.31.9", "1.32.5", "1.33.1"], default_kubernetes_version="1.32")
    assert _create(arm).json()["properties"]["kubernetesVersion"] == "1.32"
    with pytest.raises(requests.HTTPError) as e:
        admin.config(default_kubernetes_version="1.29")
    assert e.value.response.status_code == 400 and "defaultKubernetesVersion" in e.value.response.text


def test_a_create_without_a_network_plugin_gets_kubenet_before_kubernetes_1_30(arm, rg, admin):
    # 2024-09-04: at 1.29 kubenet (test_aks_create_with_app_routing_enabled), at 1.30.3 overlay (test_aks_approuting_
    # enable_with_internal_nginx_then_disable).
    admin.config(kubernetes_versions=["1.29.7", "1.30.3"])
    for version, plugin, mode in (("1.29.7", "kubenet", None), ("1.30.3", "azure", "overlay")):
        body = cluster_body(kubernetes_version=version)
        del body["properties"]["networkProfile"]
        network = _create(arm, f"c{version[-1]}", **body).json()["properties"]["networkProfile"]
        assert (network["networkPlugin"], network.get("networkPluginMode")) == (plugin, mode), version


def test_surge_is_filled_in_only_for_a_pool_that_sent_no_upgrade_settings(arm, rg, admin):
    settled = cluster_body(pools=[pool("nodepool1", count=3, mode="System", upgradeSettings={}),
                                  pool("cordoned", upgradeSettings={"undrainableNodeBehavior": "Cordon"})])
    pools = _create(arm, **settled).json()["properties"]["agentPoolProfiles"]
    assert pools[0]["upgradeSettings"]["maxSurge"] == "10%"
    assert "maxSurge" not in pools[1]["upgradeSettings"]  # test_aks_nodepool_undrainable_node_behavior


def test_a_private_cluster_has_a_private_fqdn_and_its_private_link(arm, rg, admin, emulator):
    # test_aks_create_private_cluster_public_fqdn (2024-02-01).
    body = cluster_body(apiServerAccessProfile={"enablePrivateCluster": True})
    put = _create(arm, **body)
    props = put.json()["properties"]
    access = props["apiServerAccessProfile"]
    assert access["privateDNSZone"] == "system" and access["enablePrivateClusterPublicFQDN"] is True
    assert ".privatelink.westus2.azmk8s.io" in props["privateFQDN"] and props["fqdn"]
    link_type = "Microsoft.ContainerService/managedClusters/privateLinkResources"
    assert props["privateLinkResources"] == [{"name": "management", "groupId": "management",
                                              "requiredMembers": ["management"], "type": link_type}]
    settle(arm, emulator, put)
    built = arm("GET", f"{MC}/c1").json()["properties"]
    assert built["privateLinkResources"][0]["id"].endswith("/managedClusters/c1/privateLinkResources/management")
    body["properties"]["apiServerAccessProfile"]["enablePrivateClusterPublicFQDN"] = False
    update = arm("PUT", f"{MC}/c1", json=body)
    off = update.json()["properties"]
    assert "fqdn" not in off and off["privateFQDN"] == built["privateFQDN"]
    link = off["privateLinkResources"][0]  # an update answers the service behind the link, not the link's id
    assert "id" not in link and "/Microsoft.Network/privateLinkServices/" in link["privateLinkServiceID"]
    settle(arm, emulator, update)
    link = arm("GET", f"{MC}/c1").json()["properties"]["privateLinkResources"][0]
    assert link["id"] and "privateLinkServiceID" not in link


def test_the_application_gateway_addon_names_the_gateway_it_drives(arm, rg, admin):
    body = cluster_body(addonProfiles={"ingressApplicationGateway": {"enabled": True,
                                                                     "config": {"subnetCIDR": "10.232.0.0/26"}}})
    config = _create(arm, **body).json()["properties"]["addonProfiles"]["ingressApplicationGateway"]["config"]
    assert config["effectiveApplicationGatewayId"] == (
        f"/subscriptions/{SUB}/resourceGroups/MC_rg1_c1_westus2/providers/Microsoft.Network/applicationGateways/"
        "applicationgateway")  # test_aks_create_with_ingress_appgw_addon (2025-06-25)


def test_switches_answered_only_when_on_and_long_term_support_follows_patches(arm, rg, admin):
    body = cluster_body(apiServerAccessProfile={"disableRunCommand": False}, podIdentityProfile={"enabled": False},
                        supportPlan="AKSLongTermSupport")
    props = _create(arm, **body).json()["properties"]
    assert "apiServerAccessProfile" not in props and props["podIdentityProfile"] == {}
    assert props["autoUpgradeProfile"]["upgradeChannel"] == "patch"  # test_aks_create_with_premium_sku


def test_a_windows_pool_has_its_own_security_and_windows_profiles(arm, rg, admin):
    body = cluster_body(pools=["nodepool1", pool("npwin", os_type="Windows", upgradeSettings={},
                                                 securityProfile={"sshAccess": "localuser"})])
    win = _create(arm, **body).json()["properties"]["agentPoolProfiles"][1]
    assert win["securityProfile"] == {"sshAccess": "LocalUser", "enableVTPM": False, "enableSecureBoot": False}
    assert win["windowsProfile"] == {} and win["upgradeSettings"] == {}  # ..._ossku_windowsannual, 2024-04-23


def test_a_managed_system_pool_is_sized_by_aks(arm, rg, emulator):
    # test_aks_update_with_managed_system_pool (2025-07-09): the PUT names only the pool's mode.
    body = cluster_body(pools=[{"name": "nodepool1", "mode": "ManagedSystem"}])
    put = arm("PUT", f"{MC}/c1", json=body)
    pool = put.json()["properties"]["agentPoolProfiles"][0]
    assert pool["type"] == "VirtualMachines" and pool["osDiskType"] == "Ephemeral"
    assert not {"count", "vmSize", "osDiskSizeGB", "enableAutoScaling", "virtualMachinesProfile",
                "nodeImageVersion"} & set(pool)
    settle(arm, emulator, put)
    pool = arm("GET", f"{MC}/c1").json()["properties"]["agentPoolProfiles"][0]
    assert pool["virtualMachinesProfile"] == {"scale": {"manual": [{"size": "Standard_D4s_v3", "count": 1}]}}
    assert pool["virtualMachineNodesStatus"] == [{"size": "Standard_D4s_v3", "count": 1}] and pool["nodeImageVersion"]
    again = arm("PUT", f"{MC}/c1", json=body).json()["properties"]["agentPoolProfiles"][0]  # an update keeps them
    assert again["virtualMachinesProfile"] == pool["virtualMachinesProfile"]


def test_an_availability_set_cluster_migrates_to_virtual_machines(arm, rg, emulator):
    # test_aks_migrate_vmas_to_vms (2025-07-14): kubenet, one pool, no surge, no node image; then the same nodes
    # as a VirtualMachines pool.
    body = cluster_body(pools=[{"name": "nodepool1", "count": 3, "vmSize": "Standard_D8d_v4", "mode": "System",
                                "type": "AvailabilitySet", "upgradeSettings": {}}])
    body["properties"]["networkProfile"] = {"loadBalancerSku": "basic"}
    put = arm("PUT", f"{MC}/c1", json=body)
    props = put.json()["properties"]
    pool = props["agentPoolProfiles"][0]
    assert props["networkProfile"]["networkPlugin"] == "kubenet" and props["maxAgentPools"] == 1
    assert "nodeOSUpgradeChannel" not in props["autoUpgradeProfile"]
    assert pool["upgradeSettings"] == {} and "nodeImageVersion" not in pool and pool["maxPods"] == 110
    settle(arm, emulator, put)
    current = arm("GET", f"{MC}/c1").json()
    migrated = current["properties"]["agentPoolProfiles"][0]
    for key in ("count", "vmSize", "nodeImageVersion", "eTag", "provisioningState", "currentOrchestratorVersion"):
        migrated.pop(key, None)
    migrated["type"] = "VirtualMachines"
    current["properties"]["networkProfile"]["loadBalancerSku"] = "standard"
    put = arm("PUT", f"{MC}/c1", json=current)
    props = put.json()["properties"]
    pool = props["agentPoolProfiles"][0]
    assert props["provisioningState"] == "Updating" and props["maxAgentPools"] == 100
    assert pool["virtualMachinesProfile"] == {"scale": {"manual": [{"size": "Standard_D8d_v4", "count": 3}]}}
    assert "count" not in pool and "vmSize" not in pool and pool["upgradeSettings"]["maxSurge"] == "10%"
    settle(arm, emulator, put)
    pool = arm("GET", f"{MC}/c1").json()["properties"]["agentPoolProfiles"][0]
    assert pool["virtualMachineNodesStatus"] == [{"size": "Standard_D8d_v4", "count": 3}]


def test_a_machines_pool_answers_only_its_own_fields(arm, rg, emulator):
    # test_aks_nodepool_create_machines_pool (2025-09-02): az sends a VMSS pool's fields; the pool has none.
    settle(arm, emulator, arm("PUT", f"{MC}/c1", json=cluster_body()))
    r = arm("PUT", f"{MC}/c1/agentPools/m1", json={"properties": {**pool("m1"), "mode": "Machines",
                                                                   "upgradeSettings": {}}})
    assert r.status_code in (200, 201), r.text
    answer = r.json()
    assert "type" not in answer and set(answer["properties"]) == {
        "type", "mode", "upgradeSettings", "provisioningState", "powerState", "eTag"}
    assert answer["properties"]["type"] == "VirtualMachines" and answer["properties"]["upgradeSettings"] == {}


def test_a_user_assigned_identity_gets_its_ids_once_built(arm, rg, emulator):
    uami = f"/subscriptions/{SUB}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/cp"
    body = cluster_body()
    body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {uami: {}}}
    put = arm("PUT", f"{MC}/c1", json=body)
    assert put.json()["identity"]["userAssignedIdentities"][uami] == {}
    settle(arm, emulator, put)
    ids = arm("GET", f"{MC}/c1").json()["identity"]["userAssignedIdentities"][uami]
    assert ids["clientId"] and ids["principalId"]
    again = arm("PUT", f"{MC}/c1", json=body)  # az sends it empty again: the ids stay
    assert again.json()["identity"]["userAssignedIdentities"][uami] == ids


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
