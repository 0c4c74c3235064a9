"""`az-imds aks imds-restriction verify`: the documentation's probe on every node, through the cluster's Kubernetes
API (the emulator's), with the verdict a user gates on."""
import json

from tests.support.constants import RG

VERIFY = ("aks", "imds-restriction", "verify", "-g", RG, "-n", "c1")


def _left_behind(admin):
    return [o for o in admin.state()["kubernetes"].values() if "imds-probe" in json.dumps(o)]


def test_every_node_enforcing_the_setting_is_proven(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True)
    r = az_imds(*VERIFY, "-o", "json")
    assert r.code == 0, r.err
    report = r.json
    assert report["ok"] and report["podLinkLocalAccess"] == "None"
    assert sorted((n["pool"], n["observed"]) for n in report["nodes"]) == \
        [("nodepool1", "blocked")] * 3 + [("userpool", "blocked")] * 2
    assert {h["pool"]: h["imds"] for h in report["hostNetwork"]} == {"nodepool1": "reachable",
                                                                      "userpool": "reachable"}
    assert _left_behind(admin) == []  # the probes and their namespace are gone


def test_a_pool_missed_by_the_reimage_is_named(az_imds, admin, seed_cluster):
    seed_cluster(restricted=True, nodes={"userpool": {"podLinkLocalAccess": "IMDS"}})
    r = az_imds(*VERIFY)
    assert r.code == 1
    assert "2 node(s) of cluster 'c1' do not behave as podLinkLocalAccess='None' says" in r.err
    assert r.err.count("(userpool): IMDS reachable from a pod, expected blocked") == 2
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
    assert lines[0].split() == ["Pool", "Node", "Network", "Expected", "Observed", "Verdict"]
    assert len(lines) == 2 + 2 + 2  # header, rule, one pod-network probe and one host probe per pool
    assert all(line.split()[-1] == "ok" for line in lines[2:])


def test_an_unreachable_api_server_is_a_sentence(az_imds, admin, seed_cluster, tmp_path):
    seed_cluster(restricted=True)
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c1",
        "clusters": [{"name": "c1", "cluster": {"server": "https://127.0.0.1:9"}}],
        "contexts": [{"name": "c1", "context": {"cluster": "c1", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "t"}}]}))
    r = az_imds(*VERIFY, "--kubeconfig", str(kubeconfig))
    assert r.code == 1
    assert "The cluster's API server at https://127.0.0.1:9 cannot be reached" in r.err and "Traceback" not in r.err


def test_bad_input(az_imds, admin, seed_cluster):
    seed_cluster()
    for args, message in ((("--sample", "0"), "--sample must be 1 or more"),
                          (("--context", "x"), "--context goes with --kubeconfig"),
                          (("--admin", "--kubeconfig", "k"), "--admin and --kubeconfig cannot be combined")):
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


def test_interrupted_verification_removes_its_probes(cli_env, admin, seed_cluster):
    import signal
    import subprocess
    import sys
    import time

    seed_cluster(restricted=True)
    admin.fault(method="GET", path="/kubernetes/.*/pods$", delaySeconds=3, count=5)  # a slow cluster
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *VERIFY], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env, text=True)
    deadline = time.monotonic() + 60
    while not [e for e in admin.requests("POST") if e["path"].endswith("/pods")]:
        assert time.monotonic() < deadline, "no probe was created"
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "Traceback" not in err
    assert "Interrupted. The probes were removed; nothing else in the cluster changed." in err
    admin.clear_faults()
    assert _left_behind(admin) == []  # the namespace and its probes went on the way out
