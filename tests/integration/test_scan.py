"""`az-imds aks imds-restriction scan` through the cluster's Kubernetes API (the emulator's): every verdict, the exit
code CI gates on, and proof from the request log that it only reads."""
from tests.support.constants import RG

SCAN = ("aks", "imds-restriction", "scan", "-g", RG, "-n", "c1")

WORKLOADS = [
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "legacy", "namespace": "shop"},
     "spec": {"template": {"metadata": {"labels": {"aadpodidbinding": "legacy"}}, "spec": {"containers": [
         {"name": "app", "image": "shop"}]}}}},
    {"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
     "metadata": {"name": "kv-vm", "namespace": "shop"}, "spec": {"parameters": {"useVMManagedIdentity": "true"}}},
    {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "vault-reader", "namespace": "shop"},
     "spec": {"template": {"metadata": {}, "spec": {"containers": [{"name": "app", "image": "r"}], "volumes": [
         {"name": "kv", "csi": {"driver": "secrets-store.csi.k8s.io",
                                "volumeAttributes": {"secretProviderClass": "kv-vm"}}}]}}}},
    {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "report", "namespace": "ops"},
     "spec": {"jobTemplate": {"spec": {"template": {"metadata": {}, "spec": {"containers": [
         {"name": "job", "image": "r", "env": [{"name": "AZURE_CLIENT_ID", "value": "1234"}]}]}}}}}},
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "api", "namespace": "ops",
                                                                "annotations": {"azure.workload.identity/client-id":
                                                                                "5678"}}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "ops"},
     "spec": {"template": {"metadata": {"labels": {"azure.workload.identity/use": "true"}}, "spec": {
         "serviceAccountName": "api", "containers": [{"name": "app", "image": "a",
                                                      "env": [{"name": "AZURE_CLIENT_ID", "value": "5678"}]}]}}}},
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "node-agent", "namespace": "kube-system"},
     "spec": {"template": {"metadata": {"labels": {"aadpodidbinding": "x"}}, "spec": {
         "hostNetwork": True, "containers": [{"name": "agent", "image": "n"}]}}}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": "default"},
     "spec": {"containers": [{"name": "shell", "image": "busybox"}]}},
]


def _seed(admin, seed_cluster, objects):
    seed_cluster(restricted=False)
    admin.seed(kubernetes=[{"resourceGroup": RG, "cluster": "c1", "objects": objects}])
    admin.clear_requests()


def test_the_scan_classifies_every_workload_and_only_reads(az_imds, admin, seed_cluster):
    _seed(admin, seed_cluster, WORKLOADS)
    r = az_imds(*SCAN)
    assert r.code == 1  # something breaks: CI stops here
    assert "2 workload(s) or component(s) of cluster 'c1' take tokens from IMDS" in r.err
    assert "Deployment shop/legacy: is bound to an aad-pod-identity identity" in r.err
    assert "StatefulSet shop/vault-reader: mounts SecretProviderClass 'kv-vm' with useVMManagedIdentity" in r.err
    assert "DaemonSet kube-system/node-agent" not in r.err  # host network keeps IMDS
    assert {e["method"] for e in admin.requests()} == {"GET", "POST"}
    writes = [e for e in admin.requests() if e["method"] != "GET" and "/oauth2/" not in e["path"]]
    assert [e["path"].rsplit("/", 1)[1] for e in writes] == ["listClusterUserCredential"]  # a read, over POST


def test_a_clean_cluster_exits_0_with_the_report(az_imds, admin, seed_cluster):
    _seed(admin, seed_cluster, WORKLOADS[3:])  # the CronJob at risk, Workload ID, host network, a bare pod
    r = az_imds(*SCAN, "-o", "json")
    assert r.code == 0, r.err
    report = r.json
    assert report["summary"] == {"breaks": 0, "atRisk": 1, "unaffected": 3}
    verdicts = {(w["kind"], w["name"]): w["verdict"] for w in report["workloads"]}
    assert verdicts == {("CronJob", "report"): "at risk", ("Deployment", "api"): "unaffected",
                        ("DaemonSet", "node-agent"): "unaffected", ("Pod", "debug"): "unaffected"}
    risky = report["workloads"][0]
    assert risky["kind"] == "CronJob" and "AZURE_CLIENT_ID" in risky["reasons"][0] and "Workload ID" in risky["fix"]
    table = az_imds(*SCAN, "-o", "table").out
    assert "at risk" in table and "uses Microsoft Entra Workload ID" in table
