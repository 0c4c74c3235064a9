"""kubectl's everyday commands against an emulated cluster, with the kubeconfig listClusterUserCredential answers
written to a file (its server and certificate-authority-data: no --insecure-skip-tls-verify). Skipped where the
machine has no kubectl."""
import base64
import copy
import json
import shutil
import subprocess

import pytest

from tests.support.clusters import cluster_body
from tests.support.constants import SUB

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine")
MC = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters"
TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}


@pytest.fixture
def kubectl(arm, admin, tmp_path):
    admin.seed(resourceGroups=[{"name": "rg1", "location": "westus2"}], clusters=[{
        "resourceGroup": "rg1", "name": "c1", "cluster": cluster_body(restricted=True)}])
    admin.seed(kubernetes=[{"resourceGroup": "rg1", "cluster": "c1", "objects": [
        *({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "namespace": "shop"},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}} for i in range(3)),
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "shop"},
         "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": TEMPLATE}}}},
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
         "metadata": {"name": "widgets.example.com"},
         "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Widget", "plural": "widgets"},
                  "versions": [{"name": "v1", "served": True, "storage": True}]}},
    ]}])
    return _kubectl_of(arm, tmp_path, "c1")


def _kubectl_of(arm, tmp_path, cluster):
    """kubectl with the kubeconfig of `cluster` (listClusterUserCredential's), written to a file."""
    answer = arm("POST", f"{MC}/{cluster}/listClusterUserCredential").json()
    path = tmp_path / f"kubeconfig-{cluster}"
    path.write_bytes(base64.b64decode(answer["kubeconfigs"][0]["value"]))

    def run(*args, ok=True):
        done = subprocess.run([KUBECTL, "--kubeconfig", str(path), "--cache-dir", str(tmp_path / "cache"),
                               "--request-timeout=20s", *args], capture_output=True, text=True, timeout=60)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return run


def _rows(output):
    return [line.split() for line in output.strip().splitlines()]


def test_reading_the_cluster(kubectl):
    nodes = _rows(kubectl("get", "nodes", "-o", "wide").stdout)
    assert nodes[0][:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] and "INTERNAL-IP" in nodes[0]
    assert len(nodes) == 6 and all(row[1] == "Ready" and row[4] == "v1.33.1" for row in nodes[1:])
    assert nodes[1][5] == "10.224.0.4"
    pods = _rows(kubectl("get", "pods", "-A").stdout)
    assert pods[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"] and len(pods) == 4
    chunked = _rows(kubectl("get", "pods", "-A", "--chunk-size=2").stdout)
    assert [row[1] for row in chunked[1:]] == ["p0", "p1", "p2"]
    named = _rows(kubectl("get", "pods", "-A", "--field-selector", "metadata.name=p1").stdout)
    assert [row[1] for row in named[1:]] == ["p1"]
    workloads = kubectl("get", "deploy,ds,sts,cronjob,job", "-A").stdout
    assert "deployment.apps/web" in workloads and "cronjob.batch/nightly" in workloads
    namespaces = [row[0] for row in _rows(kubectl("get", "ns").stdout)[1:]]
    assert {"default", "kube-system", "shop"} <= set(namespaces)
    described = kubectl("describe", "node", nodes[1][0]).stdout
    assert "InternalIP:  10.224.0.4" in described and "Container Runtime Version:  containerd://" in described
    # the kubelet's heartbeat Lease, and the OS it reports (the node image is a label): as on an AKS node
    assert f"HolderIdentity:  {nodes[1][0]}" in described and "Failed to get lease" not in described
    assert "OS Image:                   Ubuntu 22.04.5 LTS" in described
    leases = _rows(kubectl("get", "leases", "-n", "kube-node-lease").stdout)
    assert [row[0] for row in leases[1:]] == [row[0] for row in nodes[1:]]
    assert "widgets.example.com" in kubectl("get", "crd").stdout
    resources = kubectl("api-resources").stdout
    assert all(name in resources for name in ("pods", "deployments", "cronjobs", "widgets"))
    info = kubectl("cluster-info").stdout
    assert "Kubernetes control plane is running at https://" in info and "CoreDNS is running at" in info
    assert "10.0.0.1" in kubectl("get", "svc", "kubernetes", "-n", "default").stdout


def test_a_namespace_and_a_pod_from_create_to_delete(kubectl):
    assert kubectl("create", "ns", "demo").stdout.strip() == "namespace/demo created"
    assert kubectl("run", "web", "--image=nginx:1.27", "-n", "demo").stdout.strip() == "pod/web created"
    pod = json.loads(kubectl("get", "pod", "web", "-n", "demo", "-o", "json").stdout)
    assert pod["spec"]["nodeName"] and pod["status"]["phase"] == "Running" and pod["status"]["podIP"]
    assert "kind: Pod" in kubectl("get", "pod", "web", "-n", "demo", "-o", "yaml").stdout
    wide = _rows(kubectl("get", "pods", "-n", "demo", "-o", "wide").stdout)
    assert wide[1][:3] == ["web", "1/1", "Running"] and wide[1][5] == pod["status"]["podIP"]
    assert kubectl("logs", "web", "-n", "demo").returncode == 0
    assert kubectl("label", "pod", "web", "-n", "demo", "team=a").stdout.strip() == "pod/web labeled"
    assert "team=a" in kubectl("get", "pod", "web", "-n", "demo", "--show-labels").stdout
    described = kubectl("describe", "pod", "web", "-n", "demo").stdout
    assert "Status:           Running" in described and f"IP:               {pod['status']['podIP']}" in described
    assert kubectl("delete", "pod", "web", "-n", "demo").stdout.strip() == 'pod "web" deleted'
    assert kubectl("delete", "ns", "demo").stdout.strip() == 'namespace "demo" deleted'
    assert "NotFound" in kubectl("get", "ns", "demo", ok=False).stderr


def test_kubectl_wait_sees_a_running_pod_ready_and_gives_up_on_a_pending_one_at_its_timeout(kubectl):
    kubectl("run", "web", "--image=nginx:1.27", "-n", "shop")
    assert kubectl("wait", "--for=condition=Ready", "pod/web", "-n", "shop", "--timeout=20s").stdout.strip() == \
        "pod/web condition met"
    conditions = json.loads(kubectl("get", "pod", "web", "-n", "shop", "-o", "jsonpath={.status.conditions}").stdout)
    assert [(c["type"], c["status"]) for c in conditions] == [
        ("PodReadyToStartContainers", "True"), ("Initialized", "True"), ("Ready", "True"), ("ContainersReady", "True"),
        ("PodScheduled", "True")]
    # p0 was seeded without a node: it never becomes ready, and kubectl stops at its own timeout (it used to wait
    # for a watch whose headers the emulator held back, until the request timed out and was retried).
    pending = kubectl("wait", "--for=condition=Ready", "pod/p0", "-n", "shop", "--timeout=2s", ok=False)
    assert pending.returncode == 1 and "timed out waiting for the condition on pods/p0" in pending.stderr
    rollout = kubectl("rollout", "status", "deploy/web", "-n", "shop", "--timeout=2s", ok=False)
    assert rollout.returncode == 1 and "timed out waiting for the condition" in rollout.stderr


CREATE = [  # kubectl's typed clients send these bodies as protobuf
    ("deployment", "d2", "--image=nginx:1.27", "--image=busybox", "--port=80", "--replicas=3"),
    ("deployment", "d0", "--image=nginx:1.27", "--replicas=0"),
    ("configmap", "cm1", "--from-literal=a=b", "--from-literal=c=d"),
    ("secret", "generic", "s1", "--from-literal=a=b"),
    ("secret", "docker-registry", "reg", "--docker-server=x.io", "--docker-username=u", "--docker-password=p"),
    ("serviceaccount", "sa1"),
    ("job", "j1", "--image=busybox", "--", "echo", "hi"),
    ("cronjob", "c1", "--image=busybox", "--schedule=*/5 * * * *", "--restart=OnFailure", "--", "date"),
    ("service", "clusterip", "s1", "--tcp=80:8080"),
    ("service", "nodeport", "s2", "--tcp=80:8080", "--node-port=30080"),
]


def _contains(stored, sent, path=""):
    """What differs where `stored` lacks or changed something of `sent` (nulls and empty objects aside)."""
    if isinstance(sent, dict):
        return [d for key, value in sent.items() if value not in (None, {})
                for d in _contains((stored or {}).get(key) if isinstance(stored, dict) else None, value,
                                   f"{path}.{key}")]
    if isinstance(sent, list) and isinstance(stored, list) and len(sent) == len(stored):
        return [d for i, (a, b) in enumerate(zip(stored, sent, strict=True)) for d in _contains(a, b, f"{path}[{i}]")]
    return [] if stored == sent else [f"{path}: sent {sent!r}, stored {stored!r}"]


@pytest.mark.parametrize("args", CREATE, ids=lambda a: "-".join(a[:2]))
def test_kubectl_create_makes_the_object_it_would_have_sent(kubectl, args):
    cut = args.index("--") if "--" in args else len(args)
    sent = json.loads(kubectl("create", *args[:cut], "-n", "shop", "--dry-run=client", "-o", "json",
                              *args[cut:]).stdout)
    created = kubectl("create", *args[:cut], "-n", "shop", *args[cut:])
    assert "created" in created.stdout
    kind = sent["kind"].lower()
    stored = json.loads(kubectl("get", kind, sent["metadata"]["name"], "-n", "shop", "-o", "json").stdout)
    sent.pop("status", None)
    assert _contains(stored, sent) == []


def test_kubectl_scale_writes_the_replicas_through_the_scale_subresource(kubectl):
    scaled = kubectl("scale", "deploy", "web", "-n", "shop", "--replicas=4")
    assert scaled.stdout.strip() == "deployment.apps/web scaled"
    assert kubectl("get", "deploy", "web", "-n", "shop", "-o", "jsonpath={.spec.replicas}").stdout == "4"
    scaled = json.loads(kubectl("get", "--subresource=scale", "deploy", "web", "-n", "shop", "-o", "json").stdout)
    assert (scaled["kind"], scaled["spec"], scaled["status"]["selector"]) == ("Scale", {"replicas": 4}, "app=web")
    refused = kubectl("scale", "deploy", "web", "-n", "shop", "--replicas=-1", ok=False)
    assert refused.returncode != 0
    assert kubectl("get", "deploy", "web", "-n", "shop", "-o", "jsonpath={.spec.replicas}").stdout == "4"


def test_kubectl_get_raw_reaches_the_cluster_whose_token_it_carries(kubectl):
    # kubectl drops the kubeconfig server's path (/kubernetes/...) from a raw request
    nodes = json.loads(kubectl("get", "--raw", "/api/v1/nodes").stdout)
    assert nodes["kind"] == "NodeList" and len(nodes["items"]) == 5
    assert json.loads(kubectl("get", "--raw", "/version").stdout)["gitVersion"] == "v1.33.1"
    assert kubectl("get", "--raw", "/healthz").stdout == "ok"
    assert json.loads(kubectl("get", "--raw", "/openapi/v2").stdout)["swagger"] == "2.0"


def test_storage_priority_ingress_autoscaling_and_quota_kinds_are_served(kubectl, tmp_path):
    classes = _rows(kubectl("get", "sc").stdout)
    assert ["default", "(default)", "disk.csi.azure.com", "Delete", "WaitForFirstConsumer"] in [r[:5] for r in classes]
    assert {"azurefile-csi", "managed-csi", "managed-csi-premium"} <= {r[0] for r in classes[1:]}
    assert [r[0] for r in _rows(kubectl("get", "pc").stdout)[1:]] == ["system-cluster-critical",
                                                                        "system-node-critical"]
    manifest = tmp_path / "objects.yaml"
    manifest.write_text("""\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop}
spec: {accessModes: [ReadWriteOnce], storageClassName: managed-csi, resources: {requests: {storage: 1Gi}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 1, maxReplicas: 3}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: shop}
spec: {hard: {pods: "10"}}
""")
    assert kubectl("apply", "-f", str(manifest)).returncode == 0
    listed = kubectl("get", "pvc,ingress,hpa,quota", "-n", "shop", "-o", "name").stdout.split()
    assert listed == ["persistentvolumeclaim/data", "ingress.networking.k8s.io/web",
                      "horizontalpodautoscaler.autoscaling/web", "resourcequota/q"]
    assert "No resources found" in kubectl("get", "pv").stderr
    claim = _rows(kubectl("get", "pvc", "data", "-n", "shop").stdout)[1]
    assert claim[:3] == ["data", "Pending", "managed-csi"]  # no provisioner binds it


def test_cordon_label_and_taint_a_node_and_the_scheduler_follows(kubectl):
    node = _rows(kubectl("get", "nodes").stdout)[1][0]
    assert kubectl("label", "node", node, "team=a").stdout.strip() == f"node/{node} labeled"
    pinned = '{"spec": {"nodeSelector": {"team": "a"}}}'
    kubectl("run", "here", "--image=nginx:1.27", "-n", "shop", f"--overrides={pinned}")
    assert kubectl("get", "pod", "here", "-n", "shop", "-o", "jsonpath={.spec.nodeName}").stdout == node
    assert kubectl("cordon", node).stdout.strip() == f"node/{node} cordoned"
    assert _rows(kubectl("get", "node", node).stdout)[1][1] == "Ready,SchedulingDisabled"
    kubectl("run", "later", "--image=nginx:1.27", "-n", "shop", f"--overrides={pinned}")
    assert kubectl("get", "pod", "later", "-n", "shop", "-o", "jsonpath={.status.phase}").stdout == "Pending"
    assert kubectl("uncordon", node).stdout.strip() == f"node/{node} uncordoned"
    assert kubectl("taint", "node", node, "dedicated=ops:NoSchedule").stdout.strip() == f"node/{node} tainted"
    taints = json.loads(kubectl("get", "node", node, "-o", "jsonpath={.spec.taints}").stdout)
    assert {"key": "dedicated", "value": "ops", "effect": "NoSchedule"} in taints
    assert kubectl("taint", "node", node, "dedicated=ops:NoSchedule-").returncode == 0
    drained = kubectl("drain", node, "--ignore-daemonsets", "--force", "--timeout=10s")
    assert "evicting pod shop/here" in drained.stderr + drained.stdout and f"node/{node} drained" in drained.stdout
    assert "NotFound" in kubectl("get", "pod", "here", "-n", "shop", ok=False).stderr
    assert "team=a" in kubectl("get", "node", node, "--show-labels").stdout
    refused = kubectl("patch", "node", node, "-p", '{"spec": {"podCIDR": "10.9.0.0/24"}}', ok=False)
    assert refused.returncode != 0 and "derived by the emulator from its node pool" in refused.stderr


def test_auth_can_i_follows_the_modelled_rbac(kubectl, admin):
    assert kubectl("auth", "can-i", "create", "pods").stdout.strip() == "yes"
    admin.seed(kubernetes=[{"resourceGroup": "rg1", "cluster": "c1", "facts": {
        "userRules": [{"verbs": ["get", "list"], "resources": ["pods"]}]}}])
    assert kubectl("auth", "can-i", "list", "pods").stdout.strip() == "yes"
    refused = kubectl("auth", "can-i", "create", "pods", ok=False)
    assert refused.returncode == 1 and refused.stdout.strip() == "no"
    assert "clusterUser" in kubectl("auth", "whoami").stdout


NETWORK_POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                  "metadata": {"name": "block-imds", "namespace": "shop"},
                  "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"], "egress": [
                      {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}]}]}}
CLUSTERWIDE = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy",
               "metadata": {"name": "deny-imds"},
               "spec": {"endpointSelector": {}, "enableDefaultDeny": {"egress": False},
                        "egressDeny": [{"toCIDR": ["169.254.169.254/32"]}]}}


def test_network_policies_from_create_to_delete(arm, admin, tmp_path):
    admin.seed(resourceGroups=[{"name": "rg1", "location": "westus2"}], clusters=[{
        "resourceGroup": "rg1", "name": "cil", "cluster": cluster_body(network_dataplane="cilium")}])
    kubectl = _kubectl_of(arm, tmp_path, "cil")
    kubectl("create", "ns", "shop")
    files = {}
    for name, body in (("netpol", NETWORK_POLICY), ("ccnp", CLUSTERWIDE)):
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(body))
    created = kubectl("create", "-f", str(files["netpol"])).stdout.strip()  # validated by the server (Strict)
    assert created == "networkpolicy.networking.k8s.io/block-imds created"
    rows = _rows(kubectl("get", "netpol", "-n", "shop").stdout)
    assert rows[0] == ["NAME", "POD-SELECTOR", "AGE"] and rows[1][:2] == ["block-imds", "app=web"]
    assert "block-imds" in kubectl("get", "networkpolicies", "-A").stdout
    read = json.loads(kubectl("get", "netpol", "block-imds", "-n", "shop", "-o", "json").stdout)
    assert read["spec"]["egress"][0]["to"][0]["ipBlock"]["except"] == ["169.254.169.254/32"]
    assert "ciliumclusterwidenetworkpolicies" in kubectl("api-resources", "--api-group=cilium.io").stdout
    created = kubectl("create", "-f", str(files["ccnp"])).stdout.strip()
    assert created == "ciliumclusterwidenetworkpolicy.cilium.io/deny-imds created"
    assert _rows(kubectl("get", "ccnp").stdout)[1][0] == "deny-imds"
    assert kubectl("delete", "ccnp", "deny-imds").stdout.strip() == (
        'ciliumclusterwidenetworkpolicy.cilium.io "deny-imds" deleted')
    assert kubectl("delete", "-f", str(files["netpol"])).stdout.strip() == (
        'networkpolicy.networking.k8s.io "block-imds" deleted')
    assert "No resources found" in kubectl("get", "netpol", "-n", "shop").stderr


def test_without_cilium_kubectl_knows_no_clusterwide_policy(kubectl):
    refused = kubectl("get", "ccnp", ok=False)
    assert refused.returncode == 1 and "the server doesn't have a resource type \"ccnp\"" in refused.stderr


def test_apply_creates_leaves_unchanged_configures_and_deletes(arm, admin, tmp_path):
    """kubectl apply with its default validation: /openapi/v3 says the server validates (fieldValidation=Strict)
    and how to patch (a strategic merge patch for built-in kinds, a merge patch for Cilium's), docs/emulator.md."""
    admin.seed(resourceGroups=[{"name": "rg1", "location": "westus2"}], clusters=[{
        "resourceGroup": "rg1", "name": "cil", "cluster": cluster_body(network_dataplane="cilium")}])
    kubectl = _kubectl_of(arm, tmp_path, "cil")
    namespace = tmp_path / "ns.yaml"
    namespace.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {team: a}\n")
    assert kubectl("apply", "-f", str(namespace)).stdout.strip() == "namespace/shop created"
    assert kubectl("apply", "-f", str(namespace)).stdout.strip() == "namespace/shop unchanged"
    policy = _applied_twice(kubectl, tmp_path / "netpol.json", NETWORK_POLICY)
    name = "networkpolicy.networking.k8s.io/block-imds"
    edited = copy.deepcopy(NETWORK_POLICY)
    edited["spec"]["egress"][0]["to"][0]["ipBlock"]["except"].append("168.63.129.16/32")
    policy.write_text(json.dumps(edited))
    diff = kubectl("diff", "-f", str(policy), ok=False)  # a dry run: shown, not stored
    assert diff.returncode == 1 and "+        - 168.63.129.16/32" in diff.stdout
    assert "resourceVersion" not in diff.stdout
    assert kubectl("apply", "-f", str(policy)).stdout.strip() == f"{name} configured"
    read = json.loads(kubectl("get", "netpol", "block-imds", "-n", "shop", "-o", "json").stdout)
    assert read["spec"]["egress"][0]["to"][0]["ipBlock"]["except"] == ["169.254.169.254/32", "168.63.129.16/32"]
    assert read["metadata"]["resourceVersion"] == "2"
    assert kubectl("apply", "-f", str(policy)).stdout.strip() == f"{name} unchanged"
    assert kubectl("delete", "-f", str(policy)).stdout.strip() == (
        'networkpolicy.networking.k8s.io "block-imds" deleted')
    typo = copy.deepcopy(NETWORK_POLICY)
    typo["spec"]["podSelectr"] = typo["spec"].pop("podSelector")
    policy.write_text(json.dumps(typo))
    refused = kubectl("apply", "-f", str(policy), ok=False)
    assert refused.returncode == 1 and 'strict decoding error: unknown field "spec.podSelectr"' in refused.stderr
    clusterwide = _applied_twice(kubectl, tmp_path / "ccnp.json", CLUSTERWIDE)
    name = "ciliumclusterwidenetworkpolicy.cilium.io/deny-imds"
    wider = copy.deepcopy(CLUSTERWIDE)
    wider["spec"]["egressDeny"][0]["toCIDR"].append("168.63.129.16/32")
    clusterwide.write_text(json.dumps(wider))
    assert kubectl("apply", "-f", str(clusterwide)).stdout.strip() == f"{name} configured"
    read = json.loads(kubectl("get", "ccnp", "deny-imds", "-o", "json").stdout)
    assert read["spec"]["egressDeny"][0]["toCIDR"] == ["169.254.169.254/32", "168.63.129.16/32"]


def _applied_twice(kubectl, path, body):
    """`body` written to `path` and applied: created, then unchanged."""
    path.write_text(json.dumps(body))
    plural = "networkpolicy.networking.k8s.io" if body["kind"] == "NetworkPolicy" else \
        "ciliumclusterwidenetworkpolicy.cilium.io"
    name = f"{plural}/{body['metadata']['name']}"
    assert kubectl("apply", "-f", str(path)).stdout.strip() == f"{name} created"
    assert kubectl("apply", "-f", str(path)).stdout.strip() == f"{name} unchanged"
    return path


def test_apply_merges_a_deployments_containers_by_name(kubectl, tmp_path):
    """The server's strategic merge: the container kubectl's patch names is merged into the stored one (its
    other fields stay), as the pod spec's `containers` list merges by name."""
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}}, "template": {
                      "metadata": {"labels": {"app": "api"}}, "spec": {"containers": [
                          {"name": "c", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}}}
    path = tmp_path / "deploy.json"
    path.write_text(json.dumps(deployment))
    assert kubectl("apply", "-f", str(path)).stdout.strip() == "deployment.apps/api created"
    kubectl("set", "env", "deployment/api", "-n", "shop", "MODE=x")  # a change outside the file
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    path.write_text(json.dumps(deployment))
    assert kubectl("apply", "-f", str(path)).stdout.strip() == "deployment.apps/api configured"
    read = json.loads(kubectl("get", "deploy", "api", "-n", "shop", "-o", "json").stdout)
    [container] = read["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "nginx:1.28" and container["env"] == [{"name": "MODE", "value": "x"}]
    assert container["ports"] == [{"containerPort": 80}]
    # Upgrading to server-side apply: kubectl takes over what client-side apply set, without conflicts.
    deployment["spec"]["replicas"] = 3
    path.write_text(json.dumps(deployment))
    applied = kubectl("apply", "--server-side", "-f", str(path))
    assert applied.stdout.strip() == "deployment.apps/api serverside-applied" and applied.stderr == ""
    read = json.loads(kubectl("get", "deploy", "api", "-n", "shop", "-o", "json", "--show-managed-fields").stdout)
    assert read["spec"]["replicas"] == 3 and read["spec"]["template"]["spec"]["containers"][0]["env"]
    managers = {(e["manager"], e["operation"]) for e in read["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers and ("kubectl-set", "Update") in managers
    assert ("kubectl-client-side-apply", "Update") not in managers  # kubectl moved its fields to its Apply
