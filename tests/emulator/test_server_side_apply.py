"""Server-side apply against an emulated cluster's API server, as users make it: `kubectl apply --server-side`, the
official Python client's apply patch (`application/apply-patch+yaml`), and plain HTTPS; and the managed fields every
write records (docs/emulator.md, providers/kubernetes/apply.py)."""
import base64
import json

import pytest
import requests

from tests.emulator.test_kubectl import KUBECTL, _kubectl_of
from tests.support.clusters import cluster_body
from tests.support.constants import SUB

MC = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters"
APPLY = "application/apply-patch+yaml"
CONFIG_MAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: shop
  labels: {team: a}
data:
  key: one
  since: 2024-01-01
"""
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}}, "template": {
                  "metadata": {"labels": {"app": "api"}},
                  "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}}
SIDECAR = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"},
           "spec": {"template": {"spec": {"containers": [{"name": "log", "image": "busybox"}]}}}}
SEEDED = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "legacy"},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {
              "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


@pytest.fixture
def cluster(arm, admin):
    admin.seed(resourceGroups=[{"name": "rg1", "location": "westus2"}], clusters=[{
        "resourceGroup": "rg1", "name": "c1", "cluster": cluster_body()}])
    admin.seed(kubernetes=[{"resourceGroup": "rg1", "cluster": "c1", "objects": [SEEDED]}])
    answer = arm("POST", f"{MC}/c1/listClusterUserCredential").json()
    return json.loads(base64.b64decode(answer["kubeconfigs"][0]["value"]))


@pytest.fixture
def kubectl(arm, cluster, tmp_path):
    if KUBECTL is None:
        pytest.skip("kubectl is not installed on this machine")
    return _kubectl_of(arm, tmp_path, "c1")


@pytest.fixture
def kube(cluster, emulator):
    server = cluster["clusters"][0]["cluster"]["server"]
    token = cluster["users"][0]["user"]["token"]

    def call(method, path, body=None, content_type=APPLY, **params):
        data = body if isinstance(body, str) or body is None else json.dumps(body)
        return requests.request(method, server + path, params=params, data=data, verify=emulator.ca_bundle_path,
                                headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
                                timeout=30)

    return call


def _managers(obj: dict) -> dict:
    return {(e["manager"], e["operation"]): e["fieldsV1"] for e in obj["metadata"].get("managedFields") or []}


def _read(kubectl, *what) -> dict:
    return json.loads(kubectl("get", *what, "-n", "shop", "-o", "json", "--show-managed-fields").stdout)


def test_kubectl_apply_server_side_creates_reapplies_conflicts_and_forces(kubectl, tmp_path):
    namespace = tmp_path / "ns.yaml"
    namespace.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n")
    assert kubectl("apply", "--server-side", "-f", str(namespace)).stdout.strip() == "namespace/shop serverside-applied"
    config = tmp_path / "cm.yaml"
    config.write_text(CONFIG_MAP)
    assert kubectl("apply", "--server-side", "-f", str(config)).stdout.strip() == "configmap/cfg serverside-applied"
    created = _read(kubectl, "cm", "cfg")
    assert created["data"] == {"key": "one", "since": "2024-01-01"}  # YAML read as the API server reads it
    assert _managers(created) == {("kubectl", "Apply"): {
        "f:data": {"f:key": {}, "f:since": {}}, "f:metadata": {"f:labels": {"f:team": {}}}}}
    assert kubectl("apply", "--server-side", "-f", str(config)).stdout.strip() == "configmap/cfg serverside-applied"
    assert _read(kubectl, "cm", "cfg")["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    config.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: shop\n"
                      "data:\n  key: two\n")
    refused = kubectl("apply", "--server-side", "--field-manager=ci", "-f", str(config), ok=False)
    assert refused.returncode == 1
    assert 'error: Apply failed with 1 conflict: conflict with "kubectl": .data.key' in refused.stderr
    assert "--force-conflicts" in refused.stderr
    assert _read(kubectl, "cm", "cfg")["data"]["key"] == "one"
    dry = kubectl("apply", "--server-side", "--field-manager=ci", "--force-conflicts", "--dry-run=server", "-f",
                  str(config), "-o", "json")
    assert json.loads(dry.stdout)["data"]["key"] == "two" and _read(kubectl, "cm", "cfg")["data"]["key"] == "one"
    forced = kubectl("apply", "--server-side", "--field-manager=ci", "--force-conflicts", "-f", str(config))
    assert forced.stdout.strip() == "configmap/cfg serverside-applied"
    taken = _read(kubectl, "cm", "cfg")
    assert taken["data"]["key"] == "two"
    managers = _managers(taken)
    assert managers[("ci", "Apply")] == {"f:data": {"f:key": {}}}
    assert managers[("kubectl", "Apply")]["f:data"] == {"f:since": {}}  # the forced field moved to ci

    # kubectl's manifest without the label and the key: the label goes, the key is still ci's and stays.
    config.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: shop\n"
                      "data:\n  since: 2024-01-01\n")
    assert kubectl("apply", "--server-side", "-f", str(config)).returncode == 0
    pruned = _read(kubectl, "cm", "cfg")
    assert pruned["data"] == {"key": "two", "since": "2024-01-01"} and "labels" not in pruned["metadata"]


def test_kubectl_apply_server_side_merges_containers_by_name_and_sees_updates(kubectl, tmp_path):
    kubectl("create", "ns", "shop")
    path = tmp_path / "deploy.json"
    path.write_text(json.dumps(DEPLOYMENT))
    assert kubectl("apply", "--server-side", "-f", str(path)).stdout.strip() == "deployment.apps/api serverside-applied"
    path.write_text(json.dumps(SIDECAR))
    assert kubectl("apply", "--server-side", "--field-manager=logging", "-f", str(path)).returncode == 0
    containers = _read(kubectl, "deploy", "api")["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("c", "nginx:1.27"), ("log", "busybox")]

    assert kubectl("set", "image", "deployment/api", "-n", "shop", "c=nginx:1.28").returncode == 0
    path.write_text(json.dumps(DEPLOYMENT))  # kubectl's own manifest still says 1.27, and has no sidecar
    refused = kubectl("apply", "--server-side", "-f", str(path), ok=False)
    assert refused.returncode == 1 and ('Apply failed with 1 conflict: conflict with "kubectl-set" using apps/v1: '
                                        '.spec.template.spec.containers[name="c"].image') in refused.stderr
    assert kubectl("apply", "--server-side", "--force-conflicts", "-f", str(path)).returncode == 0
    read = _read(kubectl, "deploy", "api")
    assert [(c["name"], c["image"]) for c in read["spec"]["template"]["spec"]["containers"]] == [
        ("c", "nginx:1.27"), ("log", "busybox")]  # the sidecar is logging's: kubectl's apply leaves it
    assert ("kubectl-set", "Update") not in _managers(read)  # it owned only the image, now kubectl's again


def test_kubectl_apply_server_side_conflicts_with_what_was_there_before_managed_fields(kubectl, tmp_path):
    """An object without managed fields (seeded) is all `before-first-apply`'s, as on a real cluster."""
    path = tmp_path / "web.json"
    path.write_text(json.dumps({**SEEDED, "spec": {**SEEDED["spec"], "replicas": 5}}))
    refused = kubectl("apply", "--server-side", "-f", str(path), ok=False)
    assert refused.returncode == 1
    assert 'conflict with "before-first-apply" using apps/v1: .spec.replicas' in refused.stderr
    path.write_text(json.dumps(SEEDED))  # the same values: shared, no conflict
    assert kubectl("apply", "--server-side", "-f", str(path)).returncode == 0


def test_the_python_client_applies_and_sees_conflicts_as_api_exceptions(cluster):
    pytest.importorskip("kubernetes", reason="the official client is in the test extra")
    from kubernetes import client, config

    core = client.CoreV1Api(config.new_client_from_config_dict(cluster))
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="shop")))
    made = core.create_namespaced_config_map("shop", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="made", labels={"team": "a"}), data={"key": "one"}))
    [entry] = made.metadata.managed_fields  # a create is an Update, by the client's program name
    assert (entry.manager, entry.operation, entry.fields_type) == ("OpenAPI-Generator", "Update", "FieldsV1")
    assert entry.fields_v1 == {"f:data": {".": {}, "f:key": {}},
                               "f:metadata": {"f:labels": {".": {}, "f:team": {}}}}
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"},
            "data": {"key": "one"}}
    applied = core.patch_namespaced_config_map("cfg", "shop", body, field_manager="deployer", _content_type=APPLY)
    assert applied.data == {"key": "one"}
    [entry] = applied.metadata.managed_fields
    assert (entry.manager, entry.operation, entry.fields_v1) == ("deployer", "Apply", {"f:data": {"f:key": {}}})
    changed = {**body, "data": {"key": "two"}}
    with pytest.raises(client.ApiException) as conflict:
        core.patch_namespaced_config_map("cfg", "shop", changed, field_manager="other", _content_type=APPLY)
    status = json.loads(conflict.value.body)
    assert conflict.value.status == 409 and status["reason"] == "Conflict"
    assert status["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "deployer"',
                                            "field": ".data.key"}]
    forced = core.patch_namespaced_config_map("cfg", "shop", changed, field_manager="other", force=True,
                                              _content_type=APPLY)
    assert forced.data == {"key": "two"}
    with pytest.raises(client.ApiException) as unnamed:
        core.patch_namespaced_config_map("cfg", "shop", changed, _content_type=APPLY)
    assert unnamed.value.status == 422 and "fieldManager: Required value: is required for apply patch" in \
        json.loads(unnamed.value.body)["message"]
    # An ordinary patch is an Update that takes the field from its appliers.
    patched = core.patch_namespaced_config_map("cfg", "shop", {"data": {"key": "three"}}, field_manager="editor")
    assert {(e.manager, e.operation) for e in patched.metadata.managed_fields} == {("editor", "Update")}


def test_the_dynamic_client_server_side_apply_creates_a_network_policy(cluster):
    pytest.importorskip("kubernetes", reason="the official client is in the test extra")
    from kubernetes import client, config, dynamic

    api = config.new_client_from_config_dict(cluster)
    client.CoreV1Api(api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="shop")))
    policies = dynamic.DynamicClient(api).resources.get(api_version="networking.k8s.io/v1", kind="NetworkPolicy")
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "block-imds", "namespace": "shop"},
              "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
                  {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}]}]}}
    made = dynamic.DynamicClient(api).server_side_apply(policies, body=policy, field_manager="imds-ext")
    assert made.spec.egress[0].to[0].ipBlock["except"] == ["169.254.169.254/32"]
    assert made.metadata.managedFields[0].manager == "imds-ext"


def test_apply_over_https_creates_validates_and_refuses_what_a_real_server_refuses(kube):
    assert kube("POST", "/api/v1/namespaces", {"metadata": {"name": "shop"}}, "application/json").status_code == 201
    path = "/api/v1/namespaces/shop/configmaps/cfg"
    created = kube("PATCH", path, CONFIG_MAP, fieldManager="ops")
    assert created.status_code == 201 and created.json()["data"]["key"] == "one"
    again = kube("PATCH", path, CONFIG_MAP, fieldManager="ops")
    assert again.status_code == 200 and again.json()["metadata"]["resourceVersion"] == \
        created.json()["metadata"]["resourceVersion"]
    typo = kube("PATCH", path, CONFIG_MAP.replace("\ndata:", "\ndat:"), fieldManager="ops", fieldValidation="Strict")
    assert typo.status_code == 400 and 'strict decoding error: unknown field "dat"' in typo.json()["message"]
    warned = kube("PATCH", path, CONFIG_MAP.replace("\ndata:", "\ndat:"), fieldManager="ops")
    assert warned.status_code == 200 and 'unknown field \\"dat\\"' in warned.headers["Warning"]
    other = kube("PATCH", "/api/v1/namespaces/shop/configmaps/other", CONFIG_MAP, fieldManager="ops")
    assert other.status_code == 400 and other.json()["message"] == (
        "the name of the object (cfg) does not match the name on the URL (other)")
    wrong = kube("PATCH", path, CONFIG_MAP.replace("apiVersion: v1", "apiVersion: apps/v1"), fieldManager="ops")
    assert wrong.status_code == 400 and "Incorrect version specified in apply patch" in wrong.json()["message"]
    broken = kube("PATCH", path, "data: [", fieldManager="ops")
    assert broken.status_code == 400 and broken.json()["message"].startswith("error decoding YAML")
    owned = kube("PATCH", path, CONFIG_MAP.replace("labels: {team: a}", "managedFields: []"), fieldManager="ops")
    assert owned.status_code == 400 and owned.json()["message"] == "metadata.managedFields must be nil"
    forced = kube("PATCH", path, {"data": {"key": "x"}}, "application/merge-patch+json", force="true")
    assert forced.status_code == 422 and forced.json()["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch')
    cleared = kube("PATCH", path, {"metadata": {"managedFields": [{}]}}, "application/merge-patch+json")
    assert cleared.status_code == 200 and "managedFields" not in cleared.json()["metadata"]


def test_kubectl_apply_server_side_of_a_pod_and_a_custom_resource(arm, admin, tmp_path):
    """A pod applied into being is scheduled as a created one is; a custom resource (no schema served) merges its
    objects by field and owns its lists whole."""
    admin.seed(resourceGroups=[{"name": "rg1", "location": "westus2"}], clusters=[{
        "resourceGroup": "rg1", "name": "cil", "cluster": cluster_body(network_dataplane="cilium")}])
    kubectl = _kubectl_of(arm, tmp_path, "cil")
    pod = tmp_path / "pod.json"
    pod.write_text(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
                               "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}))
    assert kubectl("apply", "--server-side", "-f", str(pod)).stdout.strip() == "pod/web serverside-applied"
    row = kubectl("get", "pod", "web", "-o", "wide").stdout.splitlines()[1].split()
    assert row[2] == "Running" and row[6].startswith("aks-")
    policy = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "deny-imds"},
              "spec": {"endpointSelector": {}, "egressDeny": [{"toCIDR": ["169.254.169.254/32"]}]}}
    path = tmp_path / "ccnp.json"
    path.write_text(json.dumps(policy))
    assert kubectl("apply", "--server-side", "-f", str(path)).returncode == 0
    read = json.loads(kubectl("get", "ccnp", "deny-imds", "-o", "json", "--show-managed-fields").stdout)
    assert _managers(read) == {("kubectl", "Apply"): {
        "f:spec": {".": {}, "f:egressDeny": {}, "f:endpointSelector": {}}}}
    policy["spec"]["egressDeny"][0]["toCIDR"].append("168.63.129.16/32")
    path.write_text(json.dumps(policy))
    refused = kubectl("apply", "--server-side", "--field-manager=ops", "-f", str(path), ok=False)
    assert refused.returncode == 1 and 'conflict with "kubectl": .spec.egressDeny' in refused.stderr


def test_more_than_ten_updaters_leave_the_oldest_merged_into_ancient_changes(kube):
    assert kube("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "shop"}}, content_type="application/json").status_code == 201
    made = kube("POST", "/api/v1/namespaces/shop/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "many"}}, content_type="application/json", fieldManager="creator")
    assert made.status_code == 201, made.text
    for i in range(12):  # twelve more managers, each writing its own key
        patched = kube("PATCH", "/api/v1/namespaces/shop/configmaps/many", {"data": {f"k{i}": "v"}},
                       content_type="application/merge-patch+json", fieldManager=f"writer-{i:02d}")
        assert patched.status_code == 200, patched.text
    entries = patched.json()["metadata"]["managedFields"]
    assert len(entries) == 10 and sum(e["manager"] == "ancient-changes" for e in entries) == 1
    ancient = next(e for e in entries if e["manager"] == "ancient-changes")
    # the creator's and the first writers' fields, owned now by the merged entry
    assert {"f:k0", "f:k1", "f:k2"} <= set(ancient["fieldsV1"].get("f:data", {}))
    assert [e["manager"] for e in entries if e["manager"].startswith("writer-")] == [
        f"writer-{i:02d}" for i in range(3, 12)]
