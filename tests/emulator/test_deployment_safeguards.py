"""Deployment Safeguards (`{cluster}/providers/Microsoft.ContainerService/deploymentSafeguards/default`, api-version
2025-05-02-preview) as test_aks_deployment_safeguards_basic and _with_pss answered. azure-mgmt-containerservice
has no operations group for it (az's aks-preview vendors its own client), so raw HTTPS."""
import pytest

from tests.support.clusters import cluster_body
from tests.support.constants import SUB

API = "2025-05-02-preview"
MC = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters"
SAFEGUARDS = f"{MC}/c1/providers/Microsoft.ContainerService/deploymentSafeguards"
SYSTEM = ["aks-command", "kube-system", "calico-system", "tigera-system", "gatekeeper-system", "azappconfig-system",
          "azureml", "dapr-system", "dataprotection-microsoft", "flux-system", "acstor", "sc-system",
          "azure-extensions-usage-system", "app-routing-system", "aks-periscope", "aks-istio-system",
          "aks-istio-ingress", "aks-istio-egress"]


@pytest.fixture
def cluster(arm, rg):
    assert arm("PUT", f"{MC}/c1", json=cluster_body()).status_code == 201
    return "c1"


def put(arm, **properties):
    return arm("PUT", f"{SAFEGUARDS}/default", api=API, json={"properties": properties})


def path_of(url, emulator):
    return url.replace(emulator.arm_endpoint, "").split("?")[0]


def test_safeguards_created_with_a_level_alone_read_privileged_with_the_system_namespaces(arm, cluster, emulator):
    r = put(arm, level="Warn")
    assert r.status_code == 201 and "Location" not in r.headers
    created = r.json()
    assert created["name"] == "default" and created["type"] == "Microsoft.ContainerService/deploymentSafeguards"
    assert created["id"].endswith("/managedClusters/c1/providers/Microsoft.ContainerService/deploymentSafeguards/"
                                  "default")
    assert created["properties"] == {"level": "Warn", "podSecurityStandardsLevel": "Privileged",
                                     "provisioningState": "Creating", "systemExcludedNamespaces": SYSTEM}
    status = arm("GET", path_of(r.headers["Azure-AsyncOperation"], emulator), api="2016-03-30").json()
    assert status["status"] == "Succeeded" and set(status) == {"name", "status", "startTime", "endTime"}
    read = arm("GET", f"{SAFEGUARDS}/default", api=API).json()
    assert read["properties"]["provisioningState"] == "Succeeded"
    assert read["eTag"] and read["eTag"] != created["eTag"]  # the operation's end wrote it again
    assert arm("GET", SAFEGUARDS, api=API).json() == {"value": [read]}


def test_an_update_answers_updating_and_replaces_level_pod_security_and_excluded_namespaces(arm, cluster):
    put(arm, level="Warn")
    r = put(arm, level="Enforce", podSecurityStandardsLevel="Baseline", excludedNamespaces=["ns1", "ns2"])
    assert r.status_code == 200 and "Azure-AsyncOperation" in r.headers and "Location" not in r.headers
    assert r.json()["properties"]["provisioningState"] == "Updating"
    props = arm("GET", f"{SAFEGUARDS}/default", api=API).json()["properties"]
    assert (props["level"], props["podSecurityStandardsLevel"], props["excludedNamespaces"]) == (
        "Enforce", "Baseline", ["ns1", "ns2"])
    put(arm, level="Warn", podSecurityStandardsLevel="Restricted")  # a PUT is the whole resource
    props = arm("GET", f"{SAFEGUARDS}/default", api=API).json()["properties"]
    assert "excludedNamespaces" not in props and props["podSecurityStandardsLevel"] == "Restricted"
    assert props["systemExcludedNamespaces"] == SYSTEM


@pytest.mark.parametrize("properties, target", [
    ({"level": "Audit"}, "properties.level"),
    ({"level": "warn"}, "properties.level"),
    ({"level": "Warn", "podSecurityStandardsLevel": "Strict"}, "properties.podSecurityStandardsLevel"),
    ({"level": "Warn", "excludedNamespaces": "ns1"}, "properties.excludedNamespaces"),
    ({"podSecurityStandardsLevel": "Baseline"}, "properties"),
])
def test_a_bad_level_is_an_aks_400_naming_the_field(arm, cluster, properties, target):
    r = put(arm, **properties)
    assert r.status_code == 400
    assert r.json()["code"] == "InvalidParameter" and r.json()["target"] == target
    assert arm("GET", f"{SAFEGUARDS}/default", api=API).status_code == 404  # nothing was written


def test_a_delete_answers_a_location_only_and_its_result_204_keeps_it(arm, cluster, emulator):
    put(arm, level="Warn")
    r = arm("DELETE", f"{SAFEGUARDS}/default", api=API)
    assert r.status_code == 202 and "Azure-AsyncOperation" not in r.headers and not r.content
    result = arm("GET", path_of(r.headers["Location"], emulator), api="2016-03-30")
    assert result.status_code == 204 and "/operationresults/" in result.headers["Location"]
    assert arm("GET", f"{SAFEGUARDS}/default", api=API).status_code == 404
    assert arm("GET", SAFEGUARDS, api=API).json() == {"value": []}
    assert arm("DELETE", f"{SAFEGUARDS}/default", api=API).status_code == 204  # nothing left to delete


def test_a_running_delete_reports_its_progress_and_refuses_another_change(arm, cluster, admin, emulator):
    put(arm, level="Warn")
    admin.config(lro_delay=3600)
    r = arm("DELETE", f"{SAFEGUARDS}/default", api=API)
    result = arm("GET", path_of(r.headers["Location"], emulator), api="2016-03-30")
    assert result.status_code == 202 and "Azure-AsyncOperation" not in result.headers
    assert "/operationresults/" in result.headers["Location"]
    body = result.json()
    assert body["status"] == "InProgress" and body["progress"] == {"currentStep": ""}
    assert set(body) == {"name", "status", "startTime", "progress", "leasedUntil", "etag"}
    assert arm("GET", f"{SAFEGUARDS}/default", api=API).json()["properties"]["provisioningState"] == "Deleting"
    again = put(arm, level="Enforce")
    assert again.status_code == 409 and again.json()["code"] == "OperationNotAllowed"


def test_a_stale_etag_is_refused(arm, cluster):
    put(arm, level="Warn")
    r = arm("PUT", f"{SAFEGUARDS}/default", api=API, json={"properties": {"level": "Enforce"}},
            headers={"If-Match": "not-the-etag"})
    assert r.status_code == 412 and r.json()["code"] == "PreconditionFailed"
    current = arm("GET", f"{SAFEGUARDS}/default", api=API).json()["eTag"]
    r = arm("PUT", f"{SAFEGUARDS}/default", api=API, json={"properties": {"level": "Enforce"}},
            headers={"If-Match": current})
    assert r.status_code == 200


def test_safeguards_go_away_with_their_cluster(arm, cluster):
    put(arm, level="Enforce")
    assert arm("DELETE", f"{MC}/c1").status_code == 202
    assert arm("GET", f"{SAFEGUARDS}/default", api=API).status_code == 404  # the cluster is not found
    arm("PUT", f"{MC}/c1", json=cluster_body())
    r = arm("GET", f"{SAFEGUARDS}/default", api=API)
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceNotFound"
    assert arm("GET", SAFEGUARDS, api=API).json() == {"value": []}


def test_a_failed_operation_leaves_the_safeguards_failed(arm, cluster, admin):
    admin.fault(method="PUT", path="deploymentSafeguards/default$", failOperation={"code": "Boom", "message": "boom"})
    put(arm, level="Warn")
    assert arm("GET", f"{SAFEGUARDS}/default", api=API).json()["properties"]["provisioningState"] == "Failed"
