"""Preflight: every blocker the service would raise is found client-side, each with its fix."""
import pytest

from imds_ext.core import cluster as cluster_fields, preflight
from imds_ext.core.preflight import Environment


def cluster(**props):
    base = {
        "provisioningState": "Succeeded",
        "oidcIssuerProfile": {"enabled": True},
        "securityProfile": {"workloadIdentity": {"enabled": True}},
        "agentPoolProfiles": [{"name": "nodepool1", "osType": "Linux", "type": "VirtualMachineScaleSets",
                               "mode": "System", "count": 3}],
        "networkProfile": {"networkPlugin": "azure"},
    }
    base.update(props)
    return {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
            "name": "c", "properties": base}


READY = Environment(feature_state="Registered", provider_state="Registered")


def codes(result):
    return [b.code for b in result.blockers]


def test_ready_cluster_has_no_blockers_and_no_warnings():
    result = preflight.check_enable(cluster(), READY, "rg", "c")
    assert result.ok
    assert result.warnings == []


def test_feature_not_registered_blocks_with_register_command():
    result = preflight.check_enable(cluster(), Environment(feature_state="NotRegistered",
                                                           provider_state="Registered", cli="az-imds"), "rg", "c")
    assert codes(result) == ["FeatureNotRegistered"]
    fix = result.blockers[0].fix
    assert "az-imds feature register --namespace Microsoft.ContainerService --name IMDSRestrictionPreview" in fix
    assert "provider register --namespace Microsoft.ContainerService" in fix


def test_registering_is_not_registered_yet():
    result = preflight.check_enable(cluster(), Environment(feature_state="Registering", provider_state="Registered"),
                                    "rg", "c")
    assert codes(result) == ["FeatureNotRegistered"]
    assert "Registering" in result.blockers[0].message


def test_custom_feature_header_replaces_the_registration():
    env = Environment(feature_state="NotRegistered", provider_state="Registered", custom_feature_header=True)
    assert preflight.check_enable(cluster(), env, "rg", "c").ok


def test_provider_not_registered_blocks_when_feature_is_registered():
    env = Environment(feature_state="Registered", provider_state="Unregistered")
    assert codes(preflight.check_enable(cluster(), env, "rg", "c")) == ["ProviderNotRegistered"]


def test_oidc_issuer_off_blocks_unless_enabled_in_the_same_command():
    mc = cluster(oidcIssuerProfile={"enabled": False})
    assert codes(preflight.check_enable(mc, READY, "rg", "c")) == ["OIDCIssuerDisabled"]
    env = Environment(feature_state="Registered", provider_state="Registered", enable_oidc_issuer=True)
    assert preflight.check_enable(mc, env, "rg", "c").ok


def test_windows_and_virtual_machines_pools_block_by_name():
    mc = cluster(agentPoolProfiles=[
        {"name": "nodepool1", "osType": "Linux", "type": "VirtualMachineScaleSets"},
        {"name": "win1", "osType": "Windows", "type": "VirtualMachineScaleSets"},
        {"name": "vms1", "osType": "Linux", "type": "VirtualMachines"},
    ])
    result = preflight.check_enable(mc, READY, "rg", "c")
    assert codes(result) == ["WindowsNodePool", "VirtualMachinesNodePool"]
    assert "win1" in result.blockers[0].message and "-n win1" in result.blockers[0].fix
    assert "vms1" in result.blockers[1].message


@pytest.mark.parametrize("key", ["omsagent", "omsAgent", "OMSAGENT"])
def test_addon_keys_match_case_insensitively(key):
    mc = cluster(addonProfiles={key: {"enabled": True}})
    result = preflight.check_enable(mc, READY, "rg", "c")
    assert codes(result) == ["IncompatibleAddon"]
    assert "--addons monitoring" in result.blockers[0].fix


def test_the_monitoring_addon_is_one_blocker_though_aks_also_shows_it_as_container_insights():
    # A real cluster with the monitoring add-on answers it twice (test_aks_automatic_sku, 2025-08-26).
    workspace = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w"
    oms = {"enabled": True, "config": {"logAnalyticsWorkspaceResourceID": workspace}}
    mc = cluster(addonProfiles={"omsagent": oms}, azureMonitorProfile={"containerInsights": {
        "enabled": True, "logAnalyticsWorkspaceResourceId": workspace}})
    result = preflight.check_enable(mc, READY, "rg", "c")
    assert codes(result) == ["IncompatibleAddon"] and "--addons monitoring" in result.blockers[0].fix


def test_disabled_addon_does_not_block():
    mc = cluster(addonProfiles={"azurepolicy": {"enabled": False}, "azureKeyvaultSecretsProvider": {"enabled": True}})
    assert preflight.check_enable(mc, READY, "rg", "c").ok


@pytest.mark.parametrize("props, display", [
    ({"addonProfiles": {"ingressApplicationGateway": {"enabled": True}}}, "Application gateway"),
    ({"addonProfiles": {"aciConnectorLinux": {"enabled": True}}}, "Virtual nodes"),
    ({"addonProfiles": {"azurepolicy": {"enabled": True}}}, "Azure Policy"),
    ({"addonProfiles": {"httpApplicationRouting": {"enabled": True}}}, "HTTP application routing"),
    ({"ingressProfile": {"webAppRouting": {"enabled": True}}}, "Application routing"),
    ({"aiToolchainOperatorProfile": {"enabled": True}}, "AI toolchain operator"),
    ({"metricsProfile": {"costAnalysis": {"enabled": True}}}, "cost analysis"),
    ({"azureMonitorProfile": {"containerInsights": {"enabled": True}}}, "Container Insights"),
])
def test_every_incompatible_addon_in_the_table_blocks(props, display):
    result = preflight.check_enable(cluster(**props), READY, "rg", "c")
    assert codes(result) == ["IncompatibleAddon"]
    assert display in result.blockers[0].message


def test_incompatible_extensions_block_and_others_do_not():
    env = Environment(feature_state="Registered", provider_state="Registered", extensions=[
        {"name": "flux", "properties": {"extensionType": "microsoft.flux"}},
        {"name": "dapr", "properties": {"extensionType": "Microsoft.Dapr"}},
        {"name": "other", "properties": {"extensionType": "microsoft.openservicemesh"}},
    ])
    result = preflight.check_enable(cluster(), env, "rg", "c")
    assert codes(result) == ["IncompatibleExtension", "IncompatibleExtension"]
    assert "'flux' (Flux (GitOps))" in result.blockers[0].message
    assert "k8s-extension delete" in result.blockers[1].fix


def test_every_blocker_is_reported_at_once():
    mc = cluster(oidcIssuerProfile=None, addonProfiles={"omsagent": {"enabled": True}},
                 agentPoolProfiles=[{"name": "win", "osType": "Windows"}])
    result = preflight.check_enable(mc, Environment(feature_state="NotRegistered"), "rg", "c")
    assert codes(result) == ["FeatureNotRegistered", "OIDCIssuerDisabled", "WindowsNodePool", "IncompatibleAddon"]
    text = preflight.format_blockers(result, "enable IMDS restriction")
    assert text.startswith("Cannot enable IMDS restriction: 4 blocker(s) found, nothing was changed.")
    assert text.count("Fix: ") == 2  # the registration and the OIDC issuer
    assert text.count("Option, at a cost (") == 2  # deleting the pool, turning the monitoring off


def test_destructive_fixes_say_what_they_cost_and_are_never_the_one_obvious_fix():
    mc = cluster(addonProfiles={"omsagent": {"enabled": True}},
                 agentPoolProfiles=[{"name": "win", "osType": "Windows", "count": 3}])
    found = {b.code: b for b in preflight.check_enable(mc, READY, "rg", "c").blockers}
    pool, monitoring = found["WindowsNodePool"], found["IncompatibleAddon"]
    assert "deletes pool 'win' with its 3 node(s) and evicts the workloads on them" in pool.cost
    assert "logs and metrics stop reaching Log Analytics" in monitoring.cost
    for finding in (pool, monitoring):
        assert finding.advice.startswith("Option, at a cost (") and "network-policy apply" in finding.advice
        assert finding.to_dict()["cost"] == finding.cost


def test_fixes_name_the_subscription_when_the_cluster_is_not_in_the_default_one():
    other = "11111111-1111-1111-1111-111111111111"
    mc = cluster(oidcIssuerProfile=None, addonProfiles={"azurepolicy": {"enabled": True}})
    env = Environment(feature_state="NotRegistered", subscription=other)
    for blocker in preflight.check_enable(mc, env, "rg", "c").blockers:
        commands = [part for part in blocker.fix.replace("; once", "&&").split("&&") if " az " in f" {part}"]
        assert commands and all(f"--subscription {other}" in part for part in commands), blocker.fix


def test_the_standalone_oidc_fix_names_no_az_command():
    result = preflight.check_enable(cluster(oidcIssuerProfile=None), Environment(feature_state="Registered",
                                                                                  cli="az-imds"), "rg", "c")
    assert [b.fix for b in result.blockers] == ["az-imds aks update -g rg -n c --enable-imds-restriction "
                                                "--enable-oidc-issuer (turns the issuer on in the same update)"]


def test_busy_cluster_blocks_both_directions():
    mc = cluster(provisioningState="Updating")
    assert codes(preflight.check_enable(mc, READY, "rg", "c"))[0] == "OperationInProgress"
    assert codes(preflight.check_disable(mc, Environment(), "rg", "c")) == ["OperationInProgress"]


def test_pool_being_reimaged_counts_as_busy():
    mc = cluster(agentPoolProfiles=[{"name": "p1", "provisioningState": "UpgradingNodeImageVersion"}])
    result = preflight.check_disable(mc, Environment(), "rg", "c")
    assert codes(result) == ["OperationInProgress"] and "p1" in result.blockers[0].message


def test_disable_has_no_other_preconditions():
    mc = cluster(oidcIssuerProfile=None, addonProfiles={"omsagent": {"enabled": True}})
    assert preflight.check_disable(mc, Environment(feature_state="NotRegistered"), "rg", "c").ok


def test_workload_identity_off_warns_but_does_not_block():
    mc = cluster(securityProfile={})
    result = preflight.check_enable(mc, READY, "rg", "c")
    assert result.ok
    assert [w.code for w in result.warnings] == ["WorkloadIdentityDisabled"]
    assert "--enable-workload-identity" in result.warnings[0].fix


def test_create_requires_the_oidc_issuer_in_the_body():
    body = {"location": "westus2", "properties": {"agentPoolProfiles": [{"name": "nodepool1", "osType": "Linux"}]}}
    result = preflight.check_create(body, READY, "rg", "c")
    assert codes(result) == ["OIDCIssuerRequired"]
    assert "--enable-oidc-issuer" in result.blockers[0].message


def test_create_with_incompatible_addon_is_refused():
    body = {"properties": {"oidcIssuerProfile": {"enabled": True}, "addonProfiles": {"omsagent": {"enabled": True}}}}
    assert codes(preflight.check_create(body, READY, "rg", "c")) == ["IncompatibleAddon"]


def test_pod_link_local_access_defaults_to_imds():
    assert cluster_fields.pod_link_local_access(cluster()) == "IMDS"
    assert not cluster_fields.is_restricted(cluster())
    assert cluster_fields.is_restricted(cluster(networkProfile={"podLinkLocalAccess": "None"}))


def test_feature_fix_for_az_says_how_to_wait_since_az_feature_register_cannot():
    result = preflight.check_enable(cluster(), Environment(feature_state="NotRegistered", cli="az"), "rg", "c")
    fix = result.blockers[0].fix
    assert fix.startswith("az feature register --namespace Microsoft.ContainerService --name IMDSRestrictionPreview;")
    assert "--wait" not in fix.split(";")[0]
    assert fix.endswith("az provider register --namespace Microsoft.ContainerService --wait")


def test_the_pod_identity_add_on_is_a_warning_naming_the_scan():
    result = preflight.check_enable(cluster(podIdentityProfile={"enabled": True}), READY, "rg", "c")
    assert result.ok  # the service does not refuse it: the workloads it serves break
    [warning] = [w for w in result.warnings if w.code == "PodIdentityEnabled"]
    assert "aks imds-restriction scan" in warning.message and "--disable-pod-identity" in warning.fix
