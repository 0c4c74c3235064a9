"""The plan (what enable/disable would do) and the patch that touches only the IMDS field."""
import copy

from azure.mgmt.containerservice.models import ManagedCluster

from imds_ext.core import plan as planning

WIRE = {
    "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
    "name": "c", "location": "westus2", "eTag": "etag-1",
    "tags": {"team": "x"},
    "futureTopLevelField": {"nested": [1, 2, {"deep": True}]},
    "properties": {
        "provisioningState": "Succeeded",
        "kubernetesVersion": "1.33.2",
        "networkProfile": {"networkPlugin": "azure", "someNewKnob": "kept"},
        "agentPoolProfiles": [
            {"name": "system", "osType": "Linux", "mode": "System", "count": 3, "nodeImageVersion": "img-1",
             "unknownPoolSetting": 7},
            {"name": "user", "osType": "Linux", "mode": "User", "count": 2, "nodeImageVersion": "img-1"},
            {"name": "win", "osType": "Windows", "mode": "User", "count": 1},
        ],
        "unknownProperty": {"a": "b"},
    },
}


def test_enable_plan_reimages_linux_pools_only():
    plan = planning.make_plan(WIRE, "rg", "c", enable=True)
    assert (plan.current, plan.desired) == ("IMDS", "None")
    assert [p.name for p in plan.reimage] == ["system", "user"]
    assert [p.name for p in plan.skipped] == ["win"]
    assert plan.node_count == 5
    assert plan.changes_cluster


def test_the_plan_counts_the_nodes_of_a_virtual_machines_pool():
    # AKS answers a VirtualMachines pool (and a managed system pool) without `count`: its nodes are in
    # virtualMachinesProfile and virtualMachineNodesStatus (test_aks_migrate_vmas_to_vms, 2025-07-14).
    wire = copy.deepcopy(WIRE)
    wire["properties"]["agentPoolProfiles"] = [
        {"name": "vms", "osType": "Linux", "mode": "System", "type": "VirtualMachines", "nodeImageVersion": "img-1",
         "virtualMachinesProfile": {"scale": {"manual": [{"size": "Standard_D8d_v4", "count": 3},
                                                         {"size": "Standard_D4s_v3", "count": 1}]}},
         "virtualMachineNodesStatus": [{"size": "Standard_D8d_v4", "count": 3}, {"size": "Standard_D4s_v3",
                                                                                 "count": 1}]},
        {"name": "sys", "osType": "Linux", "mode": "ManagedSystem", "type": "VirtualMachines"}]  # not built yet
    plan = planning.make_plan(wire, "rg", "c", enable=True)
    assert [p.count for p in plan.reimage] == [4, None]
    text = plan.describe()
    assert "vms (Linux, System, 4 node(s)" in text and "sys (Linux, ManagedSystem, nodes not known yet" in text
    assert "2 node pool(s), 4 or more node(s)" in text


def test_plan_for_the_state_already_there_changes_nothing():
    assert not planning.make_plan(WIRE, "rg", "c", enable=False).changes_cluster


def test_oidc_issuer_only_counts_when_it_is_off():
    on = copy.deepcopy(WIRE)
    on["properties"]["oidcIssuerProfile"] = {"enabled": True}
    assert not planning.make_plan(on, "rg", "c", enable=True, enable_oidc_issuer=True).enable_oidc_issuer
    assert planning.make_plan(WIRE, "rg", "c", enable=True, enable_oidc_issuer=True).enable_oidc_issuer


def test_describe_names_the_change_and_every_pool():
    text = planning.make_plan(WIRE, "rg", "c", enable=True).describe()
    assert "'IMDS' -> 'None'" in text
    assert "2 node pool(s), 5 node(s)" in text
    assert "system" in text and "user" in text
    assert "Not reimaged (IMDS restriction applies to Linux nodes only): win (Windows)." in text


def test_the_prompt_says_what_imds_ext_writes_on_the_cluster_besides_the_setting():
    text = planning.make_plan(WIRE, "rg", "c", enable=True).describe()
    assert "tag 'imds-ext-reimage-pending'" in text and "removes the tag once every pool is reimaged" in text


def test_apply_on_the_sdk_model_changes_only_the_imds_field():
    mc = ManagedCluster(copy.deepcopy(WIRE))
    plan = planning.make_plan(mc, "rg", "c", enable=True)
    planning.apply(mc, plan)
    expected = copy.deepcopy(WIRE)
    expected["properties"]["networkProfile"]["podLinkLocalAccess"] = "None"
    assert mc.as_dict() == expected


def test_apply_creates_network_profile_and_oidc_issuer_when_missing():
    wire = {"location": "x", "properties": {"agentPoolProfiles": []}}
    mc = ManagedCluster(copy.deepcopy(wire))
    planning.apply(mc, planning.make_plan(mc, "rg", "c", enable=True, enable_oidc_issuer=True))
    assert mc.as_dict()["properties"] == {"agentPoolProfiles": [], "networkProfile": {"podLinkLocalAccess": "None"},
                                          "oidcIssuerProfile": {"enabled": True}}


def test_the_put_body_keeps_unknown_fields_and_drops_read_only_ones():
    """What the SDK will send: every field as read, minus the server-set ones."""
    import json

    from azure.mgmt.containerservice._utils.model_base import SdkJSONEncoder

    mc = ManagedCluster(copy.deepcopy(WIRE))
    planning.apply(mc, planning.make_plan(mc, "rg", "c", enable=True))
    sent = json.loads(json.dumps(mc, cls=SdkJSONEncoder, exclude_readonly=True))
    assert sent["futureTopLevelField"] == WIRE["futureTopLevelField"]
    assert sent["properties"]["unknownProperty"] == {"a": "b"}
    assert sent["properties"]["networkProfile"] == {"networkPlugin": "azure", "someNewKnob": "kept",
                                                    "podLinkLocalAccess": "None"}
    assert sent["properties"]["agentPoolProfiles"][0]["unknownPoolSetting"] == 7
    assert "provisioningState" not in sent["properties"] and "id" not in sent
