"""`az-imds aks imds-restriction verify`: the documentation's probe on every node, through the cluster's Kubernetes
API (the emulator's), with a verdict per node that rests on evidence, as a user gates on it."""
import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
import time

from tests.support.constants import RG
from tests.support.kube import arm_kubeconfig

VERIFY = ("aks", "imds-restriction", "verify", "-g", RG, "-n", "c1")
PROBES = "app.kubernetes.io/managed-by=imds-ext"


def _left_behind(admin):
    return [o for o in admin.state()["kubernetes"].values() if "imds-probe" in json.dumps(o)]


def _facts(admin, **facts):
    admin.seed(kubernetes=[{"resourceGroup": RG, "cluster": "c1", "facts": facts}])
    admin.clear_requests()


def _verdicts(report):
    return sorted((n["pool"], n["verdict"]) for n in report["nodes"])


def _kube_writes(admin):
    return [e for e in admin.requests() if e["path"].startswith("/kubernetes/") and e["method"] != "GET"]


def test_every_node_enforcing_the_setting_is_proven(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    r = az_imds(*VERIFY, "-o", "json")
    assert r.code == 0, r.err
    report = r.json
    assert report["ok"] and report["podLinkLocalAccess"] == "None" and report["expected"] == "enforced"
    assert _verdicts(report) == [("nodepool1", "enforced")] * 3 + [("userpool", "enforced")] * 2
    assert all(n["evidence"] == {"pod": "timed out", "reference": "answered", "hostNetwork": "answered"}
               for n in report["nodes"])
    assert _left_behind(admin) == []  # the probes and their namespace are gone


def test_the_probes_are_two_daemonsets_with_least_privilege(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True, agentPoolProfiles=[
        {"name": "nodepool1", "count": 3, "mode": "System", "osType": "Linux", "vmSize": "Standard_DS2_v2",
         "type": "VirtualMachineScaleSets"},
        {"name": "gpu", "count": 2, "mode": "User", "osType": "Linux", "vmSize": "Standard_DS2_v2",
         "type": "VirtualMachineScaleSets", "nodeTaints": ["sku=gpu:NoSchedule"]}])
    _facts(admin, userRules=[{"verbs": ["get", "list", "create"], "resources": ["*"]}])  # keeps them to look at
    assert az_imds(*VERIFY).code == 0
    posts = [e for e in admin.requests("POST") if e["path"].startswith("/kubernetes/")]
    # Writes do not grow with the nodes: a namespace and two DaemonSets for five nodes.
    assert [e["path"].rsplit("/", 1)[-1] for e in posts] == ["namespaces", "daemonsets", "daemonsets"]
    made = {o["body"]["metadata"]["name"]: o["body"] for o in _left_behind(admin)}
    (namespace,) = [b for b in made.values() if b["kind"] == "Namespace"]
    pod_ds, host_ds = made["pod-network"], made["host-network"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert "imds-ext.io/expires-at" in namespace["metadata"]["annotations"]
    for ds in (pod_ds, host_ds):
        spec = ds["spec"]["template"]["spec"]
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["seccompProfile"] == {
            "type": "RuntimeDefault"}
        assert spec["tolerations"] == [{"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
        for c in spec["containers"]:
            assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
            assert c["resources"]["limits"] and "@sha256:" in c["image"] and c["image"].startswith("mcr.microsoft.com/")
    assert pod_ds["spec"]["template"]["spec"]["hostNetwork"] is False
    assert host_ds["spec"]["template"]["spec"]["hostNetwork"] is True


def test_a_pool_missed_by_the_reimage_is_named_open(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True, nodes={"userpool": {"podLinkLocalAccess": "IMDS"}})
    r = az_imds(*VERIFY, "-o", "json")
    assert r.code == 1
    assert _verdicts(r.json) == [("nodepool1", "enforced")] * 3 + [("userpool", "open")] * 2  # the report, kept
    assert "2 node(s) of cluster 'c1' are not enforced, as podLinkLocalAccess='None' says" in r.err
    assert r.err.count("(userpool): open: IMDS answered a pod on the pod network") == 2
    assert "aks upgrade -g rg1 -n c1 --node-image-only --yes" in r.err
    assert _left_behind(admin) == []
    # The reimage it names fixes it.
    assert az_imds("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--yes").code == 0
    assert az_imds(*VERIFY).code == 0


def test_the_table_and_a_sample_per_pool(az_imds, admin, seed_cluster):
    seed_cluster()  # not restricted: pods reach IMDS, as they should
    r = az_imds(*VERIFY, "--sample", "1", "-o", "table")
    assert r.code == 0, r.err
    lines = r.out.strip().splitlines()
    assert lines[0].split()[:5] == ["Pool", "Node", "Expected", "Verdict", "Reason"]
    assert len(lines) == 2 + 2  # header, rule, one node per pool
    assert all(line.split()[3] == "open" for line in lines[2:])


def test_an_image_without_curl_is_inconclusive_not_ok(az_imds, admin, seed_cluster):
    seed_cluster(restricted=False, nodes={"nodepool1": {"podLinkLocalAccess": "IMDS"}})
    seed_cluster(restricted=True, nodes={"nodepool1": {"podLinkLocalAccess": "IMDS"},
                                         "userpool": {"podLinkLocalAccess": "IMDS"}})  # never reimaged
    _facts(admin, images={"mcr.microsoft.com/cbl-mariner/distroless/minimal:2.0": {"commands": ["sh"]}})
    r = az_imds(*VERIFY, "--probe-image", "mcr.microsoft.com/cbl-mariner/distroless/minimal:2.0", "-o", "json")
    assert r.code == 1
    assert {n["verdict"] for n in r.json["nodes"]} == {"inconclusive"}  # never "enforced" on nodes that are open
    assert all("has no curl" in n["reason"] for n in r.json["nodes"])
    assert "do not reimage for it" in r.err and "--probe-image" in r.err and "aks upgrade" not in r.err
    assert _left_behind(admin) == []


def test_an_image_that_cannot_be_pulled_is_named_at_once(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    started = time.monotonic()
    r = az_imds(*VERIFY, "--probe-image", "registry.invalid/curl:8", "-o", "json")
    assert r.code == 1
    assert time.monotonic() - started < 60  # not the whole probe timeout
    assert all(n["verdict"] == "inconclusive" and "image not pulled (ImagePullBackOff" in n["reason"]
               for n in r.json["nodes"])
    assert "a registry the cluster can pull from" in r.err and "aks upgrade" not in r.err


def test_an_out_of_memory_probe_is_inconclusive(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    _facts(admin, images={"mcr.microsoft.com/big/curl:1": {"commands": ["curl"], "memoryMiB": 200}})
    r = az_imds(*VERIFY, "--probe-image", "mcr.microsoft.com/big/curl:1", "-o", "json")
    assert r.code == 1
    assert all(n["verdict"] == "inconclusive" and "was killed (exit 137, OOMKilled)" in n["reason"]
               for n in r.json["nodes"])


def test_a_policy_that_refuses_the_probes_is_named(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    _facts(admin, denyHostNetwork=True)
    r = az_imds(*VERIFY, "-o", "json")
    assert r.code == 1
    reasons = {n["reason"] for n in r.json["nodes"]}
    assert len(reasons) == 1 and "the host-network probe was refused by admission" in reasons.pop()
    assert 'admission webhook "validation.gatekeeper.sh" denied the request' in r.err
    assert "allow the probes' namespace" in r.err and "aks upgrade" not in r.err


def test_pod_security_baseline_by_default_does_not_stop_verify(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    _facts(admin, podSecurity="baseline")  # the cluster-wide default, as AKS Automatic's safeguards set it
    r = az_imds(*VERIFY, "-o", "json")
    assert r.code == 0, r.err  # the probes' namespace says what level its host-network control needs


def test_a_notready_node_is_inconclusive_and_the_others_are_judged(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    nodes = [n["metadata"]["name"] for n in _nodes(az_imds)]
    _facts(admin, nodes={nodes[0]: {"ready": False}, nodes[1]: {"unschedulable": True}})
    r = az_imds(*VERIFY, "-o", "json")
    assert r.code == 1
    by_node = {n["node"]: n for n in r.json["nodes"]}
    assert by_node[nodes[0]]["verdict"] == "inconclusive" and "NotReady" in by_node[nodes[0]]["reason"]
    assert by_node[nodes[1]]["verdict"] == "enforced"  # a cordoned node still gets its DaemonSet pod
    assert sum(n["verdict"] == "enforced" for n in r.json["nodes"]) == 4
    assert "1 node(s) could not be judged" in r.err and "aks upgrade" not in r.err
    # A sample is taken from the nodes that can run a probe; the NotReady one is listed as not sampled.
    sampled = az_imds(*VERIFY, "--sample", "1", "-o", "json")
    assert sampled.code == 0, sampled.err
    assert {"node": nodes[0], "pool": "nodepool1", "reason": "NotReady: not sampled"} in sampled.json["notProbed"]


def _nodes(az_imds):
    r = az_imds("aks", "imds-restriction", "verify", "-g", RG, "-n", "c1", "-o", "json")
    return [{"metadata": {"name": n["node"]}} for n in sorted(r.json["nodes"], key=lambda n: n["node"])]


def test_autoprovisioned_nodes_are_probed_and_virtual_nodes_listed(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    _facts(admin, extraNodes=[{"name": "aks-default-abcde", "kind": "autoprovisioned"},
                              {"name": "virtual-node-aci-linux", "kind": "virtual"}])
    r = az_imds(*VERIFY, "-o", "json")
    assert r.code == 0, r.err
    assert ("nap:default", "enforced") in _verdicts(r.json)
    assert r.json["notProbed"] == [{"node": "virtual-node-aci-linux", "pool": "-", "reason": (
        "virtual node (ACI): its pods do not run on a VM, so the node's IMDS is not theirs")}]


def test_a_cluster_whose_pods_have_no_egress_is_not_called_enforced(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True, nodes={"userpool": {"podLinkLocalAccess": "IMDS"}})
    _facts(admin, podEgress=False)
    r = az_imds(*VERIFY, "-o", "json")
    assert r.code == 1
    assert {n["verdict"] for n in r.json["nodes"]} == {"inconclusive"}
    assert all("reach nothing" in n["reason"] for n in r.json["nodes"])


def test_zero_linux_nodes_is_not_ok(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True, agentPoolProfiles=[
        {"name": "nodepool1", "count": 0, "mode": "System", "osType": "Linux", "vmSize": "Standard_DS2_v2",
         "type": "VirtualMachineScaleSets"}])
    r = az_imds(*VERIFY, "-o", "json")
    assert r.code == 1
    assert r.json["nodes"] == [] and r.json["ok"] is False
    assert "Nothing was verified on cluster 'c1': no Linux node could be probed: the API server lists no node" in r.err
    assert _kube_writes(admin) == []  # nothing created for nothing to probe


def _kubeconfig(tmp_path, server, user):
    path = tmp_path / "config"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "ctx",
        "clusters": [{"name": "k", "cluster": {"server": server}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "k", "user": "u"}}],
        "users": [{"name": "u", "user": user}]}))
    return str(path)


def test_another_clusters_kubeconfig_is_refused_before_anything_is_sent(az_imds, admin, emulator, seed_cluster,
                                                                       tmp_path):
    seed_cluster(restricted=True)
    seed_cluster(name="c2", restricted=False)
    (tmp_path / "c2").write_text(json.dumps(arm_kubeconfig(emulator, RG, "c2")))
    admin.clear_requests()
    r = az_imds(*VERIFY, "--kubeconfig", str(tmp_path / "c2"))
    assert r.code == 1
    assert "is not the API server of cluster 'c1'" in r.err and "Nothing was sent to it" in r.err
    assert [e for e in admin.requests() if e["path"].startswith("/kubernetes/")] == []


def test_a_foreign_exec_plugin_gets_no_token(az_imds, admin, seed_cluster, tmp_path):
    seed_cluster(restricted=True)
    config = _kubeconfig(tmp_path, "https://example.eks.amazonaws.com", {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
        "args": ["eks", "get-token", "--cluster-name", "prod"]}})
    r = az_imds(*VERIFY, "--kubeconfig", config)
    assert r.code == 1
    assert "exec plugin 'aws eks get-token', which is not kubelogin" in r.err
    assert [e for e in admin.requests() if e["path"].startswith("/kubernetes/")] == []


@contextlib.contextmanager
def _blackhole():
    """A loopback port whose connections never complete (its accept queue is full, so SYNs are dropped), as a
    private cluster's API server looks from outside its network."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = [socket.socket() for _ in range(4)]
    for filler in fillers:
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
    try:
        yield listener.getsockname()[1]
    finally:
        for s in fillers + [listener]:
            s.close()


def test_an_unreachable_api_server_fails_within_seconds(az_imds, admin, seed_cluster, tmp_path):
    seed_cluster(restricted=True, privateFQDN="127.0.0.1")
    with _blackhole() as port:
        config = _kubeconfig(tmp_path, f"https://127.0.0.1:{port}", {"token": "t"})
        started = time.monotonic()
        r = az_imds(*VERIFY, "--kubeconfig", config)
        took = time.monotonic() - started
    assert r.code == 1
    assert took < 60, took  # seconds, not azure-core's 20 minutes
    assert f"The cluster's API server at https://127.0.0.1:{port} is unreachable" in r.err
    assert "private cluster?" in r.err and "may have been applied" not in r.err and "Traceback" not in r.err


def test_a_refused_credential_names_the_server_and_the_kubeconfig(az_imds, admin, emulator, seed_cluster,
                                                                  tmp_path):
    seed_cluster(restricted=True)
    config = arm_kubeconfig(emulator, RG, "c1")
    config["users"][0]["user"] = {"token": "not-the-token"}
    path = tmp_path / "stale"
    path.write_text(json.dumps(config))
    r = az_imds(*VERIFY, "--kubeconfig", str(path))
    assert r.code == 1
    assert f"refused the credential from {path}, context 'c1' (its static token): 401 Unauthorized" in r.err
    assert "not-the-token" not in r.err


def test_a_missing_permission_is_named(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    _facts(admin, userRules=[{"verbs": ["get", "list"], "resources": ["*"]}])  # a read-only user
    r = az_imds(*VERIFY)
    assert r.code == 1
    assert 'cannot create resource "namespaces" in API group "" at the cluster scope' in r.err
    assert "docs/kubernetes-access.md ('Permissions')" in r.err
    assert _left_behind(admin) == []


def test_a_failed_cleanup_keeps_the_verdict_and_gives_the_command(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    _facts(admin, userRules=[{"verbs": ["get", "list", "create"], "resources": ["*"]}])  # may not delete
    r = az_imds(*VERIFY, "-o", "json")
    assert r.code == 0, r.err  # the verdict stands
    assert r.json["ok"] and "could not be removed" in r.json["cleanup"]
    namespace = re.search(r"imds-probe-[0-9a-f]{8}", r.json["cleanup"]).group(0)
    assert namespace.startswith("imds-probe-")
    assert f"kubectl delete namespace {namespace}" in r.err
    assert f"kubectl delete namespace -l {PROBES},imds-ext.io/component=node-probe" in r.err


def test_what_a_killed_run_left_is_removed_by_the_next(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    labels = {"app.kubernetes.io/managed-by": "imds-ext", "imds-ext.io/component": "node-probe"}
    admin.seed(kubernetes=[{"resourceGroup": RG, "cluster": "c1", "objects": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "imds-probe-dead0001", "labels": labels,
            "annotations": {"imds-ext.io/expires-at": "2020-01-01T00:00:00Z"}}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {  # a run still going: left alone
            "name": "imds-probe-live0001", "labels": labels,
            "annotations": {"imds-ext.io/expires-at": "2999-01-01T00:00:00Z"}}}]}])
    r = az_imds(*VERIFY)
    assert r.code == 0, r.err
    assert "Removed what earlier runs left behind: imds-probe-dead0001." in r.err
    names = [o["body"]["metadata"]["name"] for o in admin.state()["kubernetes"].values()
             if o["plural"] == "namespaces"]
    assert "imds-probe-dead0001" not in names and "imds-probe-live0001" in names


def test_bad_input(az_imds, admin, seed_cluster):
    seed_cluster()
    for args, message in ((("--sample", "0"), "--sample must be 1 or more"),
                          (("--admin", "--context", "x"), "--admin and --context cannot be combined"),
                          (("--admin", "--kubeconfig", "k"), "--admin and --kubeconfig cannot be combined"),
                          (("--probe-image", ""), "--probe-image must be an image reference"),
                          (("--probe-image", "mcr.microsoft.com/x:1\nHost: evil"),
                           "--probe-image must be an image reference")):
        r = az_imds(*VERIFY, *args)
        assert r.code == 2 and message in r.err, r.err
    assert [e for e in admin.requests() if e["path"].startswith(("/subscriptions/", "/kubernetes/"))] == []


def test_an_entra_cluster_is_verified_with_an_entra_token_and_no_kubelogin(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True, aadProfile={"managed": True}, disableLocalAccounts=True)
    r = az_imds(*VERIFY, "-o", "json")
    assert r.code == 0, r.err
    assert r.json["ok"]
    kube_calls = [e for e in admin.requests() if e["path"].startswith("/kubernetes/")]
    assert kube_calls and all(e["status"] < 400 for e in kube_calls)  # the Entra token was accepted throughout


def _interrupt_after_the_probes_start(cli_env, admin, signum):
    admin.fault(method="GET", path="/kubernetes/.*/pods$", delaySeconds=3, count=5)  # a slow cluster
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *VERIFY], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env, text=True)
    deadline = time.monotonic() + 60
    while not [e for e in admin.requests("POST") if e["path"].endswith("/daemonsets")]:
        assert time.monotonic() < deadline, "no probe was created"
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    admin.clear_faults()
    return proc.returncode, err


def test_interrupted_verification_removes_its_probes(cli_env, admin, seed_cluster):
    seed_cluster(restricted=True)
    code, err = _interrupt_after_the_probes_start(cli_env, admin, signal.SIGINT)
    assert code == 1 and "Traceback" not in err
    assert "Interrupted. The probes were removed; nothing else in the cluster changed." in err
    assert _left_behind(admin) == []  # the namespace and its probes went on the way out


def test_a_closed_terminal_removes_the_probes_too(cli_env, admin, seed_cluster):
    seed_cluster(restricted=True)
    code, err = _interrupt_after_the_probes_start(cli_env, admin, signal.SIGHUP)
    assert code == 1 and "The probes were removed" in err
    assert _left_behind(admin) == []


def test_a_credentials_answer_without_a_kubeconfig_is_a_sentence(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    admin.fault(method="POST", path="/listClusterUserCredential$", count=1, status=200, body={"kubeconfigs": []})
    r = az_imds(*VERIFY)
    assert r.code == 1
    assert "answered cluster 'c1''s credentials request with no kubeconfig" in r.err
    assert "Unexpected error" not in r.err and _kube_writes(admin) == []
