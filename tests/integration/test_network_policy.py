"""`az-imds aks imds-restriction network-policy apply|show|remove` and `verify` in that mode (issue 19): the real
command line against the emulator, whose clusters enforce network policy as their engine would (docs/emulator.md,
"Network policy")."""
from tests.support.constants import RG
from tests.support.policies import allow_all_egress, block_imds, namespace, network_policy

NP = ("aks", "imds-restriction", "network-policy")
TARGET = ("-g", RG, "-n", "c1")
VERIFY = ("aks", "imds-restriction", "verify", *TARGET)
INSIGHTS = {"omsagent": {"enabled": True, "config": {"logAnalyticsWorkspaceResourceID": "/subscriptions/x/ws"}}}
OWNED = "app.kubernetes.io/managed-by=imds-ext"


def _objects(admin, kind):
    return [o["body"] for o in admin.state()["kubernetes"].values() if o["body"].get("kind") == kind]


def _kube_writes(admin):
    return [e for e in admin.requests() if e["path"].startswith("/kubernetes/") and e["method"] != "GET"]


def test_a_cilium_cluster_with_container_insights_is_protected_by_one_clusterwide_policy(az_imds, admin,
                                                                                         seed_cluster):
    seed_cluster(network_dataplane="cilium", addonProfiles=INSIGHTS,
                 objects=[namespace("shop"), namespace("payments")])
    # The managed setting refuses this cluster for its add-on ...
    refused = az_imds("aks", "update", *TARGET, "--enable-imds-restriction", "--yes")
    assert refused.code == 1 and "Container Insights" in refused.err
    # ... the network policy protects it.
    r = az_imds(*NP, "apply", *TARGET, "--yes", "-o", "json")
    assert r.code == 0, r.err
    report = r.json
    assert report["engine"] == "cilium" and report["mechanism"] == "cilium-clusterwide"
    assert report["status"] == "protected" and report["mode"] == "network policy"
    assert report["policies"] == ["CiliumClusterwideNetworkPolicy imds-ext-deny-imds"]
    assert {"default", "shop", "payments"} <= set(report["namespaces"]["protected"])
    assert {e["namespace"] for e in report["namespaces"]["exempt"]} == {"kube-system", "gatekeeper-system",
                                                                         "app-routing-system"}
    (ccnp,) = _objects(admin, "CiliumClusterwideNetworkPolicy")
    assert ccnp["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "imds-ext",
                                          "imds-ext.io/component": "imds-block"}
    assert ccnp["spec"]["enableDefaultDeny"]["egress"] is False
    assert ccnp["spec"]["egressDeny"] == [{"toCIDR": ["169.254.169.254/32"]}]
    assert _objects(admin, "NetworkPolicy") == []  # one object for the whole cluster

    # verify: enforced in a covered namespace (its own probe namespace), reachable in an exempt one
    admin.clear_requests()
    v = az_imds(*VERIFY, "-o", "json")
    assert v.code == 0, v.err
    proof = v.json
    assert proof["ok"] and proof["expected"] == "enforced" and proof["podLinkLocalAccess"] == "IMDS"
    assert proof["mechanism"].startswith("network policy (cilium-clusterwide")
    assert {n["verdict"] for n in proof["nodes"]} == {"enforced"}
    assert all(n["evidence"]["hostNetwork"] == "answered" for n in proof["nodes"])  # the control still answers
    assert proof["exemptProbe"]["verdict"] == "reachable" and proof["exemptProbe"]["expected"] == "reachable"
    # verify needed no policy of its own: the cluster-wide one covers its namespace
    assert not [e for e in admin.requests("POST") if "networkpolicies" in e["path"]]
    assert [o for o in admin.state()["kubernetes"].values() if "imds-probe" in str(o)] == []


def test_verify_without_the_policy_finds_the_pods_open(az_imds, seed_cluster):
    seed_cluster(network_dataplane="cilium", addonProfiles=INSIGHTS)
    v = az_imds(*VERIFY, "-o", "json")
    assert v.code == 0 and v.json["expected"] == "open" and "exemptProbe" not in v.json
    assert v.json["mechanism"] == "none (podLinkLocalAccess: IMDS)"


def test_an_npm_cluster_is_protected_namespace_by_namespace_and_a_reopening_policy_is_named(az_imds, admin,
                                                                                           seed_cluster):
    seed_cluster(network_policy="azure", addonProfiles=INSIGHTS,
                 objects=[namespace("shop"), namespace("payments"), namespace("legacy"),
                          namespace("monitoring", {"imds-ext.io/allow-imds": "true"}),
                          allow_all_egress("payments", "allow-everything"),
                          network_policy("shop", "dns-only", [{"ports": [{"port": 53, "protocol": "UDP"}]}])])
    r = az_imds(*NP, "apply", *TARGET, "--yes", "-o", "json")
    assert r.code == 1, r.err  # payments is not protected
    report = r.json
    assert report["mechanism"] == "per-namespace" and report["status"] == "not protected"
    assert set(report["namespaces"]["protected"]) == {"default", "kube-node-lease", "kube-public", "shop", "legacy"}
    assert report["reopenedBy"] == [{"namespace": "payments", "policy": "allow-everything",
                                     "rule": "egress rule 1 allows every address", "pods": "every pod"}]
    assert "payments: NetworkPolicy payments/allow-everything reopens IMDS" in r.err
    exempt = {e["namespace"]: e["reason"] for e in report["namespaces"]["exempt"]}
    assert exempt["monitoring"] == "labelled imds-ext.io/allow-imds=true" and "kube-system" in exempt
    ours = {p["metadata"]["namespace"]: p for p in _objects(admin, "NetworkPolicy")
            if p["metadata"]["name"] == "imds-ext-deny-imds"}
    assert set(ours) == {"default", "kube-node-lease", "kube-public", "shop", "legacy", "payments"}
    assert ours["shop"]["spec"]["egress"][0]["to"][0]["ipBlock"] == {"cidr": "0.0.0.0/0",
                                                                     "except": ["169.254.169.254/32"]}
    assert ours["shop"]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "imds-ext"

    # The re-run writes nothing.
    admin.clear_requests()
    again = az_imds(*NP, "apply", *TARGET, "--yes", "-o", "json")
    assert again.code == 1 and again.json["changes"] == []
    assert _kube_writes(admin) == []
    assert "Nothing to change" in again.err

    # A namespace created since is covered by the next apply, and only it is written.
    admin.seed(kubernetes=[{"resourceGroup": RG, "cluster": "c1", "objects": [namespace("new-team")]}])
    admin.clear_requests()
    later = az_imds(*NP, "apply", *TARGET, "--yes", "-o", "json")
    assert later.code == 1, later.err  # payments is still reopened
    assert "new-team" in later.json["namespaces"]["protected"]
    assert later.json["changes"] == [{"action": "create", "kind": "NetworkPolicy", "namespace": "new-team",
                                      "name": "imds-ext-deny-imds"}]
    assert [e["method"] for e in _kube_writes(admin)] == ["POST"]

    # verify: its probe namespace gets the very policy apply writes; enforced there, reachable when exempt
    admin.clear_requests()
    v = az_imds(*VERIFY, "-o", "json")
    assert v.code == 0, v.err
    assert v.json["mechanism"].startswith("network policy (per-namespace")
    posted = [e["path"] for e in admin.requests("POST") if "networkpolicies" in e["path"]]
    assert len(posted) == 1 and "/namespaces/imds-probe-" in posted[0]
    assert {n["verdict"] for n in v.json["nodes"]} == {"enforced"}
    assert v.json["exemptProbe"]["verdict"] == "reachable"


def test_show_names_the_workloads_that_lose_their_tokens_and_what_apply_would_write(az_imds, admin, seed_cluster):
    seed_cluster(network_policy="calico", objects=[namespace("shop"), block_imds("shop", "users-own-block")])
    r = az_imds(*NP, "show", *TARGET, "-o", "json")
    assert r.code == 1  # nothing applied yet
    report = r.json
    assert report["status"] == "not protected" and report["policies"] == []
    assert {c["namespace"] for c in report["changes"]} >= {"default", "shop"}
    assert isinstance(report["workloads"], list)
    assert not _kube_writes(admin)  # show writes nothing
    table = az_imds(*NP, "show", *TARGET, "-o", "table")
    assert "not protected" in table.out and "exempt" in table.out


def test_a_cluster_with_no_engine_is_refused_with_the_fix(az_imds, admin, seed_cluster):
    seed_cluster(addonProfiles=INSIGHTS)  # networkPolicy left out: none, the default since 2024-05-01
    r = az_imds(*NP, "apply", *TARGET, "--yes")
    assert r.code == 1
    assert "[NoNetworkPolicyEngine]" in r.err and "enforced by nobody" in r.err
    assert "az aks update -g rg1 -n c1 --network-dataplane cilium" in r.err
    assert "--network-policy calico" in r.err and "at a cost" in r.err
    assert admin.requests(contains="/kubernetes/") == []  # refused before the cluster was touched


def test_remove_deletes_only_what_apply_created(az_imds, admin, seed_cluster):
    seed_cluster(network_policy="calico",
                 objects=[namespace("shop"), block_imds("shop", "users-own-block"), allow_all_egress("default")])
    assert az_imds(*NP, "apply", *TARGET, "--yes").code == 1  # default's allow-all reopens it
    r = az_imds(*NP, "remove", *TARGET, "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert r.json["removed"] and all(x["name"] == "imds-ext-deny-imds" for x in r.json["removed"])
    left = sorted((p["metadata"]["namespace"], p["metadata"]["name"]) for p in _objects(admin, "NetworkPolicy"))
    assert left == [("default", "allow-all-egress"), ("shop", "users-own-block")]
    again = az_imds(*NP, "remove", *TARGET, "--yes", "-o", "json")
    assert again.code == 0 and again.json["removed"] == [] and "Nothing to remove" in again.err


def test_apply_asks_first_and_no_means_nothing_written(az_imds, admin, seed_cluster):
    seed_cluster(network_policy="calico")
    r = az_imds(*NP, "apply", *TARGET)  # no terminal, no --yes
    assert r.code == 1 and "--yes" in r.err
    assert _kube_writes(admin) == []


def test_usage_errors_and_a_missing_cluster(az_imds, seed_cluster):
    seed_cluster(network_policy="calico")
    assert az_imds(*NP, "apply", *TARGET, "--mechanism", "iptables").code == 2
    bad = az_imds(*NP, "apply", *TARGET, "--exempt-namespaces", "Bad_Name", "--yes")
    assert bad.code == 2 and "not a namespace name" in bad.err
    wrong = az_imds(*NP, "apply", *TARGET, "--mechanism", "cilium-clusterwide", "--yes")
    assert wrong.code == 1 and "[MechanismNotEnforced]" in wrong.err
    assert az_imds(*NP, "show", "-g", RG, "-n", "nope").code == 3


def test_exemptions_given_once_are_kept_by_the_next_apply(az_imds, admin, seed_cluster):
    seed_cluster(network_dataplane="cilium", objects=[namespace("legacy"), namespace("shop")])
    assert az_imds(*NP, "apply", *TARGET, "--exempt-namespaces", "legacy", "--yes").code == 0
    (ccnp,) = _objects(admin, "CiliumClusterwideNetworkPolicy")
    assert "legacy" in ccnp["spec"]["endpointSelector"]["matchExpressions"][0]["values"]
    admin.clear_requests()
    r = az_imds(*NP, "apply", *TARGET, "--yes", "-o", "json")
    assert r.code == 0 and r.json["changes"] == [] and _kube_writes(admin) == []
    assert "legacy" in {e["namespace"] for e in r.json["namespaces"]["exempt"]}
    # Given again, it replaces them: one PUT of the same object, no gap without a block.
    r = az_imds(*NP, "apply", *TARGET, "--exempt-namespaces", "", "--yes", "-o", "json")
    assert r.code == 0 and [c["action"] for c in r.json["changes"]] == ["replace"]
    assert [e["method"] for e in _kube_writes(admin)] == ["PUT"]
    assert "legacy" in r.json["namespaces"]["protected"]


def test_a_cluster_with_both_the_managed_setting_and_a_policy_is_reported_as_such(az_imds, seed_cluster):
    seed_cluster(restricted=True, network_policy="calico", objects=[namespace("shop")])
    applied = az_imds(*NP, "apply", *TARGET, "--yes", "-o", "json")
    assert applied.code == 0, applied.err
    assert applied.json["mode"] == "managed setting and network policy"
    v = az_imds(*VERIFY, "-o", "json")
    assert v.code == 0, v.err
    assert v.json["mechanism"].startswith("managed setting (podLinkLocalAccess: None) and network policy")
    # The node rule knows no namespaces: the exempt probe is blocked too, as expected.
    assert v.json["exemptProbe"]["expected"] == "blocked" and v.json["exemptProbe"]["verdict"] == "blocked"


def test_verify_table_shows_the_exempt_namespace_probe_as_a_row(az_imds, seed_cluster):
    seed_cluster(network_dataplane="cilium", addonProfiles=INSIGHTS, objects=[namespace("shop")])
    assert az_imds(*NP, "apply", *TARGET, "--yes").code == 0
    v = az_imds(*VERIFY, "-o", "json")
    assert v.code == 0, v.err
    exempt = v.json["exemptProbe"]  # -o json holds it
    assert (exempt["expected"], exempt["verdict"]) == ("reachable", "reachable") and exempt["node"]
    table = az_imds(*VERIFY, "-o", "table")
    assert table.code == 0, table.err
    lines = table.out.strip().splitlines()
    assert lines[0].split()[:5] == ["Pool", "Node", "Expected", "Verdict", "Reason"]
    [row] = [line for line in lines[2:] if "exempt namespace" in line]
    assert row.split()[2:4] == ["reachable", "reachable"]
    assert len(lines) == 2 + len(v.json["nodes"]) + 1  # every node, and the exempt probe


NO_CRD = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
          "message": "the server could not find the requested resource"}


def test_a_cilium_cluster_without_the_clusterwide_crd_is_refused_naming_the_fix(az_imds, admin, seed_cluster):
    seed_cluster(network_dataplane="cilium", addonProfiles=INSIGHTS, objects=[namespace("shop")])
    # The Cilium agent has not installed ciliumclusterwidenetworkpolicies.cilium.io (yet): its path is a 404.
    admin.fault(method="GET", path="ciliumclusterwidenetworkpolicies", status=404, count=1000, body=NO_CRD)
    r = az_imds(*NP, "apply", *TARGET, "--yes")
    assert r.code == 1
    assert "[ClusterwidePolicyNotServed]" in r.err and "CustomResourceDefinition is missing" in r.err
    assert "kubectl get crd ciliumclusterwidenetworkpolicies.cilium.io" in r.err
    assert "--mechanism per-namespace" in r.err
    assert _kube_writes(admin) == []  # refused before anything was written
    shown = az_imds(*NP, "show", *TARGET, "-o", "json")
    assert shown.code == 1 and shown.json["status"] == "not protected" and shown.json["mechanism"] is None
    assert [b["code"] for b in shown.json["blockers"]] == ["ClusterwidePolicyNotServed"]
    assert shown.json["changes"] == []  # nothing an apply could write
    # The fix it names works: NetworkPolicies, which Cilium enforces too.
    fixed = az_imds(*NP, "apply", *TARGET, "--mechanism", "per-namespace", "--yes", "-o", "json")
    assert fixed.code == 0, fixed.err
    assert fixed.json["mechanism"] == "per-namespace" and fixed.json["status"] == "protected"
    assert "shop" in fixed.json["namespaces"]["protected"]
