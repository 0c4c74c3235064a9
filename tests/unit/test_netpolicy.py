"""The network-policy block's pure planning (core/netpolicy.py): the mechanism from the ARM body, the exemptions,
the objects imds-ext owns, what an apply writes, and the audit of policies that reopen IMDS."""
import pytest

from imds_ext.core import netpolicy as np
from tests.support.clusters import cluster_body, pool
from tests.support.policies import allow_all_egress, block_imds, namespace, network_policy


def _choose(**body):
    return np.choose(cluster_body(**body), "rg", "c1")


@pytest.mark.parametrize("body, engine, mechanism", [
    ({"network_dataplane": "cilium"}, "cilium", np.CLUSTERWIDE),
    ({"network_policy": "azure", "network_dataplane": "cilium"}, "cilium", np.CLUSTERWIDE),
    ({"network_policy": "azure"}, "azure", np.PER_NAMESPACE),
    ({"network_policy": "Calico"}, "calico", np.PER_NAMESPACE),
    ({}, "none", None),
    ({"network_policy": "none"}, "none", None),
])
def test_the_mechanism_is_the_strongest_the_engine_enforces(body, engine, mechanism):
    choice = _choose(**body)
    assert (choice.engine, choice.mechanism) == (engine, mechanism)
    assert bool(choice.blockers) == (mechanism is None)


def test_no_engine_is_refused_with_the_commands_that_install_one_and_their_cost():
    (finding,) = _choose().blockers
    assert finding.code == "NoNetworkPolicyEngine"
    assert "az aks update -g rg -n c1 --network-dataplane cilium" in finding.fix
    assert "--network-policy calico" in finding.fix and "reimages every node pool" in finding.cost
    # Windows pools rule Cilium out: only Calico is offered
    windows = _choose(pools=["nodepool1", pool("win", os_type="Windows")]).blockers[0]
    assert "cilium" not in windows.fix and "--network-policy calico" in windows.fix


def test_mechanism_overrides_only_where_the_engine_enforces_it():
    assert np.choose(cluster_body(network_dataplane="cilium"), "rg", "c1", np.PER_NAMESPACE).mechanism == \
        np.PER_NAMESPACE
    refused = np.choose(cluster_body(network_policy="calico"), "rg", "c1", np.CLUSTERWIDE)
    assert refused.mechanism is None and refused.blockers[0].code == "MechanismNotEnforced"


def test_windows_pools_are_not_covered():
    body = cluster_body(network_policy="azure", pools=["nodepool1", pool("win", os_type="Windows")])
    (row,) = np.uncovered_pools(body, "azure")
    assert row["pool"] == "win" and "except" in row["reason"]
    assert np.status_of([], [row], np.PER_NAMESPACE) == np.PARTIAL


def test_exemptions_defaults_flag_and_label_each_with_why():
    namespaces = [namespace("kube-system"), namespace("shop"), namespace("legacy"),
                  namespace("monitoring", {np.ALLOW_LABEL: "true"}),
                  namespace("imds-probe-1", {np.MANAGED_BY: "imds-ext", np.COMPONENT: "node-probe"})]
    rows = {r["namespace"]: r for r in np.exemptions(namespaces, ["legacy"])}
    assert set(rows) == {"kube-system", "gatekeeper-system", "app-routing-system", "legacy", "monitoring"}
    assert rows["gatekeeper-system"]["present"] is False and "Azure Policy" in rows["gatekeeper-system"]["reason"]
    assert rows["legacy"]["reason"] == "named in --exempt-namespaces"
    # verify's own probe namespaces are neither covered nor exempt: verify covers them itself
    assert np.covered_namespaces(namespaces, ["legacy"]) == ["shop"]


def test_the_clusterwide_policy_denies_only_imds_and_keeps_the_rest_open():
    body = np.clusterwide_policy(["legacy"])
    spec = body["spec"]
    assert spec["enableDefaultDeny"] == {"egress": False, "ingress": False}
    assert spec["egressDeny"] == [{"toCIDR": ["169.254.169.254/32"]}] and "egress" not in spec
    namespaces, allow = spec["endpointSelector"]["matchExpressions"]
    assert namespaces == {"key": "k8s:io.kubernetes.pod.namespace", "operator": "NotIn",
                          "values": ["app-routing-system", "gatekeeper-system", "kube-system", "legacy"]}
    assert allow == {"key": "k8s:io.cilium.k8s.namespace.labels.imds-ext.io/allow-imds", "operator": "NotIn",
                     "values": ["true"]}
    assert body["metadata"]["annotations"][np.EXEMPT_ANNOTATION] == "legacy"
    assert np.is_owned(body)


def test_the_namespace_policy_allows_everything_but_imds_and_ipv6_on_dual_stack():
    body = np.namespace_policy("shop", dual=True)
    assert body["spec"]["podSelector"] == {} and body["spec"]["policyTypes"] == ["Egress"]
    peers = body["spec"]["egress"][0]["to"]
    assert peers == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}},
                     {"ipBlock": {"cidr": "::/0"}}]
    assert np.reopening_rule(body) is None  # its own rule does not reopen it
    assert np.dual_stack({"properties": {"networkProfile": {"ipFamilies": ["IPv4", "IPv6"]}}})
    assert not np.dual_stack(cluster_body())


@pytest.mark.parametrize("egress, reopens", [
    ([{}], "egress rule 1 allows every address"),
    ([{"to": []}], "egress rule 1 allows every address"),
    ([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}], "egress rule 1 allows 0.0.0.0/0, which holds 169.254.169.254"),
    ([{"to": [{"ipBlock": {"cidr": "169.254.0.0/16"}}], "ports": [{"port": 80}]}], "allows 169.254.0.0/16"),
    ([{"to": [{"ipBlock": {"cidr": "169.254.0.0/16"}}], "ports": [{"port": 1, "endPort": 1000}]}], "169.254.0.0/16"),
    ([{"ports": [{"port": 53, "protocol": "UDP"}]}], None),  # DNS only
    ([{"to": [{"ipBlock": {"cidr": "169.254.0.0/16"}}], "ports": [{"port": 443}]}], None),
    ([{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}]}], None),
    ([{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}], None),
    ([{"to": [{"namespaceSelector": {}}]}], None),  # pods only
    ([{"ports": [{"port": "http"}]}], None),  # a named port: an address outside the cluster has none
    ([{"to": [{"ipBlock": {"cidr": "::/0"}}]}], None),
])
def test_the_audit_finds_the_rules_that_reopen_imds(egress, reopens):
    found = np.reopening_rule(network_policy("shop", "other", egress))
    assert (found is None) if reopens is None else (reopens in found)


def test_an_ingress_only_policy_never_reopens():
    assert np.reopening_rule(network_policy("shop", "in", [{}], types=("Ingress",))) is None


def test_audit_covers_only_covered_namespaces_and_names_the_pods():
    policies = [allow_all_egress("shop", pod_selector={"matchLabels": {"app": "legacy"}}),
                allow_all_egress("kube-system"), np.namespace_policy("shop")]
    assert np.audit(policies, ["shop"]) == [{"namespace": "shop", "policy": "allow-all-egress",
                                             "rule": "egress rule 1 allows every address",
                                             "pods": "pods matching app=legacy"}]


def _owned(namespaces, version="7"):
    out = []
    for ns in namespaces:
        body = np.namespace_policy(ns)
        body["metadata"]["resourceVersion"] = version
        out.append(body)
    return out


def test_apply_writes_what_is_missing_and_nothing_when_everything_is_in_place():
    writes = np.plan_apply(np.PER_NAMESPACE, ["a", "b"], _owned(["a"]), [], [])
    assert [str(w) for w in writes] == ["create NetworkPolicy b/imds-ext-deny-imds"]
    assert np.plan_apply(np.PER_NAMESPACE, ["a", "b"], _owned(["a", "b"]), [], []) == []


def test_apply_replaces_a_changed_policy_at_its_version_and_deletes_where_now_exempt():
    changed = _owned(["a", "gone"])
    changed[0]["spec"]["egress"] = [{}]
    writes = np.plan_apply(np.PER_NAMESPACE, ["a"], changed, [], [])
    assert [(w.verb, w.namespace) for w in writes] == [("replace", "a"), ("delete", "gone")]
    assert writes[0].body["metadata"]["resourceVersion"] == "7"
    assert writes[0].path.endswith("/namespaces/a/networkpolicies/imds-ext-deny-imds")


def test_a_change_of_mechanism_creates_first_and_deletes_last():
    writes = np.plan_apply(np.CLUSTERWIDE, ["a"], _owned(["a"]), [], [])
    assert [(w.verb, w.kind) for w in writes] == [("create", "CiliumClusterwideNetworkPolicy"),
                                                  ("delete", "NetworkPolicy")]
    back = np.plan_apply(np.PER_NAMESPACE, ["a"], [], [np.clusterwide_policy()], [])
    assert [(w.verb, w.kind) for w in back] == [("create", "NetworkPolicy"),
                                                ("delete", "CiliumClusterwideNetworkPolicy")]


def test_remove_plans_only_owned_objects():
    users = block_imds("shop")
    writes = np.plan_remove(_owned(["a"]) + [users], [np.clusterwide_policy()])
    assert [str(w) for w in writes] == ["delete CiliumClusterwideNetworkPolicy imds-ext-deny-imds",
                                        "delete NetworkPolicy a/imds-ext-deny-imds"]


def test_assess_names_why_each_namespace_is_not_protected():
    state = np.assess(np.PER_NAMESPACE, ["a", "b", "c"], _owned(["a", "b"]), [], [allow_all_egress("b")], [])
    assert state["protected"] == ["a"]
    reasons = {u["namespace"]: u["reason"] for u in state["uncovered"]}
    assert "reopens IMDS for every pod" in reasons["b"] and "run apply" in reasons["c"]
    assert np.status_of(state["uncovered"], [], np.PER_NAMESPACE) == np.NOT_PROTECTED
    # Cilium's deny wins: no allow reopens it, so no audit
    cilium = np.assess(np.CLUSTERWIDE, ["b"], [], [np.clusterwide_policy()], [allow_all_egress("b")], [])
    assert cilium["protected"] == ["b"] and cilium["reopenedBy"] == []


def test_recorded_exemptions_come_back_from_the_objects():
    assert np.recorded_exemptions([np.clusterwide_policy(["legacy", "kube-system"])]) == ["legacy"]
    assert np.recorded_exemptions([]) is None
