"""The official Kubernetes Python client (`kubernetes` on PyPI) against an emulated cluster, through the kubeconfig
listClusterUserCredential answers (its server and the emulator's CA): the everyday calls a user makes after
`az aks get-credentials`, each deserialized into the client's typed models."""
import base64
import json

import pytest
from openapi_spec_validator import OpenAPIV2SpecValidator, OpenAPIV30SpecValidator

from tests.support.clusters import cluster_body
from tests.support.constants import SUB

kubernetes = pytest.importorskip("kubernetes", reason="the official client is in the test extra (pip install .[test])")
from kubernetes import client, config, watch  # noqa: E402

MC = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters"
TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}
SELECTOR = {"matchLabels": {"app": "web"}}


@pytest.fixture
def api(arm, admin):
    admin.seed(resourceGroups=[{"name": "rg1", "location": "westus2"}], clusters=[{
        "resourceGroup": "rg1", "name": "c1", "cluster": cluster_body(restricted=True)}])
    admin.seed(kubernetes=[{"resourceGroup": "rg1", "cluster": "c1", "objects": [
        *({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "namespace": "shop"},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}} for i in range(5)),
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
         "spec": {"replicas": 2, "selector": SELECTOR, "template": TEMPLATE}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "shop"},
         "spec": {"serviceName": "db", "selector": SELECTOR, "template": TEMPLATE}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once", "namespace": "shop"},
         "spec": {"template": {**TEMPLATE, "spec": {**TEMPLATE["spec"], "restartPolicy": "Never"}}}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "shop"},
         "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": {
             **TEMPLATE, "spec": {**TEMPLATE["spec"], "restartPolicy": "OnFailure"}}}}}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "shop"}},
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
         "metadata": {"name": "widgets.example.com"},
         "spec": {"group": "example.com", "scope": "Namespaced",
                  "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                  "versions": [{"name": "v1", "served": True, "storage": True,
                                "schema": {"openAPIV3Schema": {"type": "object"}}}]}},
    ]}])
    answer = arm("POST", f"{MC}/c1/listClusterUserCredential").json()
    kubeconfig = json.loads(base64.b64decode(answer["kubeconfigs"][0]["value"]))
    return config.new_client_from_config_dict(kubeconfig)


def test_discovery_version_and_the_nodes(api):
    assert client.VersionApi(api).get_code().git_version == "v1.33.1"
    assert "apps" in [g.name for g in client.ApisApi(api).get_api_versions().groups]
    assert "pods" in [r.name for r in client.CoreV1Api(api).get_api_resources().resources]
    core = client.CoreV1Api(api)
    nodes = core.list_node().items
    assert len(nodes) == 5 and all(n.status.node_info.kubelet_version == "v1.33.1" for n in nodes)
    node = core.read_node(nodes[0].metadata.name)
    assert [a.type for a in node.status.addresses] == ["InternalIP", "Hostname"]
    assert node.metadata.creation_timestamp.year >= 2026  # an RFC 3339 time the client parses


def test_pods_in_all_namespaces_page_by_page(api):
    core = client.CoreV1Api(api)
    names, token = [], None
    while True:
        page = core.list_pod_for_all_namespaces(limit=2, _continue=token)
        assert len(page.items) <= 2
        names += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == [f"p{i}" for i in range(5)]


def test_workloads_service_accounts_and_crds(api):
    apps, batch = client.AppsV1Api(api), client.BatchV1Api(api)
    assert [d.spec.replicas for d in apps.list_deployment_for_all_namespaces().items] == [2]
    assert apps.list_daemon_set_for_all_namespaces().items == []
    assert [s.metadata.name for s in apps.list_stateful_set_for_all_namespaces().items] == ["db"]
    assert [j.metadata.name for j in batch.list_job_for_all_namespaces().items] == ["once"]
    assert [c.spec.schedule for c in batch.list_cron_job_for_all_namespaces().items] == ["0 2 * * *"]
    accounts = client.CoreV1Api(api).list_service_account_for_all_namespaces().items
    assert [a.metadata.name for a in accounts] == ["web"]
    crds = client.ApiextensionsV1Api(api).list_custom_resource_definition().items
    assert [c.spec.names.kind for c in crds] == ["Widget"]
    widgets = client.CustomObjectsApi(api).list_namespaced_custom_object("example.com", "v1", "shop", "widgets")
    assert widgets["items"] == []
    classes = client.StorageV1Api(api).list_storage_class().items
    default = [c.metadata.name for c in classes
               if (c.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
    assert default == ["default"] and {c.provisioner for c in classes} == {"disk.csi.azure.com", "file.csi.azure.com"}
    priorities = client.SchedulingV1Api(api).list_priority_class().items
    assert {p.metadata.name: p.value for p in priorities}["system-node-critical"] == 2000001000
    assert client.CoreV1Api(api).list_persistent_volume_claim_for_all_namespaces().items == []
    assert client.NetworkingV1Api(api).list_ingress_for_all_namespaces().items == []
    assert client.AutoscalingV2Api(api).list_horizontal_pod_autoscaler_for_all_namespaces().items == []


def test_a_deployments_scale_is_read_and_patched(api):
    apps = client.AppsV1Api(api)
    name, namespace = apps.list_deployment_for_all_namespaces().items[0].metadata.name, "shop"
    read = apps.read_namespaced_deployment_scale(name, namespace)
    assert isinstance(read, client.V1Scale) and read.spec.replicas == 2
    patched = apps.patch_namespaced_deployment_scale(name, namespace, {"spec": {"replicas": 5}})
    assert patched.spec.replicas == 5 and apps.read_namespaced_deployment(name, namespace).spec.replicas == 5
    replaced = apps.replace_namespaced_deployment_scale(name, namespace, client.V1Scale(
        metadata=client.V1ObjectMeta(name=name, namespace=namespace), spec=client.V1ScaleSpec(replicas=1)))
    assert replaced.spec.replicas == 1


def test_a_namespace_and_a_pod_are_created_read_patched_watched_and_deleted(api):
    core = client.CoreV1Api(api)
    made = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="demo")))
    assert made.status.phase == "Active"
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="web"), spec=client.V1PodSpec(containers=[
        client.V1Container(name="web", image="nginx:1.27")]))
    assert core.create_namespaced_pod("demo", pod).metadata.name == "web"
    read = core.read_namespaced_pod("web", "demo")  # bound to a node by the scheduler, and running
    assert read.spec.node_name and read.status.phase == "Running" and read.status.pod_ip
    assert read.status.container_statuses[0].ready is True
    assert core.read_namespaced_pod_log("web", "demo") == ""
    patched = core.patch_namespaced_pod("web", "demo", {"metadata": {"labels": {"team": "a"}}})
    assert patched.metadata.labels == {"team": "a"}
    labelled = core.patch_namespace("demo", [{"op": "add", "path": "/metadata/labels", "value": {"x": "y"}}])
    assert labelled.metadata.labels == {"x": "y"}
    events = list(watch.Watch().stream(core.list_namespaced_pod, "demo", timeout_seconds=1))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "web")]
    deleted = core.delete_namespaced_pod("web", "demo")  # the pod, as its registry answers
    assert deleted.metadata.deletion_timestamp is not None
    assert core.list_namespaced_pod("demo").items == []
    gone = core.delete_namespace("demo")
    assert gone["kind"] == "Namespace" and gone["status"]["phase"] == "Terminating"
    with pytest.raises(client.ApiException) as refused:
        core.read_namespace("demo")
    assert refused.value.status == 404 and json.loads(refused.value.body)["kind"] == "Status"


def test_a_daemonsets_pods_are_watched_as_they_run(api, admin):
    admin.seed(kubernetes=[{"resourceGroup": "rg1", "cluster": "c1", "facts": {"containerSeconds": 0.5}}])
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    probe = client.V1DaemonSet(metadata=client.V1ObjectMeta(name="probe"), spec=client.V1DaemonSetSpec(
        selector=client.V1LabelSelector(match_labels={"app": "probe"}), template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": "probe"}), spec=client.V1PodSpec(containers=[
                client.V1Container(name="c", image="curlimages/curl",
                                   command=["curl", "http://169.254.169.254/metadata/instance"])]))))
    apps.create_namespaced_daemon_set("default", probe)
    seen = {}
    for event in watch.Watch().stream(core.list_namespaced_pod, "default", label_selector="app=probe",
                                      timeout_seconds=2):
        seen.setdefault(event["object"].metadata.name, []).append(event["type"])
    assert len(seen) == 5 and all(types[0] == "ADDED" and "MODIFIED" in types for types in seen.values())


def test_access_reviews_answer_from_the_modelled_rbac(api, admin):
    authz = client.AuthorizationV1Api(api)

    def can(verb, resource):
        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb=verb, resource=resource, namespace="default")))
        return authz.create_self_subject_access_review(review).status.allowed

    assert can("create", "pods")
    admin.seed(kubernetes=[{"resourceGroup": "rg1", "cluster": "c1", "facts": {
        "userRules": [{"verbs": ["get", "list"], "resources": ["pods"]}]}}])
    assert can("list", "pods") and not can("create", "pods") and not can("list", "secrets")
    me = client.AuthenticationV1Api(api).create_self_subject_review(client.V1SelfSubjectReview())
    assert me.status.user_info.username == "clusterUser"


def test_strategic_merge_dry_run_and_the_openapi_kubectl_reads(api):
    """A strategic merge patch as kubectl apply sends it (containers merged by name, `$setElementOrder`), a dry
    run that stores nothing, strict field validation, and the OpenAPI v3 documents they come from."""
    apps = client.AppsV1Api(api)
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "side"}],
                                            "containers": [{"name": "c", "env": [{"name": "MODE", "value": "x"}]},
                                                           {"name": "side", "image": "busybox"}]}}}}
    dry = apps.patch_namespaced_deployment("web", "shop", patch, dry_run="All", _content_type=STRATEGIC)
    assert [c.name for c in dry.spec.template.spec.containers] == ["c", "side"]
    assert apps.read_namespaced_deployment("web", "shop").metadata.resource_version == dry.metadata.resource_version
    patched = apps.patch_namespaced_deployment("web", "shop", patch, _content_type=STRATEGIC)
    first, second = patched.spec.template.spec.containers
    assert (first.name, first.image, first.env[0].value, second.image) == ("c", "nginx:1.27", "x", "busybox")
    drop = {"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}}
    kept = apps.patch_namespaced_deployment("web", "shop", drop, _content_type=STRATEGIC)
    assert [c.name for c in kept.spec.template.spec.containers] == ["c"]
    with pytest.raises(client.ApiException) as refused:
        apps.patch_namespaced_deployment("web", "shop", {"spec": {"replica": 3}}, field_validation="Strict",
                                         _content_type=STRATEGIC)
    assert refused.value.status == 400 and 'unknown field "spec.replica"' in json.loads(refused.value.body)["message"]
    index = _read(api, "/openapi/v3")
    assert {"api/v1", "apis/apps/v1", "apis/networking.k8s.io/v1"} <= set(index["paths"])
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/kubernetes/") and "/openapi/v3/apis/apps/v1?hash=" in url
    document = _read(api, "/openapi/v3/apis/apps/v1")
    containers = document["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"


def test_openapi_v2_is_a_valid_swagger_document_of_the_kinds_v3_describes(api):
    document = _read(api, "/openapi/v2")
    OpenAPIV2SpecValidator(document).validate()  # every reference resolves, every schema is Swagger 2.0's
    pods = document["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert STRATEGIC in pods["consumes"] and pods["x-kubernetes-group-version-kind"]["kind"] == "Pod"
    containers = document["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert (containers["x-kubernetes-patch-merge-key"], containers["x-kubernetes-patch-strategy"]) == ("name", "merge")
    v3 = _read(api, "/openapi/v3/apis/apps/v1")
    # The API server writes `default: {}` beside a reference, also to an object with required fields (owner
    # references), which the validator checks against the schema: the server's shape, kept; anything else fails.
    assert [e for e in OpenAPIV30SpecValidator(v3).iter_errors()
            if not (getattr(e, "validator", None) == "required" and getattr(e, "instance", None) == {})] == []
    assert set(v3["components"]["schemas"]) <= set(document["definitions"])
    # client-go asks for v2 as protobuf only: a server without that codec says so, as for any other document
    headers = {"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}
    api.update_params_for_auth(headers, None, ["BearerToken"], None, None, None)
    answer = api.call_api("GET", api.configuration.host + "/openapi/v2", header_params=headers)
    assert answer.status == 406


STRATEGIC = "application/strategic-merge-patch+json"


def _read(api, path: str) -> dict:
    headers = {"Accept": "application/json"}
    api.update_params_for_auth(headers, None, ["BearerToken"], None, None, None)
    answer = api.call_api("GET", api.configuration.host + path, header_params=headers)
    answer.read()
    return json.loads(answer.data)
