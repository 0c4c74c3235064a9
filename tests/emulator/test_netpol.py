"""The emulator's network policy evaluation (providers/kubernetes/netpol.py), case by case: pure functions, no
server. Each case is a cluster's engine and policies, a pod, and whether its connection to an address goes out."""
import pytest

from imds_ext.emulator.providers.kubernetes import netpol
from imds_ext.emulator.providers.kubernetes.netpol import Policies, engine_of, evaluate_egress
from tests.support.policies import allow_all_egress, block_imds, cilium_deny_imds, network_policy

IMDS, API = ("169.254.169.254", 80), ("10.0.0.1", 443)


def pod(namespace="shop", labels=None, host_network=False):
    return {"metadata": {"name": "p", "namespace": namespace, "labels": labels or {"app": "web"}},
            "spec": {"hostNetwork": host_network, "containers": [{"name": "c", "image": "curl"}]}}


def allowed(engine, policies, the_pod=None, to=IMDS, node_os="linux", namespaces=None):
    k8s = [p for p in policies if p["kind"] == "NetworkPolicy"]
    ccnp = [p for p in policies if p["kind"] == "CiliumClusterwideNetworkPolicy"]
    verdict = evaluate_egress(Policies(engine, k8s, ccnp, namespaces or {}), the_pod or pod(), *to,
                              node_os=node_os)
    return verdict.allowed


WEB_ONLY = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}
CASES = [
    # (what, engine, policies, pod, destination, IMDS reachable?)
    ("no engine: policies are stored, not enforced", "none", [block_imds("shop")], None, IMDS, True),
    ("no policy at all: a pod is not isolated", "azure", [], None, IMDS, True),
    ("Azure NPM blocks IMDS with except 169.254.169.254/32", "azure", [block_imds("shop")], None, IMDS, False),
    ("... and keeps every other address", "azure", [block_imds("shop")], None, API, True),
    ("Calico, the same", "calico", [block_imds("shop")], None, IMDS, False),
    ("Cilium enforces Kubernetes NetworkPolicy too", "cilium", [block_imds("shop")], None, IMDS, False),
    ("an allow-all policy (to left out) reopens it: policies add up", "azure",
     [block_imds("shop"), allow_all_egress("shop")], None, IMDS, True),
    ("so does an ipBlock 0.0.0.0/0 without except", "azure",
     [block_imds("shop"), network_policy("shop", "open", [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}])],
     None, IMDS, True),
    ("a policy in another namespace does not apply", "azure", [block_imds("other")], None, IMDS, True),
    ("nor one whose podSelector does not select the pod", "azure",
     [block_imds("shop", pod_selector={"matchLabels": {"app": "db"}})], None, IMDS, True),
    ("matchExpressions select", "azure", [block_imds("shop", pod_selector=WEB_ONLY)], None, IMDS, False),
    ("policyTypes left out: Egress is implied by egress rules", "azure",
     [{**block_imds("shop"), "spec": {"podSelector": {}, "egress": block_imds("shop")["spec"]["egress"]}}],
     None, IMDS, False),
    ("an Ingress-only policy does not isolate egress", "azure", [block_imds("shop", types=("Ingress",))], None,
     IMDS, True),
    ("deny-all egress (Egress, no rules) blocks everything", "azure", [network_policy("shop", "deny-all")],
     None, API, False),
    ("a rule's ports: 443 only leaves IMDS:80 out", "azure",
     [network_policy("shop", "https", [{"ports": [{"port": 443, "protocol": "TCP"}]}])], None, IMDS, False),
    ("... and lets 443 out", "azure",
     [network_policy("shop", "https", [{"ports": [{"port": 443, "protocol": "TCP"}]}])], None, API, True),
    ("a port range takes the port", "azure",
     [network_policy("shop", "range", [{"ports": [{"port": 1, "endPort": 1024}]}])], None, IMDS, True),
    ("a namespaceSelector peer names pods, never an address outside", "azure",
     [network_policy("shop", "pods", [{"to": [{"namespaceSelector": {}}]}])], None, IMDS, False),
    ("host-network pods are never selected", "azure", [network_policy("shop", "deny-all")],
     pod(host_network=True), IMDS, True),
    ("Cilium: a cluster-wide egressDeny blocks IMDS", "cilium", [cilium_deny_imds()], None, IMDS, False),
    ("... with enableDefaultDeny.egress false the rest stays open", "cilium", [cilium_deny_imds()], None, API, True),
    ("... without it, the deny policy puts the pod into default deny", "cilium",
     [cilium_deny_imds(default_deny=None)], None, API, False),
    ("Cilium: deny wins over an allow-all NetworkPolicy", "cilium",
     [cilium_deny_imds(), allow_all_egress("shop")], None, IMDS, False),
    ("Cilium: an exempt namespace (NotIn on io.kubernetes.pod.namespace) keeps IMDS", "cilium",
     [cilium_deny_imds(exempt=("kube-system",))], pod("kube-system"), IMDS, True),
    ("Cilium: host-network pods keep IMDS", "cilium", [cilium_deny_imds()], pod(host_network=True), IMDS, True),
    ("a cluster-wide policy means nothing without Cilium", "azure", [cilium_deny_imds()], None, IMDS, True),
]


@pytest.mark.parametrize("what, engine, policies, the_pod, to, expected", CASES, ids=[c[0] for c in CASES])
def test_egress_follows_the_engines_semantics(what, engine, policies, the_pod, to, expected):
    assert allowed(engine, policies, the_pod, to) is expected


def test_cilium_deny_on_another_port_or_address_does_not_touch_imds():
    other_port = cilium_deny_imds()
    other_port["spec"]["egressDeny"][0]["toPorts"][0]["ports"][0]["port"] = "443"
    other_cidr = cilium_deny_imds()
    other_cidr["spec"]["egressDeny"][0]["toCIDRSet"] = [{"cidr": "169.254.0.0/16", "except": ["169.254.169.254/32"]}]
    assert allowed("cilium", [other_port]) and allowed("cilium", [other_cidr])
    assert not allowed("cilium", [{**other_cidr, "spec": {**other_cidr["spec"], "egressDeny": [
        {"toCIDR": ["169.254.169.254/32"]}]}}])  # toCIDR, no ports: every port


def test_cilium_allow_rules_once_in_default_deny():
    def ccnp(*egress):
        return {"kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "x"},
                "spec": {"endpointSelector": {}, "egress": list(egress)}}

    assert not allowed("cilium", [ccnp({})])  # the empty rule: default deny, nothing allowed
    assert allowed("cilium", [ccnp({"toEntities": ["world"]})])
    assert allowed("cilium", [ccnp({"toEntities": ["all"]})], to=API)
    assert not allowed("cilium", [ccnp({"toEntities": ["cluster"]})])
    assert allowed("cilium", [ccnp({"toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]})])  # any address
    assert not allowed("cilium", [ccnp({"toCIDRSet": [{"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}]})])
    # a host policy (nodeSelector, no endpointSelector) selects no pod: it isolates nothing
    assert allowed("cilium", [{"kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "h"},
                               "spec": {"nodeSelector": {}, "egress": [{}]}}])


def test_cilium_selects_by_the_namespaces_labels_and_by_source_prefixed_keys():
    exempt_by_label = cilium_deny_imds()
    exempt_by_label["spec"]["endpointSelector"] = {"matchExpressions": [{
        "key": "k8s:io.cilium.k8s.namespace.labels.imds-ext.io/allow-imds", "operator": "NotIn", "values": ["true"]}]}
    labelled = {"shop": {"imds-ext.io/allow-imds": "true"}}
    assert allowed("cilium", [exempt_by_label], namespaces=labelled)
    assert not allowed("cilium", [exempt_by_label], namespaces={})
    by_app = cilium_deny_imds()
    by_app["spec"]["endpointSelector"] = {"matchLabels": {"any:app": "web"}}
    assert not allowed("cilium", [by_app]) and allowed("cilium", [by_app], pod(labels={"app": "db"}))
    reserved = cilium_deny_imds()
    reserved["spec"]["endpointSelector"] = {"matchLabels": {"reserved:host": ""}}
    assert allowed("cilium", [reserved])  # a source no pod has labels from


def test_azure_npm_on_windows_cannot_express_except():
    assert allowed("azure", [block_imds("shop")], node_os="windows")  # the except is lost: IMDS stays open
    assert not allowed("calico", [block_imds("shop")], node_os="windows")
    assert not allowed("azure", [network_policy("shop", "deny-all")], node_os="windows")


def test_the_verdict_names_what_decided():
    verdict = evaluate_egress(Policies("cilium", [allow_all_egress("shop")], [cilium_deny_imds()]), pod(), *IMDS)
    assert not verdict.allowed and "CiliumClusterwideNetworkPolicy deny-imds" in verdict.reason
    verdict = evaluate_egress(Policies("azure", [block_imds("shop")]), pod(), *IMDS)
    assert "NetworkPolicy shop/block-imds" in verdict.reason


@pytest.mark.parametrize("profile, engine", [
    ({}, "none"), ({"networkPolicy": "none"}, "none"), ({"networkPolicy": "azure"}, "azure"),
    ({"networkPolicy": "calico"}, "calico"), ({"networkPolicy": "cilium", "networkDataplane": "cilium"}, "cilium"),
    ({"networkDataplane": "cilium"}, "cilium"), ({"networkPolicy": "something-new"}, "none"),
])
def test_the_engine_comes_from_the_arm_network_profile(profile, engine):
    assert engine_of({"properties": {"networkProfile": profile}}) == engine
    assert bool(netpol.crds(engine)) is (engine == "cilium")


def test_network_policies_are_validated_as_the_api_server_does():
    assert netpol.network_policy_invalid("ok", block_imds("shop")) is None
    aks_sample = network_policy("shop", "sample", [{"to": [{"ipBlock": {"cidr": "10.10.0.0/0#example",
                                                                         "except": ["169.254.169.254/32"]}}]}])
    assert netpol.network_policy_invalid("sample", aks_sample) == (
        'NetworkPolicy.networking.k8s.io "sample" is invalid: spec.egress[0].to[0].ipBlock.cidr: Invalid value: '
        '"10.10.0.0/0#example": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')
    outside = network_policy("shop", "x", [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["169.254.0.0/16"]}}]}])
    assert "must be a strict subset of `cidr`" in netpol.network_policy_invalid("x", outside)
    both = network_policy("shop", "y", [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}, "podSelector": {}}]}])
    assert "may not specify both ipBlock and another peer" in netpol.network_policy_invalid("y", both)
