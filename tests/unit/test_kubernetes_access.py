"""docs/kubernetes-access.md's RBAC ('Permissions') against the Kubernetes calls the core makes: every command's
calls, recorded at the one place they leave (KubeClient._send), must be granted by the ClusterRoles the doc gives for
it, and every grant must be used by some call, so that the doc stays least-privilege and true."""
import re
from pathlib import Path
from types import SimpleNamespace
from unittest import mock
from urllib.parse import urlsplit

import pytest
import yaml

from imds_ext.core import netpolicy as np
from imds_ext.core import netpolicy_flow, scan
from imds_ext.core.kube import KubeClient
from imds_ext.core.verification import Verification

DOC = Path(__file__).resolve().parents[2] / "docs" / "kubernetes-access.md"
VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
# Which ClusterRoles of the doc each command is told to bind.
ROLES = {"scan": ("imds-ext-scan",), "verify": ("imds-ext-verify",),
         "network-policy apply": ("imds-ext-network-policy",), "network-policy remove": ("imds-ext-network-policy",),
         "network-policy show": ("imds-ext-network-policy", "imds-ext-scan"),
         "rollout --fallback network-policy": ("imds-ext-network-policy", "imds-ext-scan")}


def granted():
    """{ClusterRole name: {(group, resource, verb)}} from the doc's YAML block under 'Permissions'."""
    section = DOC.read_text(encoding="utf-8").split("## Permissions", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    roles = {}
    for doc in yaml.safe_load_all(block):
        if doc and doc.get("kind") == "ClusterRole":
            roles[doc["metadata"]["name"]] = {(g, r, v) for rule in doc["rules"] for g in rule["apiGroups"]
                                              for r in rule["resources"] for v in rule["verbs"]}
    return roles


def rbac(method: str, path: str):
    """(group, resource, verb) of one request, as the API server's RBAC names it."""
    parts = urlsplit(path).path.strip("/").split("/")
    group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
    if rest[0] == "namespaces" and len(rest) > 2:
        rest = rest[2:]  # namespaced: the resource follows the namespace
    resource = "/".join(rest[:1] + rest[2:3])  # a subresource (pods/log) is its own
    verb = ("get" if len(rest) > 1 else "list") if method == "GET" else VERBS[method]
    return group, resource, verb


class _Answer:
    def __init__(self, body):
        self.status_code, self._body = 200, body

    def json(self):
        return self._body

    def text(self):
        return ""


class RecordingKube(KubeClient):
    """A cluster's API server as a dict of lists; every request the real client methods send is recorded."""

    def __init__(self, lists):
        self.lists, self.calls = lists, []

    def _send(self, method, path, body=None):
        self.calls.append(rbac(method, path))
        if method != "GET":
            return _Answer(body or {})
        bare = urlsplit(path).path
        return _Answer({"items": self.lists.get(bare, []), "metadata": {}} if bare in self.lists or
                       rbac(method, path)[2] == "list" else {"data": {}})

    def close(self):
        pass


def _ns(name, **labels):
    return {"metadata": {"name": name, "labels": labels}}


def _owned(obj):
    obj["metadata"].update(labels={np.MANAGED_BY: "imds-ext", np.COMPONENT: np.COMPONENT_VALUE}, resourceVersion="1")
    return obj


NODE = {"metadata": {"name": "aks-nodepool1-1-vmss0", "labels": {"kubernetes.io/os": "linux"}},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
POD = {"metadata": {"name": "app", "namespace": "shop"},
       "spec": {"containers": [{"name": "app", "envFrom": [{"configMapRef": {"name": "settings"}}]}]}}
NAMESPACES = [_ns("default"), _ns("shop"), _ns("kube-system")]


def _cluster(engine):
    network = {"networkDataplane": "cilium"} if engine == "cilium" else {"networkPolicy": engine}
    return {"properties": {"networkProfile": network, "agentPoolProfiles": []}}


def _lists(engine):
    """A cluster where apply creates, replaces and deletes objects of its mechanism (and the other's)."""
    stale = _owned(np.namespace_policy("shop"))
    stale["spec"]["egress"] = []  # changed since: replaced
    lists = {"/api/v1/namespaces": NAMESPACES, "/api/v1/nodes": [NODE], scan.PODS: [POD],
             np.NETWORK_POLICIES: [stale, _owned(np.namespace_policy("kube-system"))]}  # kube-system's: deleted
    if engine == "cilium":
        changed = _owned(np.clusterwide_policy())
        changed["spec"]["egressDeny"] = []
        other = _owned(np.clusterwide_policy())
        other["metadata"]["name"] = "imds-ext-old"
        lists[np.CLUSTERWIDE_POLICIES] = [changed, other]
    return lists


def _calls(operation, engine="calico"):
    kube = RecordingKube(_lists(engine))
    mc = _cluster(engine)
    ui = SimpleNamespace(warn=lambda message: None, confirm=lambda message: True, cli_name="az-imds")
    flow = netpolicy_flow.NetworkPolicyFlow(SimpleNamespace(get_cluster=lambda rg, name: mc, clients=None, ui=ui))
    if operation == "scan":
        scan.read_cluster(kube)
    elif operation == "verify":
        kube.lists["/api/v1/namespaces"] = [{"metadata": {"name": "imds-probe-old", "labels": {}, "annotations": {
            "imds-ext.io/expires-at": "2000-01-01T00:00:00Z"}}}]  # a killed run's, removed
        Verification(kube, ui, timeout=0, sleep=lambda s: None,
                     policy_of=lambda k: netpolicy_flow.probe_mode(k, mc, ui.warn)).run("c1", "IMDS", None, "img")
    elif operation.startswith("network-policy"):
        verb = operation.split()[-1]
        with mock.patch.object(netpolicy_flow, "kube_client", lambda *args, **kwargs: kube):
            getattr(flow, verb)("rg", "c1", **({"yes": True} if verb != "show" else {}))
            if verb == "apply" and engine == "cilium":  # and the create of a first apply
                del kube.lists[np.CLUSTERWIDE_POLICIES]
                flow.apply("rg", "c1", yes=True)
    else:  # the plan's reads (fleet.Rollout._fall_back), its workload scan (_scan), then apply in its wave
        choice = np.choose(mc, "rg", "c1")
        netpolicy_flow.read_for_plan(kube, choice)
        netpolicy_flow.covered_only(kube, scan.read_cluster(kube), [])
        with mock.patch.object(netpolicy_flow, "kube_client", lambda *args, **kwargs: kube):
            flow.apply("rg", "c1", yes=True)
    return set(kube.calls)


@pytest.mark.parametrize("engine", ["calico", "cilium"])
@pytest.mark.parametrize("operation", sorted(ROLES))
def test_the_documented_roles_grant_every_call_a_command_makes(operation, engine):
    roles = granted()
    allowed = set().union(*(roles.get(name, set()) for name in ROLES[operation]))
    missing = sorted(_calls(operation, engine) - allowed)
    assert not missing, f"{operation} ({engine}) needs {missing}, which {', '.join(ROLES[operation])} do not grant"


def test_the_documented_roles_grant_nothing_no_command_uses():
    used = set().union(*(_calls(op, engine) for op in ROLES for engine in ("calico", "cilium")))
    for name, grants in granted().items():
        assert not sorted(grants - used), f"{name} grants {sorted(grants - used)}, which no command uses"
