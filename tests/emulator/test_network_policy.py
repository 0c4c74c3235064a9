"""Network policy in an emulated cluster, through the official Kubernetes Python client and the kubeconfig
listClusterUserCredential answers: NetworkPolicy objects (networking.k8s.io/v1) on every cluster, Cilium's
CiliumClusterwideNetworkPolicy where the dataplane is Cilium (and a 404 elsewhere), and what a probe pod's curl to
IMDS ends with under them, from the engine in the cluster's ARM body."""
import base64
import json

import pytest
import requests

from tests.support.clusters import cluster_body
from tests.support.constants import SUB
from tests.support.policies import allow_all_egress, block_imds, cilium_deny_imds, namespace

kubernetes = pytest.importorskip("kubernetes", reason="the official client is in the test extra (pip install .[test])")
from kubernetes import client, config  # noqa: E402

MC = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters"
IMDS_URL = "http://169.254.169.254/metadata/instance?api-version=2023-11-15"
CURL_OK, CURL_TIMEOUT = 0, 28


@pytest.fixture
def cluster(arm, admin):
    """A cluster seeded with the given network profile and Kubernetes objects; its Python client's ApiClient."""
    def make(name="c1", objects=(), **network):
        admin.seed(resourceGroups=[{"name": "rg1", "location": "westus2"}], clusters=[{
            "resourceGroup": "rg1", "name": name, "cluster": cluster_body(**network)}])
        if objects:
            admin.seed(kubernetes=[{"resourceGroup": "rg1", "cluster": name, "objects": list(objects)}])
        answer = arm("POST", f"{MC}/{name}/listClusterUserCredential").json()
        return config.new_client_from_config_dict(json.loads(base64.b64decode(answer["kubeconfigs"][0]["value"])))
    return make


def _probe_codes(api, namespace_name, host_network=False):
    """Create verify's kind of probe (a DaemonSet whose `imds` container curls IMDS, and a `reference` container the
    API service) in `namespace_name`; the exit codes its pods' containers end with, by container."""
    name = "probe-host" if host_network else "probe"
    containers = [client.V1Container(name="imds", image="mcr.microsoft.com/azurelinux/base/core:3.0",
                                     command=["curl", "-s", "--connect-timeout", "10", IMDS_URL])]
    if not host_network:
        containers.append(client.V1Container(name="reference", image="mcr.microsoft.com/azurelinux/base/core:3.0",
                                             command=["curl", "-sk", "https://10.0.0.1:443/version"]))
    ds = client.V1DaemonSet(metadata=client.V1ObjectMeta(name=name), spec=client.V1DaemonSetSpec(
        selector=client.V1LabelSelector(match_labels={"app": name}), template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": name}),
            spec=client.V1PodSpec(host_network=host_network, containers=containers))))
    client.AppsV1Api(api).create_namespaced_daemon_set(namespace_name, ds)
    codes = {}
    for pod in client.CoreV1Api(api).list_namespaced_pod(namespace_name, label_selector=f"app={name}").items:
        for status in pod.status.container_statuses:
            codes.setdefault(status.name, set()).add(status.last_state.terminated.exit_code)
    return codes


def test_network_policies_are_served_as_the_api_server_does(cluster):
    api = cluster(objects=[namespace("shop"), namespace("web")], network_policy="azure")
    networking = client.NetworkingV1Api(api)
    assert "networkpolicies" in [r.name for r in networking.get_api_resources().resources]
    assert "networking.k8s.io" in [g.name for g in client.ApisApi(api).get_api_versions().groups]
    policy = client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="block-imds", labels={"app.kubernetes.io/managed-by": "imds-ext"}),
        spec=client.V1NetworkPolicySpec(pod_selector=client.V1LabelSelector(), policy_types=["Egress"], egress=[
            client.V1NetworkPolicyEgressRule(to=[client.V1NetworkPolicyPeer(ip_block=client.V1IPBlock(
                cidr="0.0.0.0/0", _except=["169.254.169.254/32"]))])]))
    for ns in ("shop", "web"):
        made = networking.create_namespaced_network_policy(ns, policy)
        assert made.metadata.namespace == ns and made.metadata.uid and made.metadata.resource_version
    networking.create_namespaced_network_policy("shop", client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="other"), spec=client.V1NetworkPolicySpec(
            pod_selector=client.V1LabelSelector(match_labels={"app": "db"}), policy_types=["Ingress"])))
    read = networking.read_namespaced_network_policy("block-imds", "shop")
    assert read.spec.egress[0].to[0].ip_block._except == ["169.254.169.254/32"]
    assert read.spec.policy_types == ["Egress"]
    everywhere = networking.list_network_policy_for_all_namespaces()
    assert [(p.metadata.namespace, p.metadata.name) for p in everywhere.items] == [
        ("shop", "block-imds"), ("shop", "other"), ("web", "block-imds")]
    owned = networking.list_network_policy_for_all_namespaces(label_selector="app.kubernetes.io/managed-by=imds-ext")
    assert [p.metadata.namespace for p in owned.items] == ["shop", "web"]
    page = networking.list_namespaced_network_policy("shop", limit=1)
    assert len(page.items) == 1 and page.metadata._continue
    rest = networking.list_namespaced_network_policy("shop", limit=1, _continue=page.metadata._continue)
    assert [p.metadata.name for p in rest.items] == ["other"] and not rest.metadata._continue
    patched = networking.patch_namespaced_network_policy("other", "shop", {"metadata": {"labels": {"team": "a"}}})
    assert patched.metadata.labels == {"team": "a"} and int(patched.metadata.resource_version) > 1
    read.spec.egress[0].to[0].ip_block._except = ["169.254.169.254/32", "168.63.129.16/32"]
    replaced = networking.replace_namespaced_network_policy("block-imds", "shop", read)
    assert replaced.spec.egress[0].to[0].ip_block._except[1] == "168.63.129.16/32"
    gone = networking.delete_namespaced_network_policy("other", "shop")  # a Status, as the registry answers
    assert (gone["kind"], gone["status"], gone["details"]["group"]) == ("Status", "Success", "networking.k8s.io")
    assert [p.metadata.name for p in networking.list_namespaced_network_policy("shop").items] == ["block-imds"]
    with pytest.raises(client.ApiException) as missing:
        networking.read_namespaced_network_policy("other", "shop")
    assert missing.value.status == 404


def test_a_network_policy_the_api_server_would_refuse_is_422_and_not_stored(cluster):
    api = cluster(objects=[namespace("shop")], network_policy="azure")
    networking = client.NetworkingV1Api(api)
    sample = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "sample"},
              "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {
                  "cidr": "10.10.0.0/0#example", "except": ["169.254.169.254/32"]}}]}]}}
    with pytest.raises(client.ApiException) as refused:
        networking.create_namespaced_network_policy("shop", sample)
    status = json.loads(refused.value.body)
    assert refused.value.status == 422 and status["reason"] == "Invalid"
    assert "spec.egress[0].to[0].ipBlock.cidr" in status["message"] and "must be a valid CIDR" in status["message"]
    assert networking.list_namespaced_network_policy("shop").items == []
    networking.create_namespaced_network_policy("shop", block_imds("shop"))
    with pytest.raises(client.ApiException) as patched:
        networking.patch_namespaced_network_policy("block-imds", "shop", {"spec": {"egress": [{"to": [{
            "ipBlock": {"cidr": "0.0.0.0/0", "except": ["fd00::/8"]}}]}]}})
    assert patched.value.status == 422
    kept = networking.read_namespaced_network_policy("block-imds", "shop")
    assert kept.spec.egress[0].to[0].ip_block._except == ["169.254.169.254/32"]


def test_cilium_clusterwide_policies_where_the_dataplane_is_cilium(cluster):
    api = cluster(network_dataplane="cilium")
    crds = client.ApiextensionsV1Api(api).list_custom_resource_definition().items
    assert [(c.metadata.name, c.spec.scope, c.spec.names.short_names) for c in crds] == [
        ("ciliumclusterwidenetworkpolicies.cilium.io", "Cluster", ["ccnp"])]
    assert "cilium.io" in [g.name for g in client.ApisApi(api).get_api_versions().groups]
    custom = client.CustomObjectsApi(api)
    made = custom.create_cluster_custom_object("cilium.io", "v2", "ciliumclusterwidenetworkpolicies",
                                               cilium_deny_imds())
    assert made["kind"] == "CiliumClusterwideNetworkPolicy" and "namespace" not in made["metadata"]
    listed = custom.list_cluster_custom_object("cilium.io", "v2", "ciliumclusterwidenetworkpolicies")
    assert listed["kind"] == "CiliumClusterwideNetworkPolicyList"
    assert [p["metadata"]["name"] for p in listed["items"]] == ["deny-imds"]
    read = custom.get_cluster_custom_object("cilium.io", "v2", "ciliumclusterwidenetworkpolicies", "deny-imds")
    assert read["spec"]["egressDeny"][0]["toCIDRSet"] == [{"cidr": "169.254.169.254/32"}]
    custom.delete_cluster_custom_object("cilium.io", "v2", "ciliumclusterwidenetworkpolicies", "deny-imds")
    assert custom.list_cluster_custom_object("cilium.io", "v2", "ciliumclusterwidenetworkpolicies")["items"] == []


@pytest.mark.parametrize("network", [{}, {"network_policy": "azure"}, {"network_policy": "calico"}])
def test_without_cilium_there_is_no_clusterwide_policy_resource(cluster, network):
    api = cluster(**network)
    assert client.ApiextensionsV1Api(api).list_custom_resource_definition().items == []
    assert "cilium.io" not in [g.name for g in client.ApisApi(api).get_api_versions().groups]
    custom = client.CustomObjectsApi(api)
    for call in (lambda: custom.list_cluster_custom_object("cilium.io", "v2", "ciliumclusterwidenetworkpolicies"),
                 lambda: custom.create_cluster_custom_object("cilium.io", "v2", "ciliumclusterwidenetworkpolicies",
                                                             cilium_deny_imds())):
        with pytest.raises(client.ApiException) as missing:
            call()
        assert missing.value.status == 404
        assert json.loads(missing.value.body)["message"] == "the server could not find the requested resource"


def test_seeding_a_clusterwide_policy_into_a_cluster_without_cilium_is_refused(cluster, admin):
    cluster(network_policy="azure")
    with pytest.raises(requests.HTTPError) as refused:
        admin.seed(kubernetes=[{"resourceGroup": "rg1", "cluster": "c1", "objects": [cilium_deny_imds()]}])
    error = refused.value.response.json()["error"]
    assert error["code"] == "InvalidSeed" and "networkDataplane to cilium" in error["message"]


def test_the_arm_cluster_echoes_its_engine(cluster, arm):
    cluster(name="c1", network_policy="cilium", network_dataplane="cilium")
    cluster(name="c2", network_policy="calico")
    cluster(name="c3")
    profiles = {n: arm("GET", f"{MC}/{n}").json()["properties"]["networkProfile"] for n in ("c1", "c2", "c3")}
    assert (profiles["c1"]["networkPolicy"], profiles["c1"]["networkDataplane"]) == ("cilium", "cilium")
    assert (profiles["c2"]["networkPolicy"], profiles["c2"]["networkDataplane"]) == ("calico", "azure")
    assert profiles["c3"]["networkPolicy"] == "none"


# ---- what a probe sees ------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine, objects, imds", [
    ({}, [block_imds("shop")], CURL_OK),  # networkPolicy none: stored, not enforced
    ({"network_policy": "azure"}, [block_imds("shop")], CURL_TIMEOUT),
    ({"network_policy": "calico"}, [block_imds("shop")], CURL_TIMEOUT),
    ({"network_policy": "azure"}, [block_imds("shop"), allow_all_egress("shop")], CURL_OK),  # reopened
    ({"network_policy": "azure"}, [block_imds("other")], CURL_OK),  # another namespace's
    ({"network_dataplane": "cilium"}, [cilium_deny_imds()], CURL_TIMEOUT),
    ({"network_dataplane": "cilium"}, [cilium_deny_imds(), allow_all_egress("shop")], CURL_TIMEOUT),  # deny wins
])
def test_a_probes_imds_curl_follows_the_clusters_policies(cluster, engine, objects, imds):
    api = cluster(objects=[namespace("shop"), namespace("other"), *objects], **engine)
    codes = _probe_codes(api, "shop")
    assert codes == {"imds": {imds}, "reference": {CURL_OK}}  # the API service stays reachable
    assert _probe_codes(api, "shop", host_network=True) == {"imds": {CURL_OK}}  # no policy selects the host's


def test_on_cilium_an_exempt_namespace_keeps_imds_and_default_deny_catches_the_reference(cluster):
    api = cluster(objects=[namespace("shop"), cilium_deny_imds(exempt=("kube-system", "monitoring")),
                           namespace("monitoring")], network_dataplane="cilium")
    assert _probe_codes(api, "monitoring") == {"imds": {CURL_OK}, "reference": {CURL_OK}}
    assert _probe_codes(api, "shop") == {"imds": {CURL_TIMEOUT}, "reference": {CURL_OK}}
    strict = cluster(name="c2", objects=[namespace("shop"), cilium_deny_imds(default_deny=None)],
                     network_dataplane="cilium")
    # without enableDefaultDeny.egress false, Cilium's default deny also cuts the API service off
    assert _probe_codes(strict, "shop") == {"imds": {CURL_TIMEOUT}, "reference": {CURL_TIMEOUT}}


def test_policies_and_the_managed_setting_add_up(cluster):
    api = cluster(objects=[namespace("shop"), allow_all_egress("shop")], network_policy="azure", restricted=True)
    assert _probe_codes(api, "shop")["imds"] == {CURL_TIMEOUT}  # the node's rule: no policy reopens it
