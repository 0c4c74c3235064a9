"""Each emulated cluster's Kubernetes API, reached as a client reaches it: the kubeconfig from
listClusterUserCredential (or a Microsoft Entra token for the AKS server application), then the API server."""
import base64
import json

import pytest
import requests

from imds_ext.emulator import WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_TENANT_ID
from tests.support.clusters import cluster_body
from tests.support.constants import SUB

MC = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters"
PROBE = ["curl", "-s", "-H", "Metadata:true", "--noproxy", "*", "--connect-timeout", "10",
         "http://169.254.169.254/metadata/instance?api-version=2023-11-15"]


@pytest.fixture
def kube(arm, admin, emulator):
    """A Kubernetes client of cluster c1 (restricted; nodepool1's nodes reimaged, userpool's not) by its kubeconfig."""
    admin.seed(resourceGroups=[{"name": "rg1", "location": "westus2"}], clusters=[{
        "resourceGroup": "rg1", "name": "c1", "cluster": cluster_body(restricted=True),
        "nodes": {"userpool": {"podLinkLocalAccess": "IMDS"}}}])
    answer = arm("POST", f"{MC}/c1/listClusterUserCredential").json()
    config = json.loads(base64.b64decode(answer["kubeconfigs"][0]["value"]))
    server = config["clusters"][0]["cluster"]["server"]
    token = config["users"][0]["user"]["token"]

    def call(method, path, token=token, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, server + path, headers=headers, verify=emulator.ca_bundle_path, timeout=30,
                                **kwargs)

    return call


def probe_pod(name, node, host_network):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "hostNetwork": host_network, "restartPolicy": "Never",
                     "containers": [{"name": "probe", "image": "curlimages/curl", "command": PROBE}]}}


def test_the_api_answers_its_own_tokens_only(kube, emulator):
    assert kube("GET", "/version").json()["gitVersion"] == "v1.33.1"
    refused = kube("GET", "/api/v1/nodes", token=None)
    assert refused.status_code == 401 and refused.json()["kind"] == "Status"
    assert kube("GET", "/api/v1/nodes", token="not-a-token").status_code == 401
    entra = requests.post(f"{emulator.authority_host}/{WELL_KNOWN_TENANT_ID}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": WELL_KNOWN_CLIENT_ID,
        "client_secret": WELL_KNOWN_CLIENT_SECRET, "scope": "6dae42f8-4368-4678-94ff-3960e28e3630/.default"},
        verify=emulator.ca_bundle_path, timeout=30)
    assert kube("GET", "/api/v1/nodes", token=entra.json()["access_token"]).status_code == 200


def test_a_request_at_the_emulators_root_reaches_only_the_cluster_whose_token_it_carries(kube, arm, emulator, token):
    local = json.loads(base64.b64decode(arm("POST", f"{MC}/c1/listClusterUserCredential").json()[
        "kubeconfigs"][0]["value"]))["users"][0]["user"]["token"]

    def at_root(bearer):
        return requests.get(f"{emulator.arm_endpoint}/api/v1/nodes", verify=emulator.ca_bundle_path, timeout=30,
                            headers={"Authorization": f"Bearer {bearer}"} if bearer else {})

    assert at_root(local).json()["kind"] == "NodeList"
    for other in (token, "not-a-token", None):  # an ARM token names no cluster, nor does none
        refused = at_root(other)
        assert refused.status_code == 404 and refused.json()["kind"] == "Status", refused.text


def test_nodes_come_from_the_pools_with_the_aks_labels(kube):
    nodes = kube("GET", "/api/v1/nodes").json()["items"]
    pools = sorted(n["metadata"]["labels"]["kubernetes.azure.com/agentpool"] for n in nodes)
    assert pools == ["nodepool1"] * 3 + ["userpool"] * 2
    assert all(n["metadata"]["name"].startswith(f"aks-{n['metadata']['labels']['agentpool']}-") for n in nodes)
    assert all(n["metadata"]["labels"]["kubernetes.azure.com/node-image-version"] for n in nodes)


def test_a_probe_pod_sees_what_its_node_enforces(kube):
    nodes = {n["metadata"]["labels"]["agentpool"]: n["metadata"]["name"] for n in kube("GET", "/api/v1/nodes").json()[
        "items"]}
    assert kube("POST", "/api/v1/namespaces", json={"metadata": {"name": "imds-probe"}}).status_code == 201
    cases = {"blocked": (nodes["nodepool1"], False), "host": (nodes["nodepool1"], True),
             "stale": (nodes["userpool"], False)}
    for name, (node, host) in cases.items():
        assert kube("POST", "/api/v1/namespaces/imds-probe/pods", json=probe_pod(name, node, host)).status_code == 201
    phases = {name: kube("GET", f"/api/v1/namespaces/imds-probe/pods/{name}").json()["status"] for name in cases}
    assert phases["blocked"]["phase"] == "Failed"
    assert phases["blocked"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 28
    assert phases["host"]["phase"] == "Succeeded"  # host-network pods keep IMDS
    assert phases["stale"]["phase"] == "Succeeded"  # a node not reimaged since the setting changed
    assert "timed out" in kube("GET", "/api/v1/namespaces/imds-probe/pods/blocked/log").text
    assert kube("DELETE", "/api/v1/namespaces/imds-probe").status_code == 200
    assert kube("GET", "/api/v1/namespaces/imds-probe/pods").json()["items"] == []


def test_seeded_workloads_and_custom_resources_are_listed(kube, admin):
    admin.seed(kubernetes=[{"resourceGroup": "rg1", "cluster": "c1", "objects": [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
         "spec": {"template": {"metadata": {"labels": {"aadpodidbinding": "web"}}}}},
        {"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
         "metadata": {"name": "kv", "namespace": "shop"}, "spec": {"parameters": {"useVMManagedIdentity": "true"}}},
    ]}])
    deployments = kube("GET", "/apis/apps/v1/deployments").json()["items"]
    assert [d["metadata"]["name"] for d in deployments] == ["web"]
    classes = kube("GET", "/apis/secrets-store.csi.x-k8s.io/v1/namespaces/shop/secretproviderclasses").json()
    assert classes["items"][0]["spec"]["parameters"]["useVMManagedIdentity"] == "true"
    groups = [g["name"] for g in kube("GET", "/apis").json()["groups"]]
    assert "secrets-store.csi.x-k8s.io" in groups
    assert "shop" in [n["metadata"]["name"] for n in kube("GET", "/api/v1/namespaces").json()["items"]]


def test_a_custom_resource_whose_definition_says_cluster_scope_has_no_namespace(kube, admin):
    admin.seed(kubernetes=[{"resourceGroup": "rg1", "cluster": "c1", "objects": [
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
         "metadata": {"name": "clusterissuers.cert-manager.io"},
         "spec": {"group": "cert-manager.io", "scope": "Cluster",
                  "names": {"kind": "ClusterIssuer", "plural": "clusterissuers"}}},
        {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "letsencrypt"}},
        {"apiVersion": "cert-manager.io/v1", "kind": "Issuer", "metadata": {"name": "local"}},  # namespaced
    ]}])
    [issuer] = kube("GET", "/apis/cert-manager.io/v1/clusterissuers").json()["items"]
    assert "namespace" not in issuer["metadata"]
    made = kube("POST", "/apis/cert-manager.io/v1/clusterissuers", json={"metadata": {"name": "second"}})
    assert made.status_code == 201 and "namespace" not in made.json()["metadata"]
    [local] = kube("GET", "/apis/cert-manager.io/v1/issuers").json()["items"]
    assert local["metadata"]["namespace"] == "default"


def test_a_pools_nodes_are_reimaged_one_after_another_during_its_upgrade():
    """The back end over a clock of the test's own: a 4-node pool's upgrade of 8 s reimages a node every 2 s."""
    from imds_ext.emulator.backend import Backend

    now = [1000.0]
    backend = Backend(lro_delay=8, clock=lambda: now[0])
    backend.seed({"clusters": [{"resourceGroup": "rg1", "name": "c1",
                                "cluster": cluster_body(restricted=True, pools=[
                                    {"name": "nodepool1", "count": 4, "mode": "System"}]),
                                "nodes": {"nodepool1": {"podLinkLocalAccess": "IMDS"}}}]})
    backend.container_service.upgrade_node_image(SUB, "rg1", "c1", "nodepool1", "2026-05-02-preview")

    def enforced():
        with backend.store.tx():
            rec = backend.container_service.cluster(SUB, "rg1", "c1")
            return [node.enforced for node, _ in backend.kubernetes.nodes(rec)]

    assert enforced() == ["IMDS"] * 4
    now[0] += 4.5
    assert enforced() == ["None", "None", "IMDS", "IMDS"]
    now[0] += 4
    assert enforced() == ["None"] * 4  # the operation ended: the pool's record says so too
