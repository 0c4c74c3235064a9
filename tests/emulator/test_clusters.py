"""Managed clusters, agent pools and operations through the real ContainerServiceClient."""
import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.support.clusters import cluster_body, settle
from tests.support.constants import CUSTOM_FEATURES, PREVIEW_API, SUB

MC = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters"


def create(aks, name="c1", headers=None, **kwargs):
    return aks.managed_clusters.begin_create_or_update("rg1", name, cluster_body(**kwargs),
                                                       headers=headers or {}).result()


def test_create_get_list_delete_with_server_fields(aks, rg, admin):
    body = cluster_body("westeurope", futureProfile={"knob": {"deep": [1, 2]}})
    body["properties"]["provisioningState"] = "Bogus"  # read-only: ignored
    mc = aks.managed_clusters.begin_create_or_update(rg, "c1", body).result()
    assert mc.provisioning_state == "Succeeded" and mc.e_tag
    assert mc.node_resource_group == "MC_rg1_c1_westeurope"
    assert mc.fqdn.endswith(".hcp.westeurope.azmk8s.io") and mc.power_state.code == "Running"
    assert mc.oidc_issuer_profile.issuer_url.startswith("https://westeurope.oic.")
    kubelet = mc.as_dict()["properties"]["identityProfile"]["kubeletidentity"]  # az's `aks update` reads it
    assert "/resourcegroups/MC_rg1_c1_westeurope/" in kubelet["resourceId"] and kubelet["clientId"]
    pool = mc.agent_pool_profiles[0]
    assert pool.node_image_version.startswith("AKSUbuntu-") and pool.provisioning_state == "Succeeded"
    assert mc.as_dict()["properties"]["futureProfile"] == {"knob": {"deep": [1, 2]}}  # unknown fields kept
    assert [c.name for c in aks.managed_clusters.list_by_resource_group(rg)] == ["c1"]
    assert [c.name for c in aks.managed_clusters.list()] == ["c1"]
    aks.managed_clusters.begin_delete(rg, "c1").result()
    with pytest.raises(ResourceNotFoundError) as e:
        aks.managed_clusters.get(rg, "c1")
    assert e.value.error.code == "ResourceNotFound"
    assert "Microsoft.ContainerService/managedClusters/c1" in e.value.error.message


def test_paths_are_case_insensitive(arm, rg, aks):
    create(aks)
    r = arm("GET", f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/RG1/providers/microsoft.containerservice/MANAGEDCLUSTERS/C1")
    assert r.status_code == 200 and r.json()["name"] == "c1"


def test_put_in_missing_resource_group_is_404(aks, admin):
    with pytest.raises(ResourceNotFoundError) as e:
        create(aks)
    assert e.value.error.code == "ResourceGroupNotFound"


@pytest.mark.parametrize("mutate, code", [
    (lambda b: b.pop("location"), "LocationRequired"),
    (lambda b: b["properties"].update(agentPoolProfiles=[]), "InvalidParameter"),
    (lambda b: b["properties"]["networkProfile"].update(podLinkLocalAccess="Off"), "InvalidParameter"),
    (lambda b: b["properties"]["agentPoolProfiles"][0].update(name="Bad_Name"), "InvalidParameter"),
])
def test_validation_is_an_aks_400(arm, rg, mutate, code):
    body = cluster_body()
    mutate(body)
    r = arm("PUT", f"{MC}/c1", json=body)
    assert r.status_code == 400
    assert r.json()["code"] == code and "error" not in r.json()  # the AKS unwrapped envelope
    assert arm("GET", f"{MC}/c1").status_code == 404


def test_ga_api_version_drops_pod_link_local_access(aks, aks_ga, rg, admin):
    create(aks, restricted=True, headers=CUSTOM_FEATURES)
    ga = aks_ga.managed_clusters.get(rg, "c1")
    assert "podLinkLocalAccess" not in ga.as_dict()["properties"]["networkProfile"]
    body = ga.as_dict()
    body["properties"]["networkProfile"]["podLinkLocalAccess"] = "IMDS"  # silently ignored under GA
    aks_ga.managed_clusters.begin_create_or_update(rg, "c1", body).result()
    assert aks.managed_clusters.get(rg, "c1").network_profile["podLinkLocalAccess"] == "None"


def test_an_older_api_version_shows_its_own_fields_and_its_put_keeps_the_newer_ones(arm, rg, admin, emulator):
    # test_aks_automatic_sku #43-#45: az's monitoring code reads and writes the cluster at 2023-01-01.
    body = cluster_body(restricted=True, securityProfile={"workloadIdentity": {"enabled": True},
                                                          "imageCleaner": {"enabled": True, "intervalHours": 168}})
    body["sku"] = {"name": "Base", "tier": "Standard"}
    settle(arm, emulator, arm("PUT", f"{MC}/c1", json=body, headers=CUSTOM_FEATURES))
    old = arm("GET", f"{MC}/c1", api="2023-01-01").json()
    network = old["properties"]["networkProfile"]
    assert network["networkPlugin"] == "azure" and not {"networkPluginMode", "podCidr", "podCidrs",
                                                        "podLinkLocalAccess", "networkPolicy"} & set(network)
    assert old["properties"]["securityProfile"] == {}  # both features are newer than 2023-01-01
    assert old["sku"] == {"name": "Basic", "tier": "Paid"} and "kind" not in old and "eTag" not in old
    assert "eTag" not in old["properties"]["agentPoolProfiles"][0]
    old["properties"]["networkProfile"]["podLinkLocalAccess"] = "IMDS"  # not a 2023-01-01 field: dropped
    put = arm("PUT", f"{MC}/c1", api="2023-01-01", json=old)
    assert put.status_code == 200 and put.json()["sku"]["tier"] == "Paid"
    settle(arm, emulator, put)
    now = arm("GET", f"{MC}/c1").json()
    network = now["properties"]["networkProfile"]
    assert network["networkPluginMode"] == "overlay" and network["podCidr"] and network["networkPolicy"] == "none"
    assert network["podLinkLocalAccess"] == "None"
    assert now["properties"]["securityProfile"]["imageCleaner"] == {"enabled": True, "intervalHours": 168}
    assert now["properties"]["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert now["sku"] == {"name": "Base", "tier": "Standard"} and now["kind"] == "Base"


def test_an_addon_gets_its_identity_once_the_cluster_is_built(arm, rg, emulator):
    body = cluster_body(addonProfiles={"azurepolicy": {"enabled": True},
                                       "azureKeyvaultSecretsProvider": {"enabled": False}})
    put = arm("PUT", f"{MC}/c1", json=body)
    assert "identity" not in put.json()["properties"]["addonProfiles"]["azurepolicy"]
    settle(arm, emulator, put)
    addons = arm("GET", f"{MC}/c1").json()["properties"]["addonProfiles"]
    identity = addons["azurepolicy"]["identity"]
    assert identity["resourceId"].endswith("/resourcegroups/MC_rg1_c1_westus2/providers/"
                                           "Microsoft.ManagedIdentity/userAssignedIdentities/azurepolicy-c1")
    assert identity["clientId"] and identity["objectId"]
    assert "identity" not in addons["azureKeyvaultSecretsProvider"]  # disabled: none
    again = arm("PUT", f"{MC}/c1", json=body)  # an update that leaves the identity out keeps it
    assert "identity" not in again.json()["properties"]["addonProfiles"]["azurepolicy"]  # a PUT answer never shows it
    assert arm("GET", f"{MC}/c1").json()["properties"]["addonProfiles"]["azurepolicy"]["identity"] == identity


def test_an_aks_automatic_cluster_comes_with_what_automatic_turns_on(arm, rg, emulator):
    # test_aks_automatic_sku #8: `az aks create --sku automatic` sends none of it.
    body = cluster_body(pools=[{"name": "nodepool1", "count": 3, "mode": "System", "vmSize": "",
                                "nodeTaints": [], "securityProfile": {"sshAccess": "localuser"}}])
    for key in ("networkProfile", "oidcIssuerProfile", "securityProfile"):
        del body["properties"][key]
    body.update(sku={"name": "Automatic", "tier": "Standard"}, kind="Automatic")
    put = arm("PUT", f"{MC}/c1", json=body)
    assert put.status_code == 201
    props = put.json()["properties"]
    pool = props["agentPoolProfiles"][0]
    assert pool["osSKU"] == "AzureLinux" and pool["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert pool["securityProfile"]["sshAccess"] == "Disabled" and sorted(pool["availabilityZones"]) == ["1", "2", "3"]
    network = props["networkProfile"]
    assert (network["networkPluginMode"], network["networkDataplane"], network["networkPolicy"]) == (
        "overlay", "cilium", "cilium")
    assert props["oidcIssuerProfile"]["enabled"] and props["securityProfile"]["workloadIdentity"]["enabled"]
    assert props["securityProfile"]["imageCleaner"] == {"enabled": True, "intervalHours": 168}
    assert props["aadProfile"]["managed"] and props["aadProfile"]["enableAzureRBAC"]
    assert props["apiServerAccessProfile"]["enableVnetIntegration"] is True
    assert props["nodeResourceGroupProfile"] == {"restrictionLevel": "ReadOnly"}
    assert props["nodeProvisioningProfile"]["mode"] == "Auto" and props["autoUpgradeProfile"]["upgradeChannel"] == \
        "stable"
    assert set(props["addonProfiles"]) == {"azureKeyvaultSecretsProvider", "azurepolicy"}
    assert props["workloadAutoScalerProfile"]["keda"] == {"enabled": True}
    assert props["ingressProfile"]["webAppRouting"]["identity"] == {}  # made once the cluster is built
    settle(arm, emulator, put)
    built = arm("GET", f"{MC}/c1").json()["properties"]
    assert built["ingressProfile"]["webAppRouting"]["identity"]["resourceId"].endswith(
        "/userAssignedIdentities/webapprouting-c1")
    assert built["addonProfiles"]["azurepolicy"]["identity"]["resourceId"].endswith("/azurepolicy-c1")
    plain = cluster_body()
    plain["properties"]["agentPoolProfiles"][0]["nodeTaints"] = []
    assert arm("PUT", f"{MC}/c2", json=plain).json()["properties"].get("ingressProfile") is None  # not Automatic


def test_app_routing_loses_its_identity_when_turned_off(arm, rg, emulator):
    body = cluster_body(ingressProfile={"webAppRouting": {"enabled": True}})
    settle(arm, emulator, arm("PUT", f"{MC}/c1", json=body))
    routing = arm("GET", f"{MC}/c1").json()["properties"]["ingressProfile"]["webAppRouting"]
    assert routing["nginx"] == {"defaultIngressControllerType": "AnnotationControlled"} and routing["identity"]
    body["properties"]["ingressProfile"]["webAppRouting"]["enabled"] = False
    put = arm("PUT", f"{MC}/c1", json=body)
    assert put.json()["properties"]["ingressProfile"]["webAppRouting"]["identity"] == routing["identity"]
    settle(arm, emulator, put)
    assert arm("GET", f"{MC}/c1").json()["properties"]["ingressProfile"]["webAppRouting"]["identity"] == {}


def test_the_monitoring_addon_is_also_shown_as_container_insights(arm, rg):
    workspace = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.OperationalInsights/workspaces/w1"
    body = cluster_body(addonProfiles={"omsagent": {"enabled": True, "config": {
        "logAnalyticsWorkspaceResourceID": workspace, "useAADAuth": "true"}}})
    monitor = arm("PUT", f"{MC}/c1", json=body).json()["properties"]["azureMonitorProfile"]
    assert monitor["containerInsights"] == {"enabled": True, "logAnalyticsWorkspaceResourceId": workspace}


def test_operation_abort_cancels_what_runs_and_leaves_it_canceled(aks, arm, rg, admin, emulator):
    # test_aks_abort (2024-02-01): `az aks operation-abort` during a create.
    admin.config(lro_delay=3600)
    put = arm("PUT", f"{MC}/c1", json=cluster_body())
    create_status = put.headers["Azure-AsyncOperation"].replace(emulator.arm_endpoint, "")
    aks.managed_clusters.begin_abort_latest_operation(rg, "c1").result()
    mc = aks.managed_clusters.get(rg, "c1")
    assert mc.provisioning_state == "Canceled"
    assert {p.provisioning_state for p in mc.agent_pool_profiles} == {"Canceled"}
    assert arm("GET", create_status, api=None).json()["status"] == "Canceled"
    assert not (mc.identity_profile or {})  # what the create would have done is not done
    with pytest.raises(HttpResponseError) as e:  # nothing left to abort
        aks.managed_clusters.begin_abort_latest_operation(rg, "c1").result()
    assert e.value.status_code == 409 and e.value.error.code == "OperationNotAllowed"
    admin.config(lro_delay=0)
    aks.managed_clusters.begin_create_or_update(rg, "c1", cluster_body()).result()  # a canceled cluster updates
    assert aks.managed_clusters.get(rg, "c1").provisioning_state == "Succeeded"


def test_a_node_pool_operation_abort_cancels_that_pool_only(aks, rg, admin):
    aks.managed_clusters.begin_create_or_update(rg, "c1", cluster_body()).result()
    admin.config(lro_delay=3600)
    aks.agent_pools.begin_upgrade_node_image_version(rg, "c1", "userpool")
    aks.agent_pools.begin_abort_latest_operation(rg, "c1", "userpool").result()
    assert aks.agent_pools.get(rg, "c1", "userpool").provisioning_state == "Canceled"
    mc = aks.managed_clusters.get(rg, "c1")
    assert mc.provisioning_state == "Succeeded" and aks.agent_pools.get(rg, "c1", "nodepool1").provisioning_state == \
        "Succeeded"


def test_default_pod_link_local_access_is_imds(arm, rg):
    body = cluster_body()
    del body["properties"]["networkProfile"]
    assert arm("PUT", f"{MC}/c1", json=body).status_code == 201
    assert arm("GET", f"{MC}/c1").json()["properties"]["networkProfile"]["podLinkLocalAccess"] == "IMDS"


def test_etags(aks, rg, arm):
    mc = create(aks)
    body = cluster_body()
    r = arm("PUT", f"{MC}/c1", json=body, headers={"If-Match": "not-the-etag"})
    assert r.status_code == 412 and r.json()["code"] == "PreconditionFailed"
    r = arm("PUT", f"{MC}/c1", json=body, headers={"If-None-Match": "*"})
    assert r.status_code == 412
    assert arm("PUT", f"{MC}/c2", json=body, headers={"If-Match": "*"}).status_code == 412
    r = arm("PUT", f"{MC}/c1", json=body, headers={"If-Match": mc.e_tag})
    assert r.status_code == 200 and r.json()["eTag"] != mc.e_tag
    assert arm("PUT", f"{MC}/c1", json=body, headers={"If-None-Match": "x"}).status_code == 400
    # and through the SDK's own match conditions
    current = aks.managed_clusters.get(rg, "c1")
    with pytest.raises(HttpResponseError) as e:
        aks.managed_clusters.begin_delete(rg, "c1", etag=mc.e_tag, match_condition=MatchConditions.IfNotModified)
    assert e.value.status_code == 412
    aks.managed_clusters.begin_delete(rg, "c1", etag=current.e_tag,
                                      match_condition=MatchConditions.IfNotModified).result()


def test_a_tags_patch_honours_if_match(aks, rg, arm):
    mc = create(aks)
    r = arm("PATCH", f"{MC}/c1", json={"tags": {"a": "1"}}, headers={"If-Match": "not-the-etag"})
    assert r.status_code == 412 and r.json()["code"] == "PreconditionFailed"
    assert not aks.managed_clusters.get(rg, "c1").tags  # nothing was written
    tagged = aks.managed_clusters.begin_update_tags(rg, "c1", {"tags": {"a": "1"}}, etag=mc.e_tag,
                                                    match_condition=MatchConditions.IfNotModified).result()
    assert tagged.tags == {"a": "1"} and tagged.e_tag != mc.e_tag
    with pytest.raises(HttpResponseError) as e:  # the eTag read before that PATCH is stale now
        aks.managed_clusters.begin_update_tags(rg, "c1", {"tags": {}}, etag=mc.e_tag,
                                               match_condition=MatchConditions.IfNotModified)
    assert e.value.status_code == 412
    assert aks.managed_clusters.get(rg, "c1").tags == {"a": "1"}


def test_operation_in_progress_is_409(aks, rg, arm, admin):
    create(aks)
    admin.config(lro_delay=60)
    assert arm("PUT", f"{MC}/c1", json=cluster_body()).status_code == 200
    r = arm("PUT", f"{MC}/c1", json=cluster_body())
    assert r.status_code == 409 and r.json()["code"] == "OperationNotAllowed"
    assert r.json()["message"].startswith(
        "Operation is not allowed because there's an in progress update managed cluster operation")
    r = arm("POST", f"{MC}/c1/agentPools/nodepool1/upgradeNodeImageVersion")
    assert r.status_code == 409


def test_pools_upgrade_side_by_side_but_not_twice_or_under_a_cluster_operation(aks, rg, arm, admin):
    pools = [{"name": "system", "count": 1, "vmSize": "Standard_DS2_v2", "osType": "Linux", "mode": "System"},
             {"name": "user", "count": 1, "vmSize": "Standard_DS2_v2", "osType": "Linux", "mode": "User"}]
    create(aks, pools=pools)
    admin.config(lro_delay=60)
    # What `az aks upgrade --node-image-only` does: every pool's POST without waiting for the others.
    assert arm("POST", f"{MC}/c1/agentPools/system/upgradeNodeImageVersion").status_code == 202
    assert arm("POST", f"{MC}/c1/agentPools/user/upgradeNodeImageVersion").status_code == 202
    again = arm("POST", f"{MC}/c1/agentPools/user/upgradeNodeImageVersion")
    assert again.status_code == 409 and "on the agent pool user" in again.json()["message"]
    cluster_put = arm("PUT", f"{MC}/c1", json=cluster_body(pools=pools))
    assert cluster_put.status_code == 409 and cluster_put.json()["code"] == "OperationNotAllowed"


def test_lro_headers_and_operation_status(arm, rg, emulator, admin):
    admin.config(lro_delay=60, retry_after=None)  # derived Retry-After
    r = arm("PUT", f"{MC}/c1", json=cluster_body("westeurope"))
    assert r.status_code == 201 and r.json()["properties"]["provisioningState"] == "Creating"
    op_url = r.headers["Azure-AsyncOperation"]
    assert op_url.startswith(f"{emulator.arm_endpoint}/subscriptions/{SUB}/providers/Microsoft.ContainerService/"
                             "locations/westeurope/operations/") and "api-version=2025-03-01" in op_url
    assert r.headers["Retry-After"] == "60"
    status = arm("GET", op_url.replace(emulator.arm_endpoint, "").split("?")[0], api="2016-03-30").json()
    assert status["status"] == "InProgress" and set(status) == {"name", "status", "startTime"}
    admin.config(lro_delay=0)
    assert arm("GET", f"{MC}/c1").json()["properties"]["provisioningState"] == "Creating"  # due time unchanged


def test_delete_is_202_with_both_headers_and_absent_is_204(arm, rg, aks):
    create(aks)
    r = arm("DELETE", f"{MC}/c1")
    assert r.status_code == 202 and "Azure-AsyncOperation" in r.headers and "/operationresults/" in r.headers[
        "Location"]
    assert arm("DELETE", f"{MC}/nothing").status_code == 204


def test_agent_pools_and_node_image_upgrade_enforce_the_setting(aks, rg, admin):
    admin.seed({"clusters": [{"resourceGroup": rg, "name": "c1",
                              "cluster": cluster_body(restricted=True, pools=["nodepool1"]),
                              "nodes": {"nodepool1": {"podLinkLocalAccess": "IMDS"}}}]})
    pools = list(aks.agent_pools.list(rg, "c1"))
    assert [p.name for p in pools] == ["nodepool1"]
    old_image = aks.agent_pools.get(rg, "c1", "nodepool1").node_image_version
    assert admin.nodes(rg, "c1")["pools"]["nodepool1"]["podLinkLocalAccess"] == "IMDS"
    aks.agent_pools.begin_upgrade_node_image_version(rg, "c1", "nodepool1").result()
    pool = aks.agent_pools.get(rg, "c1", "nodepool1")
    assert pool.node_image_version != old_image and pool.provisioning_state == "Succeeded"
    assert admin.nodes(rg, "c1")["pools"]["nodepool1"]["podLinkLocalAccess"] == "None"


def test_a_setting_change_is_not_enforced_until_the_upgrade(aks, rg, admin):
    create(aks)
    mc = aks.managed_clusters.get(rg, "c1")
    mc.network_profile["podLinkLocalAccess"] = "None"
    aks.managed_clusters.begin_create_or_update(rg, "c1", mc, headers=CUSTOM_FEATURES).result()
    assert admin.nodes(rg, "c1")["pools"]["nodepool1"]["podLinkLocalAccess"] == "IMDS"
    aks.agent_pools.begin_upgrade_node_image_version(rg, "c1", "nodepool1").result()
    assert admin.nodes(rg, "c1")["pools"]["nodepool1"]["podLinkLocalAccess"] == "None"


def test_pool_add_gets_the_cluster_setting_and_latest_image(aks, rg, admin):
    create(aks, restricted=True, headers=CUSTOM_FEATURES)
    pool = aks.agent_pools.begin_create_or_update(rg, "c1", "user1", {"properties": {"count": 1, "mode": "User"}})
    assert pool.result().name == "user1"
    assert admin.nodes(rg, "c1")["pools"]["user1"]["podLinkLocalAccess"] == "None"


def test_failed_operation(aks, rg, admin):
    create(aks)
    admin.fault(method="POST", path="upgradeNodeImageVersion$",
                failOperation={"code": "ReconcileVMSSAgentPoolFailed", "message": "boom"})
    with pytest.raises(HttpResponseError) as e:
        aks.agent_pools.begin_upgrade_node_image_version(rg, "c1", "nodepool1").result()
    assert "ReconcileVMSSAgentPoolFailed" in str(e.value)
    assert aks.agent_pools.get(rg, "c1", "nodepool1").provisioning_state == "Failed"


def test_api_versions(arm, rg):
    r = arm("GET", f"{MC}", api=None)
    assert r.status_code == 400 and r.json()["error"]["code"] == "MissingApiVersionParameter"
    r = arm("GET", f"{MC}", api="2019-01-01")
    assert r.status_code == 400 and r.json()["error"]["code"] == "NoRegisteredProviderFound"
    assert arm("GET", f"{MC}", api="banana").json()["error"]["code"] == "InvalidApiVersionParameter"
    for version in ("2023-01-01", "2024-04-02-preview", "2025-09-02-preview", PREVIEW_API, "2026-08-01"):
        assert arm("GET", MC, api=version).status_code == 200, version
