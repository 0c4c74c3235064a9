"""The service's IMDS-restriction rules: refused with a clear AKS 400, nothing stored."""
import pytest
from azure.core.exceptions import HttpResponseError

from tests.support.clusters import cluster_body
from tests.support.constants import CUSTOM_FEATURES, FEATURE, SUB

MC = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters"
EXT = MC + "/c1/providers/Microsoft.KubernetesConfiguration/extensions"


def refused(r, code="IMDSRestrictionNotSupported"):
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code
    return r.json()["message"]


def test_feature_must_be_registered_unless_the_header_names_it(aks, rg, arm, admin):
    body = cluster_body(restricted=True)
    assert "IMDSRestrictionPreview" in refused(arm("PUT", f"{MC}/c1", json=body), "FeatureNotRegistered")
    assert arm("GET", f"{MC}/c1").status_code == 404
    assert arm("PUT", f"{MC}/c1", json=body, headers=CUSTOM_FEATURES).status_code == 201
    admin.seed({"features": {FEATURE: "Registered"}})
    mc = aks.managed_clusters.begin_create_or_update(rg, "c2", body).result()
    assert mc.network_profile["podLinkLocalAccess"] == "None"


@pytest.mark.parametrize("props, names", [
    ({"oidcIssuerProfile": {"enabled": False}}, "OIDC issuer"),
    ({"agentPoolProfiles": [{"name": "np1", "mode": "System"}, {"name": "win", "osType": "Windows"}]}, "'win'"),
    ({"agentPoolProfiles": [{"name": "np1", "type": "VirtualMachines"}]}, "VirtualMachines"),
    ({"addonProfiles": {"OMSAgent": {"enabled": True}}}, "OMSAgent"),
    ({"addonProfiles": {"ingressApplicationGateway": {"enabled": True}}}, "ingressApplicationGateway"),
    ({"addonProfiles": {"aciConnectorLinux": {"enabled": True}}}, "aciConnectorLinux"),
    ({"addonProfiles": {"azurePolicy": {"enabled": True}}}, "azurePolicy"),
    ({"addonProfiles": {"httpapplicationrouting": {"enabled": True}}}, "httpapplicationrouting"),
    ({"azureMonitorProfile": {"containerInsights": {"enabled": True}}}, "Container Insights"),
    ({"ingressProfile": {"webAppRouting": {"enabled": True}}}, "Application routing"),
    ({"aiToolchainOperatorProfile": {"enabled": True}}, "AI toolchain"),
    ({"metricsProfile": {"costAnalysis": {"enabled": True}}}, "cost analysis"),
])
def test_blockers_refuse_enabling(arm, rg, props, names):
    body = cluster_body(restricted=True)
    body["properties"].update(props)
    assert names in refused(arm("PUT", f"{MC}/c1", json=body, headers=CUSTOM_FEATURES))
    assert arm("GET", f"{MC}/c1").status_code == 404
    body["properties"]["networkProfile"]["podLinkLocalAccess"] = "IMDS"
    assert arm("PUT", f"{MC}/c1", json=body).status_code == 201  # fine without the restriction


def test_disabled_addon_does_not_block(arm, rg):
    body = cluster_body(restricted=True, addonProfiles={"omsagent": {"enabled": False}})
    assert arm("PUT", f"{MC}/c1", json=body, headers=CUSTOM_FEATURES).status_code == 201


def test_incompatible_extension_blocks_and_cannot_be_added_later(arm, rg, aks):
    aks.managed_clusters.begin_create_or_update(rg, "c1", cluster_body()).result()
    flux = {"properties": {"extensionType": "Microsoft.Flux"}}
    assert arm("PUT", f"{EXT}/flux", json=flux, api="2023-05-01").status_code == 201
    assert [e["name"] for e in arm("GET", EXT, api="2023-05-01").json()["value"]] == ["flux"]
    assert "flux" in refused(arm("PUT", f"{MC}/c1", json=cluster_body(restricted=True), headers=CUSTOM_FEATURES))
    assert arm("DELETE", f"{EXT}/flux", api="2023-05-01").status_code == 200
    assert arm("PUT", f"{MC}/c1", json=cluster_body(restricted=True), headers=CUSTOM_FEATURES).status_code == 200
    assert "Microsoft.Dapr" in refused(arm("PUT", f"{EXT}/dapr", api="2024-11-01",
                                           json={"properties": {"extensionType": "Microsoft.Dapr"}}))
    assert arm("GET", f"{EXT}/dapr", api="2024-11-01").status_code == 404
    ok = {"properties": {"extensionType": "microsoft.azurekeyvaultsecretsprovider"}}
    assert arm("PUT", f"{EXT}/kv", json=ok, api="2024-11-01").status_code == 201
    assert arm("GET", EXT, api="2021-01-01").status_code == 400  # outside the extensions api-versions


def test_reverse_direction_addon_and_windows_pool(aks, rg, arm):
    aks.managed_clusters.begin_create_or_update(rg, "c1", cluster_body(restricted=True, pools=["nodepool1"]),
                                                headers=CUSTOM_FEATURES).result()
    body = cluster_body(restricted=True, addonProfiles={"azurepolicy": {"enabled": True}})
    assert "azurepolicy" in refused(arm("PUT", f"{MC}/c1", json=body))
    with pytest.raises(HttpResponseError) as e:
        aks.agent_pools.begin_create_or_update(rg, "c1", "win1", {"properties": {"osType": "Windows"}}).result()
    assert e.value.error.code == "IMDSRestrictionNotSupported" and "win1" in e.value.error.message
    assert [p.name for p in aks.agent_pools.list(rg, "c1")] == ["nodepool1"]


def test_oidc_issuer_cannot_be_turned_off(aks, rg, arm):
    aks.managed_clusters.begin_create_or_update(rg, "c1", cluster_body()).result()
    r = arm("PUT", f"{MC}/c1", json=cluster_body(oidc=False))
    assert r.status_code == 400 and r.json()["code"] == "OIDCIssuerFeatureCannotBeDisabled"


def test_seeded_clusters_bypass_the_rules(admin, aks):
    admin.seed({"clusters": [{"resourceGroup": "rgx", "name": "bad", "cluster": cluster_body(
        restricted=True, oidc=False, addonProfiles={"omsagent": {"enabled": True}})}]})
    mc = aks.managed_clusters.get("rgx", "bad")
    assert mc.addon_profiles["omsagent"].enabled and mc.network_profile["podLinkLocalAccess"] == "None"
