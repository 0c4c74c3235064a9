"""IMDS blocked by network policy, for the clusters the managed setting cannot serve (docs/network-policy.md): which
mechanism the cluster's engine enforces, the objects imds-ext owns, what an apply would write, and the audit of the
other policies that would reopen IMDS. Pure functions over the wire-format cluster and Kubernetes objects; the
reads and writes are in netpolicy_flow.py.

- Cilium (`networkDataplane: cilium`): one `cilium.io/v2` CiliumClusterwideNetworkPolicy whose `egressDeny` drops
  every packet to 169.254.169.254/32 from every endpoint outside the exempt namespaces. Deny rules win over every
  allow, so no other policy can reopen it; `enableDefaultDeny.egress: false` keeps the rest of their egress as it
  was (without it, Cilium puts every endpoint the policy selects into default deny).
- Azure NPM or Calico: a `networking.k8s.io/v1` NetworkPolicy in every non-exempt namespace that allows all egress
  but 169.254.169.254/32. Policies add up, so any other egress policy allowing that address (or everything) to the
  same pods reopens it: the audit names it, and that namespace is not protected.
- No engine (`networkPolicy: none`, the default since API version 2024-05-01): a policy is stored and enforced by
  nobody, so apply refuses, with the command that installs an engine.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Iterable, List, Mapping, Optional, Sequence, Tuple

from imds_ext.core.cluster import agent_pools, properties
from imds_ext.core.preflight import Finding

IMDS_ADDRESS = "169.254.169.254"
IMDS_CIDR = f"{IMDS_ADDRESS}/32"  # exactly IMDS: LocalDNS (169.254.10.0/24) and NodeLocal DNSCache stay reachable
IMDS_PORT = 80  # the only port IMDS serves (HTTP); the managed setting's node rule drops TCP 80 to it
POLICY_NAME = "imds-ext-deny-imds"
MANAGED_BY, COMPONENT, COMPONENT_VALUE = "app.kubernetes.io/managed-by", "imds-ext.io/component", "imds-block"
OWNED_SELECTOR = f"{MANAGED_BY}=imds-ext,{COMPONENT}={COMPONENT_VALUE}"
PROBE_COMPONENT = "node-probe"  # verify's own namespaces: transient, verify puts the policy there itself
ALLOW_LABEL = "imds-ext.io/allow-imds"  # a namespace labelled true keeps IMDS
EXEMPT_ANNOTATION = "imds-ext.io/exempt-namespaces"  # the --exempt-namespaces of the apply that wrote the object
NETWORK_POLICIES = "/apis/networking.k8s.io/v1/networkpolicies"
CLUSTERWIDE_POLICIES = "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies"
CILIUM_NAMESPACE_KEY = "k8s:io.kubernetes.pod.namespace"
CILIUM_ALLOW_KEY = f"k8s:io.cilium.k8s.namespace.labels.{ALLOW_LABEL}"

CLUSTERWIDE, PER_NAMESPACE = "cilium-clusterwide", "per-namespace"
MECHANISMS = (CLUSTERWIDE, PER_NAMESPACE)
ENGINES = ("none", "azure", "calico", "cilium")
ENGINE_NAMES = {"azure": "Azure Network Policy Manager", "calico": "Calico", "cilium": "Cilium", "none": "none"}
# Namespaces exempt by default: the AKS add-ons that need IMDS run there (their agents take tokens from it).
DEFAULT_EXEMPT = {
    "kube-system": "AKS's own components and add-on agents (Container Insights, cloud-node-manager, CSI drivers) "
                   "run here and take their tokens from IMDS",
    "gatekeeper-system": "Azure Policy's Gatekeeper runs here and reaches Azure through IMDS",
    "app-routing-system": "the application routing add-on runs here and takes its token from IMDS",
}
PROTECTED, PARTIAL, NOT_PROTECTED = "protected", "partial", "not protected"


# ---- the cluster, from ARM ---------------------------------------------------------------------------
def _network(cluster: Mapping) -> Mapping:
    return properties(cluster).get("networkProfile") or {}


def engine_of(cluster: Mapping) -> str:
    """The policy engine of the cluster: `cilium` with the Cilium dataplane whatever networkPolicy says (Azure CNI
    powered by Cilium enforces with Cilium), else networkPolicy (`azure`, `calico`, `cilium`), else `none`."""
    network = _network(cluster)
    if str(network.get("networkDataplane") or "").lower() == "cilium":
        return "cilium"
    engine = str(network.get("networkPolicy") or "none").lower()
    return engine if engine in ENGINES else "none"


def dual_stack(cluster: Mapping) -> bool:
    return any(str(f).lower() == "ipv6" for f in _network(cluster).get("ipFamilies") or [])


def windows_pools(cluster: Mapping) -> List[str]:
    return [str(p.get("name")) for p in agent_pools(cluster) if str(p.get("osType") or "Linux").lower() == "windows"]


def mechanisms(engine: str) -> Tuple[str, ...]:
    """The mechanisms an engine enforces, strongest first (Cilium also enforces Kubernetes NetworkPolicy)."""
    return {"cilium": (CLUSTERWIDE, PER_NAMESPACE), "azure": (PER_NAMESPACE,), "calico": (PER_NAMESPACE,)}.get(
        engine, ())


def uncovered_pools(cluster: Mapping, engine: str) -> List[dict]:
    """The pools whose pods a policy does not keep from IMDS, each with the reason."""
    reasons = {
        "azure": "Azure Network Policy Manager on Windows cannot express an ipBlock 'except', so the policy would "
                 "allow its pods everything, IMDS included (and NPM on Windows is retired on 2026-09-30)",
        "calico": "verify probes Linux nodes only, so nothing proves Calico's Windows policy here: treat it as open",
        "cilium": "Cilium enforces nothing on Windows nodes",
    }
    why = reasons.get(engine, "no network policy engine")
    return [{"pool": p, "osType": "Windows", "reason": why} for p in windows_pools(cluster)]


@dataclass
class Choice:
    engine: str
    mechanism: Optional[str]
    blockers: List[Finding] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)


def engine_fix(cluster: Mapping, resource_group: str, name: str) -> Finding:
    """The finding of a cluster with no engine, with the commands that install one and what they cost."""
    plugin = str(_network(cluster).get("networkPlugin") or "").lower()
    target = f"-g {resource_group} -n {name}"
    cilium = f"az aks update {target} --network-dataplane cilium"
    calico = f"az aks update {target} --network-policy calico"
    if plugin == "azure" and not windows_pools(cluster):
        fix = f"'{cilium}' (the strongest: one cluster-wide deny no other policy can reopen), or '{calico}'"
    else:
        fix = f"'{calico}'" + ("" if plugin == "azure" else " (Azure CNI powered by Cilium needs Azure CNI)")
    return Finding(
        "NoNetworkPolicyEngine",
        "The cluster enforces no network policy (networkProfile.networkPolicy: none, the default since API version "
        "2024-05-01): a policy would be stored by the API server and enforced by nobody, so IMDS would stay open.",
        fix,
        cost="an update of the whole cluster that runs for minutes: moving to the Cilium dataplane reimages every "
             "node pool at once, and installing an engine rolls the nodes like an upgrade; Azure Network Policy "
             "Manager is not offered because it is being retired (Linux on 2028-09-30)")


def choose(cluster: Mapping, resource_group: str, name: str, requested: Optional[str] = None) -> Choice:
    """The strongest mechanism the cluster's engine enforces, or `requested` where the engine enforces it too;
    the blockers (each with its fix) when there is none."""
    engine = engine_of(cluster)
    available = mechanisms(engine)
    if not available:
        return Choice(engine, None, [engine_fix(cluster, resource_group, name)])
    if requested and requested not in available:
        return Choice(engine, None, [Finding(
            "MechanismNotEnforced",
            f"--mechanism {requested}: the cluster's engine ({ENGINE_NAMES[engine]}) does not enforce it; it "
            f"enforces {', '.join(available)}.",
            f"pass --mechanism {available[0]}, or leave --mechanism out")])
    chosen = requested or available[0]
    choice = Choice(engine, chosen)
    if engine == "cilium" and chosen == PER_NAMESPACE:
        choice.warnings.append(
            "Per-namespace NetworkPolicies on Cilium: another policy can reopen IMDS, and Cilium's ipBlock does not "
            "select node addresses, so host-network services on the nodes are cut off from the covered pods; the "
            f"cluster-wide policy (--mechanism {CLUSTERWIDE}) has neither problem.")
    return choice


def clusterwide_not_served(instead: str, then: str = "") -> Finding:
    """The finding of a Cilium cluster whose API server does not serve the cluster-wide policy (its CRD missing):
    the mechanism chosen cannot be written. `instead`: how to take the per-namespace mechanism instead; `then`: what
    to run once the CRD is there."""
    return Finding(
        "ClusterwidePolicyNotServed",
        "The API server does not serve cilium.io/v2 CiliumClusterwideNetworkPolicy (its CustomResourceDefinition is "
        "missing), although the cluster's dataplane is Cilium.",
        f"wait for the Cilium agent to install it ('kubectl get crd ciliumclusterwidenetworkpolicies.cilium.io')"
        f"{then}, or {instead}")


# ---- namespaces and exemptions ---------------------------------------------------------------------------
def _meta(obj: Mapping) -> Mapping:
    return obj.get("metadata") or {}


def _labels(obj: Mapping) -> Mapping:
    return _meta(obj).get("labels") or {}


def is_transient(namespace: Mapping) -> bool:
    """Namespaces that are going away, or verify's own probe namespaces (verify covers those itself)."""
    labels = _labels(namespace)
    terminating = "deletionTimestamp" in _meta(namespace) or (namespace.get("status") or {}).get("phase") == \
        "Terminating"
    return terminating or (labels.get(MANAGED_BY) == "imds-ext" and labels.get(COMPONENT) == PROBE_COMPONENT)


def exempt_names(extra: Optional[Iterable[str]]) -> List[str]:
    """The exempt namespaces by name: the defaults and --exempt-namespaces, sorted, each once."""
    return sorted(set(DEFAULT_EXEMPT) | {n for n in extra or () if n})


def exemptions(namespaces: Sequence[Mapping], extra: Optional[Iterable[str]]) -> List[dict]:
    """Every exempt namespace with why: the defaults (present or not), --exempt-namespaces, and the namespaces
    labelled imds-ext.io/allow-imds=true."""
    present = {_meta(ns).get("name") for ns in namespaces}
    rows = {}
    for ns_name in exempt_names(extra):
        why = DEFAULT_EXEMPT.get(ns_name) or "named in --exempt-namespaces"
        rows[ns_name] = {"namespace": ns_name, "reason": why, "present": ns_name in present}
    for ns in namespaces:
        ns_name = _meta(ns).get("name")
        if _labels(ns).get(ALLOW_LABEL) == "true" and ns_name not in rows:
            rows[ns_name] = {"namespace": ns_name, "reason": f"labelled {ALLOW_LABEL}=true", "present": True}
    return [rows[k] for k in sorted(rows)]


def covered_namespaces(namespaces: Sequence[Mapping], extra: Optional[Iterable[str]]) -> List[str]:
    """The namespaces the block applies to: every one that is neither exempt nor transient."""
    exempt = {row["namespace"] for row in exemptions(namespaces, extra)}
    return sorted(_meta(ns).get("name") for ns in namespaces
                  if _meta(ns).get("name") not in exempt and not is_transient(ns))


def recorded_exemptions(owned: Sequence[Mapping]) -> Optional[List[str]]:
    """The --exempt-namespaces the last apply recorded on its objects (None when it wrote none)."""
    for obj in owned:
        value = (_meta(obj).get("annotations") or {}).get(EXEMPT_ANNOTATION)
        if value is not None:
            return [n for n in value.split(",") if n and n not in DEFAULT_EXEMPT]
    return None


# ---- the objects imds-ext owns ------------------------------------------------------------------------------
def _owned_meta(extra: Sequence[str], namespace: Optional[str] = None) -> dict:
    meta = {"name": POLICY_NAME,
            "labels": {MANAGED_BY: "imds-ext", COMPONENT: COMPONENT_VALUE},
            "annotations": {EXEMPT_ANNOTATION: ",".join(sorted(set(extra) - set(DEFAULT_EXEMPT)))}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def namespace_policy(namespace: str, dual: bool = False, extra: Sequence[str] = ()) -> dict:
    """The NetworkPolicy of one covered namespace: every pod isolated for egress and allowed everything but IMDS
    (and, for Cilium, whose ipBlock does not select pods, every pod of the cluster by selector)."""
    peers = [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [IMDS_CIDR]}}]
    if dual:
        peers.append({"ipBlock": {"cidr": "::/0"}})  # IMDS has no IPv6 address: IPv6 egress stays as it was
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": _owned_meta(extra, namespace),
            "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                     "egress": [{"to": peers}, {"to": [{"namespaceSelector": {}}]}]}}


def clusterwide_policy(extra: Sequence[str] = ()) -> dict:
    """The one CiliumClusterwideNetworkPolicy: every endpoint outside the exempt namespaces (by name, or labelled
    imds-ext.io/allow-imds=true) is denied every packet to 169.254.169.254/32; nothing else changes for them."""
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": _owned_meta(extra),
            "spec": {"description": "imds-ext: pods outside the exempt namespaces cannot reach IMDS "
                                    f"({IMDS_CIDR}); nothing else is denied.",
                     "endpointSelector": {"matchExpressions": [
                         {"key": CILIUM_NAMESPACE_KEY, "operator": "NotIn", "values": exempt_names(extra)},
                         {"key": CILIUM_ALLOW_KEY, "operator": "NotIn", "values": ["true"]}]},
                     "enableDefaultDeny": {"egress": False, "ingress": False},
                     "egressDeny": [{"toCIDR": [IMDS_CIDR]}]}}


def is_owned(obj: Mapping) -> bool:
    labels = _labels(obj)
    return labels.get(MANAGED_BY) == "imds-ext" and labels.get(COMPONENT) == COMPONENT_VALUE


def _same(current: Mapping, desired: Mapping) -> bool:
    meta, want = _meta(current), _meta(desired)
    return (current.get("spec") == desired.get("spec")
            and all((meta.get("labels") or {}).get(k) == v for k, v in want["labels"].items())
            and all((meta.get("annotations") or {}).get(k) == v for k, v in want["annotations"].items()))


@dataclass
class Write:
    verb: str  # create, replace, delete
    path: str  # the collection (create) or the object
    kind: str
    name: str
    namespace: Optional[str] = None
    body: Optional[dict] = None

    def to_dict(self) -> dict:
        return {"action": self.verb, "kind": self.kind, "namespace": self.namespace, "name": self.name}

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.verb} {self.kind} {where}{self.name}"


def namespaced_path(namespace: str, name: Optional[str] = None) -> str:
    base = f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies"
    return f"{base}/{name}" if name else base


def plan_apply(mechanism: str, covered: Sequence[str], owned_np: Sequence[Mapping], owned_ccnp: Sequence[Mapping],
               extra: Sequence[str], dual: bool = False) -> List[Write]:
    """What makes the cluster match: the owned objects to create, to replace (changed since) and to delete (in a
    namespace now exempt, or of the other mechanism). Creates first, deletes last, so that a change of mechanism
    never leaves a moment without a block. Nothing when everything is as wanted."""
    creates: List[Write] = []
    deletes: List[Write] = []
    have = {_meta(p).get("namespace"): p for p in owned_np}
    if mechanism == CLUSTERWIDE:
        desired = clusterwide_policy(extra)
        current = next((p for p in owned_ccnp if _meta(p).get("name") == POLICY_NAME), None)
        if current is None:
            creates.append(Write("create", CLUSTERWIDE_POLICIES, "CiliumClusterwideNetworkPolicy", POLICY_NAME,
                                 body=desired))
        elif not _same(current, desired):
            creates.append(Write("replace", f"{CLUSTERWIDE_POLICIES}/{POLICY_NAME}", "CiliumClusterwideNetworkPolicy",
                                 POLICY_NAME, body={**desired, "metadata": {
                                     **desired["metadata"],
                                     "resourceVersion": _meta(current).get("resourceVersion")}}))
        for p in owned_ccnp:
            if _meta(p).get("name") != POLICY_NAME:
                deletes.append(Write("delete", f"{CLUSTERWIDE_POLICIES}/{_meta(p).get('name')}",
                                     "CiliumClusterwideNetworkPolicy", _meta(p).get("name")))
        wanted_ns: set = set()
    else:
        wanted_ns = set(covered)
        for ns in sorted(wanted_ns):
            desired = namespace_policy(ns, dual, extra)
            current = have.get(ns)
            if current is None:
                creates.append(Write("create", namespaced_path(ns), "NetworkPolicy", POLICY_NAME, ns, desired))
            elif not _same(current, desired):
                body = {**desired, "metadata": {**desired["metadata"],
                                                "resourceVersion": _meta(current).get("resourceVersion")}}
                creates.append(Write("replace", namespaced_path(ns, POLICY_NAME), "NetworkPolicy", POLICY_NAME, ns,
                                     body))
        for p in owned_ccnp:
            deletes.append(Write("delete", f"{CLUSTERWIDE_POLICIES}/{_meta(p).get('name')}",
                                 "CiliumClusterwideNetworkPolicy", _meta(p).get("name")))
    for p in owned_np:
        ns, pname = _meta(p).get("namespace"), _meta(p).get("name")
        if ns not in wanted_ns or pname != POLICY_NAME:
            deletes.append(Write("delete", namespaced_path(ns, pname), "NetworkPolicy", pname, ns))
    return creates + deletes


def plan_remove(owned_np: Sequence[Mapping], owned_ccnp: Sequence[Mapping]) -> List[Write]:
    """Every object imds-ext owns (by its labels), and nothing else."""
    writes = [Write("delete", f"{CLUSTERWIDE_POLICIES}/{_meta(p).get('name')}", "CiliumClusterwideNetworkPolicy",
                    _meta(p).get("name")) for p in owned_ccnp if is_owned(p)]
    return writes + [Write("delete", namespaced_path(_meta(p).get("namespace"), _meta(p).get("name")), "NetworkPolicy",
                           _meta(p).get("name"), _meta(p).get("namespace")) for p in owned_np if is_owned(p)]


# ---- the audit: other policies that reopen IMDS ---------------------------------------------------------------
def _port_takes_imds(entry: Mapping) -> bool:
    # The same reading of a NetworkPolicy port as the emulator's netpol.py, written again on purpose: the emulator
    # is an independent model of the cluster (docs/architecture.md), so one wrong reading cannot pass both.
    if str(entry.get("protocol") or "TCP").upper() != "TCP":
        return False
    port = entry.get("port")
    if port is None:
        return True
    if not isinstance(port, int):
        return False  # a named port: an address outside the cluster has none
    end = entry.get("endPort")
    return port <= IMDS_PORT <= end if isinstance(end, int) else port == IMDS_PORT


def _block_takes_imds(block: Mapping) -> Optional[str]:
    address = ipaddress.ip_address(IMDS_ADDRESS)
    try:
        cidr = ipaddress.ip_network(str(block.get("cidr")), strict=False)
    except ValueError:
        return None
    if cidr.version != 4 or address not in cidr:
        return None
    for text in block.get("except") or []:
        try:
            if address in ipaddress.ip_network(str(text), strict=False):
                return None
        except ValueError:
            continue
    return str(block.get("cidr"))


def reopening_rule(policy: Mapping) -> Optional[str]:
    """How another NetworkPolicy reopens IMDS, or None: an egress rule (of a policy that isolates for egress) that
    allows TCP 80 to every address (no `to`) or to an ipBlock that holds 169.254.169.254 and does not except it."""
    spec = policy.get("spec") or {}
    types = spec.get("policyTypes")
    if not ("Egress" in types if types else bool(spec.get("egress"))):
        return None
    for index, rule in enumerate(spec.get("egress") or []):
        rule = rule or {}
        ports = rule.get("ports") or []
        if ports and not any(_port_takes_imds(p or {}) for p in ports):
            continue
        peers = rule.get("to") or []
        if not peers:
            return f"egress rule {index + 1} allows every address" + ("" if not ports else " on port 80")
        for peer in peers:
            cidr = _block_takes_imds((peer or {}).get("ipBlock") or {}) if (peer or {}).get("ipBlock") else None
            if cidr:
                return f"egress rule {index + 1} allows {cidr}, which holds {IMDS_ADDRESS}"
    return None


def _selector_text(selector: Optional[Mapping]) -> str:
    if not selector:
        return "every pod"
    labels = ",".join(f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items()))
    exprs = ",".join(f"{e.get('key')} {e.get('operator')} {e.get('values') or ''}".strip()
                     for e in selector.get("matchExpressions") or [])
    return "pods matching " + ",".join(x for x in (labels, exprs) if x)


def audit(policies: Sequence[Mapping], covered: Iterable[str]) -> List[dict]:
    """Every policy imds-ext does not own that reopens IMDS in a covered namespace, with the rule and the pods."""
    covered = set(covered)
    found = []
    for policy in policies:
        meta = _meta(policy)
        if is_owned(policy) or meta.get("namespace") not in covered:
            continue
        rule = reopening_rule(policy)
        if rule:
            found.append({"namespace": meta.get("namespace"), "policy": meta.get("name"), "rule": rule,
                          "pods": _selector_text((policy.get("spec") or {}).get("podSelector"))})
    return sorted(found, key=lambda r: (r["namespace"], r["policy"]))


# ---- the state of the block -----------------------------------------------------------------------------------
def assess(mechanism: Optional[str], covered: Sequence[str], owned_np: Sequence[Mapping],
           owned_ccnp: Sequence[Mapping], others: Sequence[Mapping], extra: Sequence[str],
           dual: bool = False) -> dict:
    """Which covered namespaces the block holds in now (`protected`), which it does not and why (`uncovered`:
    no policy yet, one changed since, or another policy that reopens IMDS)."""
    reopened = audit(others, covered) if mechanism == PER_NAMESPACE else []
    by_ns = {r["namespace"]: r for r in reopened}
    pending = {w.namespace or "*" for w in plan_apply(mechanism, covered, owned_np, owned_ccnp, extra, dual)
               if w.verb != "delete"} if mechanism else {"*"}
    protected, uncovered = [], []
    for ns in covered:
        if "*" in pending or ns in pending:
            uncovered.append({"namespace": ns, "reason": "no block in place yet (run apply)" if mechanism else
                              "no network policy engine"})
        elif ns in by_ns:
            r = by_ns[ns]
            uncovered.append({"namespace": ns, "reason": f"NetworkPolicy {ns}/{r['policy']} reopens IMDS for "
                              f"{r['pods']}: {r['rule']}"})
        else:
            protected.append(ns)
    return {"protected": protected, "uncovered": uncovered, "reopenedBy": reopened}


def status_of(uncovered: Sequence[dict], pools: Sequence[dict], mechanism: Optional[str]) -> str:
    if mechanism is None or uncovered:
        return NOT_PROTECTED
    return PARTIAL if pools else PROTECTED


def policy_names(owned_np: Sequence[Mapping], owned_ccnp: Sequence[Mapping]) -> List[str]:
    return [f"CiliumClusterwideNetworkPolicy {_meta(p).get('name')}" for p in owned_ccnp] + \
        [f"NetworkPolicy {_meta(p).get('namespace')}/{_meta(p).get('name')}" for p in owned_np]

