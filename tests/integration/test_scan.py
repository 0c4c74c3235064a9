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
    assert r.code == 4  # the scan ran, and something breaks: CI stops here
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


ENABLE = ("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes")


def test_check_workloads_refuses_what_breaks_unless_forced(az_imds, admin, seed_cluster):
    _seed(admin, seed_cluster, WORKLOADS)
    refused = az_imds(*ENABLE, "--check-workloads")
    assert refused.code == 1
    assert "would break" in refused.err and "Deployment shop/legacy" in refused.err
    assert "Nothing was changed" in refused.err and "--force" in refused.err
    assert admin.requests("PUT") == []
    forced = az_imds(*ENABLE, "--check-workloads", "--force")
    assert forced.code == 0, forced.err
    assert "--force: enabling although these break" in forced.err
    assert set(admin.enforced(RG, "c1").values()) == {"None"}


def test_enable_scans_the_workloads_by_default_and_refuses_what_breaks(az_imds, admin, seed_cluster):
    _seed(admin, seed_cluster, WORKLOADS)
    refused = az_imds(*ENABLE)  # no --check-workloads: the scan is the default of the change that can break them
    assert refused.code == 1
    assert "would break" in refused.err and "Deployment shop/legacy" in refused.err
    assert admin.requests("PUT") == []
    skipped = az_imds(*ENABLE, "--skip-workload-check")
    assert skipped.code == 0, skipped.err
    assert set(admin.enforced(RG, "c1").values()) == {"None"}


def test_a_workload_scan_that_cannot_run_is_said_never_skipped_in_silence(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="POST", path="/listClusterUserCredential", count=10, status=403,
                body={"error": {"code": "AuthorizationFailed", "message": "The client does not have authorization."}})
    r = az_imds(*ENABLE)
    assert r.code == 1
    assert "The workload scan of cluster 'c1' could not run" in r.err and "--skip-workload-check" in r.err
    assert admin.requests("PUT") == []


def test_check_workloads_on_a_clean_cluster_then_verify_proves_it(az_imds, admin, seed_cluster):
    _seed(admin, seed_cluster, WORKLOADS[3:])
    r = az_imds(*ENABLE, "--check-workloads", "--verify")
    assert r.code == 0, r.err
    assert "Verified: all 5 " in r.err and "podLinkLocalAccess='None' says." in r.err


def test_upgrade_with_verify_reimages_then_proves(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True, nodes={"userpool": {"podLinkLocalAccess": "IMDS"}})
    r = az_imds("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--yes", "--verify")
    assert r.code == 0, r.err
    assert "Verified: all 5 " in r.err


def test_the_new_flags_are_checked_before_any_request(az_imds, admin, seed_cluster):
    seed_cluster()
    for args, message in (((*ENABLE, "--skip-workload-check", "--force"), "it cannot go with --check-workloads or "
                                                                           "--force"),
                          (("aks", "update", "-g", RG, "-n", "c1", "--disable-imds-restriction",
                            "--skip-workload-check", "--yes"), "goes with --enable-imds-restriction"),
                          ((*ENABLE, "--verify", "--skip-node-image-upgrade"), "--verify needs the nodes reimaged"),
                          (("aks", "update", "-g", RG, "-n", "c1", "--disable-imds-restriction", "--check-workloads",
                            "--yes"), "goes with --enable-imds-restriction"),
                          (("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--verify", "--no-wait"),
                           "--verify needs the nodes reimaged")):
        r = az_imds(*args)
        assert r.code == 2 and message in r.err, r.err
    assert [e for e in admin.requests() if e["path"].startswith("/subscriptions/")] == []


def test_show_says_whether_a_scan_was_possible_and_what_it_found(az_imds, admin, seed_cluster):
    _seed(admin, seed_cluster, WORKLOADS)
    report = az_imds("aks", "imds-restriction", "show", "-g", RG, "-n", "c1", "-o", "json").json
    assert report["workloadScan"]["possible"] is True and report["workloadScan"]["breaks"] == 2
    assert any("shop/legacy" in line for line in report["workloadScan"]["breaking"])
    # The preflight alone finds nothing, but the report's own scan names workloads that break: not "can enable".
    assert report["canEnable"] is False
    [blocker] = report["blockers"]
    assert blocker["code"] == "WorkloadsWouldBreak" and "Deployment shop/legacy" in blocker["message"]
    assert f"az-imds aks imds-restriction scan -g {RG} -n c1" in blocker["fix"]
    admin.seed(clusters=[{"resourceGroup": RG, "name": "c2", "cluster": {
        "location": "westus2", "properties": {"disableLocalAccounts": True, "agentPoolProfiles": [{"name": "p1"}]}}}])
    closed = az_imds("aks", "imds-restriction", "show", "-g", RG, "-n", "c2", "-o", "json").json
    assert closed["workloadScan"]["possible"] is False and closed["workloadScan"]["reason"]


COMPONENTS = [
    {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
     "metadata": {"name": "clusterissuers.cert-manager.io"},
     "spec": {"group": "cert-manager.io", "scope": "Cluster",
              "names": {"kind": "ClusterIssuer", "plural": "clusterissuers"}}},
    {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "letsencrypt"},
     "spec": {"acme": {"solvers": [{"dns01": {"azureDNS": {"hostedZoneName": "example.com",
                                                           "managedIdentity": {"clientID": "1234"}}}}]}}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "cert-manager", "namespace": "cert-manager"},
     "spec": {"template": {"metadata": {}, "spec": {"containers": [
         {"name": "cert-manager-controller", "image": "quay.io/jetstack/cert-manager-controller:v1.16.2"}]}}}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "external-dns", "namespace": "dns"},
     "spec": {"template": {"metadata": {}, "spec": {"containers": [
         {"name": "external-dns", "image": "registry.k8s.io/external-dns/external-dns:v0.15.0",
          "args": ["--source=service", "--provider=azure"]}]}}}},
]


def test_cert_manager_and_external_dns_on_a_managed_identity_are_found(az_imds, admin, seed_cluster):
    _seed(admin, seed_cluster, COMPONENTS)
    r = az_imds(*SCAN, "-o", "json")
    assert r.code == 4
    assert "Deployment cert-manager/cert-manager: container 'cert-manager-controller' is cert-manager's controller " \
           "without Workload ID, and these issuers reach Azure DNS with a managed identity (through IMDS): " \
           "ClusterIssuer letsencrypt" in r.err
    _seed(admin, seed_cluster, COMPONENTS[3:])  # external-dns alone: at risk, not a certain break
    table = az_imds(*SCAN, "-o", "table")
    assert table.code == 0, table.err
    [row] = [line for line in table.out.splitlines() if "external-dns" in line]
    assert "at risk" in row


def owned_by(kind, name, api_version="apps/v1"):
    return [{"apiVersion": api_version, "kind": kind, "name": name, "uid": f"uid-{name}", "controller": True}]


def pod(name, namespace, owner=None, labels=None, containers=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {},
                         **({"ownerReferences": owner} if owner else {})},
            "spec": {"containers": containers or [{"name": "app", "image": "app"}]}}


POD_IDENTITY = {"aadpodidbinding": "legacy"}
IDENTITY_ENV = [{"name": "app", "image": "app", "env": [{"name": "AZURE_CLIENT_ID", "value": "1234"}]}]
OWNERS = [
    # An Argo Rollout: its ReplicaSet and pods, no Rollout template read (no Rollout CRD even).
    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {
        "name": "checkout-7c9f", "namespace": "shop", "ownerReferences": owned_by("Rollout", "checkout",
                                                                                 "argoproj.io/v1alpha1")},
     "spec": {"template": {"metadata": {}, "spec": {"containers": [{"name": "app", "image": "app"}]}}}},
    *[pod(f"checkout-7c9f-{i}", "shop", owned_by("ReplicaSet", "checkout-7c9f"), POD_IDENTITY) for i in range(3)],
    # A bare ReplicaSet is a workload of its own, its template read too.
    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "legacy-rs", "namespace": "shop"},
     "spec": {"template": {"metadata": {}, "spec": {"containers": IDENTITY_ENV}}}},
    pod("legacy-rs-x1", "shop", owned_by("ReplicaSet", "legacy-rs")),
    # A KEDA ScaledJob owns Jobs, which own pods.
    {"apiVersion": "batch/v1", "kind": "Job", "metadata": {
        "name": "queue-worker-4xk2p", "namespace": "jobs", "ownerReferences": owned_by("ScaledJob", "queue-worker",
                                                                                      "keda.sh/v1alpha1")},
     "spec": {"template": {"metadata": {"labels": POD_IDENTITY}, "spec": {"containers": [{"name": "w"}]}}}},
    pod("queue-worker-4xk2p-abcde", "jobs", owned_by("Job", "queue-worker-4xk2p", "batch/v1"), POD_IDENTITY),
    # Kinds the scan has never heard of: a GitHub Actions runner, a Tekton TaskRun.
    pod("runner-x7k2q-runner-9s8d7", "arc-runners", owned_by("EphemeralRunner", "runner-x7k2q",
                                                             "actions.github.com/v1alpha1"), POD_IDENTITY),
    pod("build-42-pod", "ci", owned_by("TaskRun", "build-42", "tekton.dev/v1"), containers=IDENTITY_ENV),
    # A Deployment's ReplicaSet and pods: one workload, the Deployment.
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
     "spec": {"template": {"metadata": {}, "spec": {"containers": [{"name": "app", "image": "app"}]}}}},
    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {
        "name": "web-5d8b", "namespace": "shop", "ownerReferences": owned_by("Deployment", "web")},
     "spec": {"template": {"metadata": {}, "spec": {"containers": [{"name": "app", "image": "app"}]}}}},
    *[pod(f"web-5d8b-{i}", "shop", owned_by("ReplicaSet", "web-5d8b")) for i in range(2)],
]


def test_the_scan_finds_workloads_under_any_owner(az_imds, admin, seed_cluster):
    _seed(admin, seed_cluster, OWNERS)
    r = az_imds(*SCAN, "-o", "json")
    assert r.code == 4, r.err
    seen = {(w["namespace"], w["kind"], w["name"]): (w["verdict"], w["pods"]) for w in r.json["workloads"]}
    assert seen == {
        ("shop", "Rollout", "checkout"): ("breaks", 3),
        ("jobs", "ScaledJob", "queue-worker"): ("breaks", 1),
        ("arc-runners", "EphemeralRunner", "runner-x7k2q"): ("breaks", 1),
        ("shop", "ReplicaSet", "legacy-rs"): ("at risk", 1),
        ("ci", "TaskRun", "build-42"): ("at risk", 1),
        ("shop", "Deployment", "web"): ("unaffected", 2),
    }
    assert r.json["summary"] == {"breaks": 3, "atRisk": 2, "unaffected": 1}
    for line in ("Rollout shop/checkout: is bound to an aad-pod-identity identity",
                 "ScaledJob jobs/queue-worker: is bound", "EphemeralRunner arc-runners/runner-x7k2q: is bound"):
        assert line in r.err
    # The pods were read a page at a time.
    assert all(e["query"].get("limit") for e in admin.requests("GET", "/pods"))


CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "azure-identity", "namespace": "shop"},
              "data": {"AZURE_CLIENT_ID": "1234", "AZURE_TENANT_ID": "t"}}
PLAIN_CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"},
                    "data": {"LOG_LEVEL": "debug"}}


def deployment(name, container):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"template": {"metadata": {}, "spec": {"containers": [{"name": "app", "image": "a",
                                                                            **container}]}}}}


def test_identity_settings_behind_env_from_are_at_risk_and_secrets_are_never_read(az_imds, admin, seed_cluster):
    _seed(admin, seed_cluster, [
        CONFIG_MAP, PLAIN_CONFIG_MAP,
        deployment("from-config-map", {"envFrom": [{"configMapRef": {"name": "azure-identity"}}]}),
        deployment("from-secret", {"envFrom": [{"secretRef": {"name": "app-env"}}]}),
        deployment("key-from-secret", {"env": [{"name": "AZURE_CLIENT_ID", "valueFrom": {
            "secretKeyRef": {"name": "identity", "key": "client-id"}}}]}),
        deployment("plain", {"envFrom": [{"configMapRef": {"name": "settings"}}]})])
    r = az_imds(*SCAN, "-o", "json")
    assert r.code == 0, r.err  # at risk is not "breaks"
    found = {w["name"]: w for w in r.json["workloads"]}
    assert {name: w["verdict"] for name, w in found.items()} == {
        "from-config-map": "at risk", "from-secret": "at risk", "key-from-secret": "at risk", "plain": "unaffected"}
    assert found["from-config-map"]["reasons"] == [
        "container 'app' sets AZURE_CLIENT_ID (from ConfigMap 'azure-identity', envFrom) without Workload ID (an "
        "Azure SDK managed-identity credential would ask IMDS)"]
    assert "takes its environment from Secret 'app-env', which the scan does not read" in \
        found["from-secret"]["reasons"][0]
    assert "AZURE_CLIENT_ID (from Secret 'identity')" in found["key-from-secret"]["reasons"][0]
    assert all("Workload ID" in found[n]["fix"] for n in ("from-config-map", "from-secret", "key-from-secret"))
    # Each ConfigMap read once (a GET), and no Secret ever.
    paths = [e["path"] for e in admin.requests("GET", "/kubernetes/")]
    assert sorted(p.rsplit("/", 1)[1] for p in paths if "/configmaps/" in p) == ["azure-identity", "settings"]
    assert not [p for p in paths if p.endswith("/secrets") or "/secrets/" in p]


def test_the_full_report_is_printed_in_every_format_when_something_breaks(az_imds, admin, seed_cluster):
    _seed(admin, seed_cluster, WORKLOADS)
    r = az_imds(*SCAN, "-o", "json")
    assert r.code == 4  # the scan ran and something breaks; 1 would be a scan that failed
    report = r.json
    assert report["summary"] == {"breaks": 2, "atRisk": 1, "unaffected": 3}
    broken = [w for w in report["workloads"] if w["verdict"] == "breaks"]
    assert [(w["kind"], w["name"]) for w in broken] == [("Deployment", "legacy"), ("StatefulSet", "vault-reader")]
    assert all(w["reasons"] and "Workload ID" in w["fix"] for w in broken)
    assert [w["name"] for w in report["workloads"] if w["verdict"] == "at risk"] == ["report"]
    assert "Deployment shop/legacy: is bound to an aad-pod-identity identity" in r.err  # the breaking lines
    for fmt in (("-o", "table"), ("-o", "yaml"), ("-o", "tsv", "--query", "workloads[].[kind, name, verdict]")):
        shown = az_imds(*SCAN, *fmt)
        assert shown.code == 4 and "vault-reader" in shown.out and "legacy" in shown.out, fmt


def test_a_scan_that_cannot_read_the_pods_fails_with_exit_1_naming_the_permission(az_imds, admin, seed_cluster):
    _seed(admin, seed_cluster, WORKLOADS)
    admin.fault(method="GET", path="/kubernetes/.*/api/v1/pods", status=403, count=10,
                body={"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403,
                      "message": 'pods is forbidden: User "u" cannot list resource "pods" in API group "" at the '
                                 "cluster scope"})
    r = az_imds(*SCAN, "-o", "json")
    assert r.code == 1 and r.out == ""
    assert "The scan needs 'list' on pods in every namespace" in r.err
    assert 'cannot list resource "pods"' in r.err
