"""Network policy, as the cluster's engine enforces it on a pod's egress (docs/emulator.md, "Network policy"): pure
functions, no state.

The engine comes from the cluster's ARM body (`properties.networkProfile.networkPolicy`: `none`, `azure` for Azure
Network Policy Manager, `calico`, `cilium`; `networkDataplane: cilium` means Cilium whatever the policy says, as
Azure CNI powered by Cilium always enforces with Cilium). With `none` the API server stores policies and nobody
enforces them.

What is evaluated (Kubernetes documentation, "Network Policies"; Cilium documentation, "Policy Enforcement Modes",
"Deny Policies", "Layer 3/Layer 4 examples"):
- `networking.k8s.io/v1` NetworkPolicy (every engine): a pod is isolated for egress once a policy of its own
  namespace selects it (`podSelector`) and has Egress among its `policyTypes` (given, or implied by `egress` rules);
  it may then reach an address only if some rule of a policy selecting it allows it: a rule without `to` (or with an
  empty list) reaches every address, an `ipBlock` its `cidr` but its `except` blocks, pod and namespace selectors
  reach pods only (never an address outside the cluster); a rule without `ports` reaches every port. Policies add
  up: one allowing all egress reopens what another leaves out.
- `cilium.io/v2` CiliumClusterwideNetworkPolicy (Cilium only): `spec` or `specs`, each selecting endpoints by
  `endpointSelector` over the pod's labels and the labels Cilium derives (`io.kubernetes.pod.namespace`,
  `io.cilium.k8s.namespace.labels.<key>`, `io.cilium.k8s.policy.serviceaccount`; keys may carry the `k8s:` or `any:`
  source). A matching `egressDeny` rule (`toCIDR`, `toCIDRSet` with `except`, `toEntities`, `toPorts`) drops the
  traffic whatever any other policy allows. A policy with egress or egressDeny rules puts the endpoint into default
  deny for egress unless it says `enableDefaultDeny.egress: false`; an `egress` rule then allows what it names. An
  empty rule (`{}`) allows nothing (Cilium's idiom for default deny), a rule with only `toPorts` allows those ports
  to every address.
- Host-network pods are the node's own traffic: no policy selects them.
- Azure NPM on Windows nodes cannot express `except` (AKS documentation, "Use network policies"): the model takes
  an `ipBlock` there as its whole `cidr`, so an "everything but IMDS" policy leaves IMDS open on Windows nodes.

Not modelled: ingress (a probe's answer does not depend on it), named ports (an address outside the cluster has
none), Service address translation (the address the container names is the one evaluated), CiliumNetworkPolicy,
FQDN and L7 rules, host policies (`nodeSelector`), Calico's own GlobalNetworkPolicy, AdminNetworkPolicy.
"""
from __future__ import annotations

import dataclasses
import ipaddress
from typing import Iterable, List, Mapping, Optional, Sequence, Tuple

ENGINES = ("none", "azure", "calico", "cilium")
NETWORK_POLICIES = ("networking.k8s.io/v1", "networkpolicies")
CLUSTERWIDE = ("cilium.io/v2", "ciliumclusterwidenetworkpolicies")
NAMESPACE_LABEL = "io.kubernetes.pod.namespace"  # the label Cilium gives every endpoint: its pod's namespace
NAMESPACE_LABELS = "io.cilium.k8s.namespace.labels."  # prefix of the namespace's labels on each of its endpoints
SERVICE_ACCOUNT_LABEL = "io.cilium.k8s.policy.serviceaccount"
METADATA_NAME = "kubernetes.io/metadata.name"  # the label the API server puts on every namespace: its name
# The CustomResourceDefinition Cilium installs for its cluster-wide policies (cilium/cilium, pkg/k8s/apis/cilium.io).
CLUSTERWIDE_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "ciliumclusterwidenetworkpolicies.cilium.io",
                 "labels": {"io.cilium.k8s.crd.schema.version": "1.30.1"}},
    "spec": {"group": "cilium.io", "scope": "Cluster",
             "names": {"kind": "CiliumClusterwideNetworkPolicy", "listKind": "CiliumClusterwideNetworkPolicyList",
                       "plural": "ciliumclusterwidenetworkpolicies", "singular": "ciliumclusterwidenetworkpolicy",
                       "shortNames": ["ccnp"], "categories": ["cilium", "ciliumpolicy"]},
             "versions": [{"name": "v2", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object"}}}]},
}
_L3 = ("toCIDR", "toCIDRSet", "toEntities", "toEndpoints", "toServices", "toFQDNs", "toNodes", "toGroups",
       "toRequires")


def engine_of(cluster: dict) -> str:
    """The policy engine of a cluster, from its ARM resource: none, azure, calico or cilium."""
    network = ((cluster or {}).get("properties") or {}).get("networkProfile") or {}
    if str(network.get("networkDataplane") or "").lower() == "cilium":
        return "cilium"
    policy = str(network.get("networkPolicy") or "none").lower()
    return policy if policy in ENGINES else "none"


def crds(engine: str) -> List[dict]:
    """The CustomResourceDefinitions the engine brings: Cilium's cluster-wide policy, on Cilium only."""
    return [CLUSTERWIDE_CRD] if engine == "cilium" else []


@dataclasses.dataclass(frozen=True)
class Policies:
    """What decides a pod's egress in one cluster: its engine, its policies' bodies and its namespaces' labels."""
    engine: str = "none"
    network_policies: Sequence[dict] = ()  # networking.k8s.io/v1 NetworkPolicy, every namespace
    clusterwide: Sequence[dict] = ()  # cilium.io/v2 CiliumClusterwideNetworkPolicy
    namespace_labels: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str  # a sentence: which policy decided, or why none did


# ---- selectors -------------------------------------------------------------------------------------
def selects(selector: Optional[dict], labels: Mapping[str, str]) -> bool:
    """A LabelSelector (`matchLabels` and `matchExpressions` with In, NotIn, Exists, DoesNotExist) over `labels`;
    an empty selector selects everything. NotIn and DoesNotExist hold for a label that is absent."""
    if selector is None:
        return True
    if not isinstance(selector, dict):
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        value = labels.get(key)
        holds = {"In": value is not None and value in values, "NotIn": value is None or value not in values,
                 "Exists": value is not None, "DoesNotExist": value is None}.get(op, False)
        if not holds:
            return False
    return True


def _cilium_key(key: str) -> Optional[str]:
    """A Cilium selector key without its source (`k8s:` or `any:`); None for a source a pod has no labels of."""
    source, sep, rest = key.partition(":")
    if not sep or "/" in source or "." in source:  # no source: any source matches
        return key
    return rest if source in ("k8s", "any") else None


def _cilium_selects(selector: Optional[dict], labels: Mapping[str, str]) -> bool:
    if selector is None or not isinstance(selector, dict):
        return False  # no endpointSelector: a host policy (nodeSelector), which never selects a pod
    plain = {"matchLabels": {}, "matchExpressions": []}
    for key, value in (selector.get("matchLabels") or {}).items():
        stripped = _cilium_key(str(key))
        if stripped is None:
            return False
        plain["matchLabels"][stripped] = value
    for expr in selector.get("matchExpressions") or []:
        stripped = _cilium_key(str(expr.get("key", "")))
        if stripped is None:
            if expr.get("operator") in ("NotIn", "DoesNotExist"):
                continue  # a label no pod has: the requirement holds
            return False
        plain["matchExpressions"].append({**expr, "key": stripped})
    return selects(plain, labels)


def endpoint_labels(pod: dict, namespace_labels: Mapping[str, str]) -> dict:
    """The labels Cilium gives a pod's endpoint: its own, its namespace, its namespace's labels, its account."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    namespace = meta.get("namespace", "default")
    labels = dict(meta.get("labels") or {})
    labels[NAMESPACE_LABEL] = namespace
    labels[SERVICE_ACCOUNT_LABEL] = spec.get("serviceAccountName") or "default"
    labels["io.cilium.k8s.policy.cluster"] = "default"
    for key, value in {METADATA_NAME: namespace, **namespace_labels}.items():
        labels[NAMESPACE_LABELS + key] = value
    return labels


# ---- addresses and ports -----------------------------------------------------------------------------
def _within(address, cidr: str) -> bool:
    try:
        network = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return False  # what the API server would have refused matches nothing
    return address.version == network.version and address in network


def _in_block(block: dict, address, honour_except: bool = True) -> bool:
    if not isinstance(block, dict) or not _within(address, block.get("cidr", "")):
        return False
    return not honour_except or not any(_within(address, e) for e in block.get("except") or [])


def _k8s_port(entry: dict, port: int, protocol: str) -> bool:
    if str(entry.get("protocol") or "TCP").upper() != protocol:
        return False
    given = entry.get("port")
    if given is None:
        return True
    if not isinstance(given, int):
        return False  # a named port: a destination outside the cluster has none
    end = entry.get("endPort")
    return given <= port <= end if isinstance(end, int) else given == port


def _cilium_ports(rule: dict, port: int, protocol: str) -> Optional[bool]:
    """Whether the rule's `toPorts` take the port; None when it names no ports (every port)."""
    to_ports = rule.get("toPorts")
    if not to_ports:
        return None
    for entry in to_ports:
        for p in (entry or {}).get("ports") or [{"port": "0"}]:
            if str(p.get("protocol") or "ANY").upper() not in ("ANY", protocol):
                continue
            try:
                first = int(str(p.get("port") or "0"))
            except ValueError:
                continue  # a named port
            end = p.get("endPort")
            if first == 0 or (first <= port <= int(end) if isinstance(end, int) and end else first == port):
                return True
    return False


def _cilium_peers(rule: dict, address, entities: Iterable[str]) -> Optional[bool]:
    """Whether the rule's layer-3 part names the address; None when it has none (every address)."""
    if not any(rule.get(k) for k in _L3):
        return None
    if any(_within(address, c) for c in rule.get("toCIDR") or []):
        return True
    if any(_in_block(c, address) for c in rule.get("toCIDRSet") or []):
        return True
    # toEndpoints, toServices, toFQDNs, toNodes: pods, Services, names and nodes, never an address outside
    return bool(set(rule.get("toEntities") or []) & set(entities))


def _cilium_rule(rule: dict, address, port: int, protocol: str, entities: Iterable[str]) -> bool:
    if not isinstance(rule, dict):
        return False
    peers, ports = _cilium_peers(rule, address, entities), _cilium_ports(rule, port, protocol)
    if peers is None and ports is None:
        return False  # the empty rule: default deny, nothing allowed
    return peers is not False and ports is not False


# ---- the evaluation ------------------------------------------------------------------------------------
def _egress_type(spec: dict) -> bool:
    types = spec.get("policyTypes")
    if types:
        return "Egress" in types
    return bool(spec.get("egress"))  # policyTypes left out: Egress when the policy has egress rules


def _k8s_rule(rule: dict, address, port: int, protocol: str, honour_except: bool) -> bool:
    if not isinstance(rule, dict):
        return False
    ports = rule.get("ports") or []
    if ports and not any(_k8s_port(p or {}, port, protocol) for p in ports):
        return False
    peers = rule.get("to") or []
    if not peers:
        return True
    return any(_in_block(peer.get("ipBlock"), address, honour_except) for peer in peers
               if isinstance(peer, dict) and peer.get("ipBlock"))


def _name(body: dict) -> str:
    meta = body.get("metadata") or {}
    return f"{meta['namespace']}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))


def _specs(body: dict) -> List[dict]:
    specs = [body["spec"]] if isinstance(body.get("spec"), dict) else []
    return specs + [s for s in body.get("specs") or [] if isinstance(s, dict)]


def evaluate_egress(policies: Policies, pod: dict, address: str, port: int, protocol: str = "TCP",
                    node_os: str = "linux", entities: Tuple[str, ...] = ("world",)) -> Verdict:
    """Whether `pod` (its body: namespace, labels, hostNetwork, service account) may open a connection to
    `address:port` over `protocol` under `policies`, on a node of `node_os`; `entities`: the Cilium entities the
    address belongs to (`world` for anything outside the cluster; `all` always)."""
    if policies.engine not in ENGINES[1:]:
        return Verdict(True, "no network policy engine (networkPolicy: none): policies are stored, not enforced")
    if (pod.get("spec") or {}).get("hostNetwork"):
        return Verdict(True, "a host-network pod: no network policy selects it")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return Verdict(True, f"{address} is not an address: no ipBlock or CIDR names it")
    protocol = protocol.upper()
    world = ("world-ipv4" if ip.version == 4 else "world-ipv6") if "world" in entities else None
    entities = (*entities, "all", *([world] if world else []))
    meta = pod.get("metadata") or {}
    namespace, labels = meta.get("namespace", "default"), meta.get("labels") or {}
    isolated, allowed = [], []
    honour_except = not (policies.engine == "azure" and node_os == "windows")
    for body in policies.network_policies:
        spec = body.get("spec") or {}
        if (body.get("metadata") or {}).get("namespace", "default") != namespace or not _egress_type(spec):
            continue
        if not selects(spec.get("podSelector") or {}, labels):
            continue
        isolated.append(f"NetworkPolicy {_name(body)}")
        if any(_k8s_rule(r, ip, port, protocol, honour_except) for r in spec.get("egress") or []):
            allowed.append(f"NetworkPolicy {_name(body)}")
    if policies.engine == "cilium":
        endpoint = endpoint_labels(pod, policies.namespace_labels.get(namespace) or {})
        for body in policies.clusterwide:
            for spec in _specs(body):
                if not _cilium_selects(spec.get("endpointSelector"), endpoint):
                    continue
                what = f"CiliumClusterwideNetworkPolicy {_name(body)}"
                if any(_cilium_rule(r, ip, port, protocol, entities) for r in spec.get("egressDeny") or []):
                    return Verdict(False, f"denied by {what} (egressDeny): deny rules win over every allow")
                default_deny = (spec.get("enableDefaultDeny") or {}).get("egress")
                if default_deny is None:
                    default_deny = bool(spec.get("egress") or spec.get("egressDeny"))
                if default_deny:
                    isolated.append(what)
                if any(_cilium_rule(r, ip, port, protocol, entities) for r in spec.get("egress") or []):
                    allowed.append(what)
    if not isolated:
        return Verdict(True, "no egress policy selects the pod")
    if allowed:
        return Verdict(True, f"allowed by {', '.join(dict.fromkeys(allowed))}")
    return Verdict(False, f"isolated for egress by {', '.join(dict.fromkeys(isolated))}, and no rule of them "
                   f"allows {address}:{port}/{protocol}")


# ---- validation, as the API server's ----------------------------------------------------------------------
_CIDR_RULE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


def _cidr(text):
    try:
        return ipaddress.ip_network(str(text), strict=False) if isinstance(text, str) else None
    except ValueError:
        return None


def network_policy_invalid(name: str, body: dict) -> Optional[str]:
    """The API server's 422 sentence for a NetworkPolicy it refuses (pkg/apis/networking/validation): policy types
    other than Ingress and Egress, a peer naming nothing or an ipBlock beside selectors, an ipBlock whose cidr is
    not a CIDR or whose except is not a strict subset of it. None when it is valid."""
    spec = body.get("spec") or {}
    problems = []
    for i, kind in enumerate(spec.get("policyTypes") or []):
        if kind not in ("Ingress", "Egress"):
            problems.append(f'spec.policyTypes[{i}]: Unsupported value: "{kind}": supported values: "Egress", '
                            '"Ingress"')
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for r, rule in enumerate(spec.get(direction) or []):
            for p, peer in enumerate((rule or {}).get(peers_key) or []):
                where = f"spec.{direction}[{r}].{peers_key}[{p}]"
                peer = peer or {}
                block = peer.get("ipBlock")
                if not any(peer.get(k) is not None for k in ("ipBlock", "podSelector", "namespaceSelector")):
                    problems.append(f"{where}: Required value: must specify a peer")
                    continue
                if block is None:
                    continue
                if peer.get("podSelector") is not None or peer.get("namespaceSelector") is not None:
                    problems.append(f"{where}: Forbidden: may not specify both ipBlock and another peer")
                cidr = _cidr(block.get("cidr"))
                if cidr is None:
                    problems.append(f'{where}.ipBlock.cidr: Invalid value: "{block.get("cidr", "")}": {_CIDR_RULE}')
                    continue
                for e, text in enumerate(block.get("except") or []):
                    inner = _cidr(text)
                    if inner is None:
                        problems.append(f'{where}.ipBlock.except[{e}]: Invalid value: "{text}": {_CIDR_RULE}')
                    elif inner.version != cidr.version or not inner.subnet_of(cidr) or inner.prefixlen <= \
                            cidr.prefixlen:
                        problems.append(f'{where}.ipBlock.except[{e}]: Invalid value: "{text}": must be a strict '
                                        "subset of `cidr`")
    if not problems:
        return None
    listed = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
    return f'NetworkPolicy.networking.k8s.io "{name}" is invalid: {listed}'
