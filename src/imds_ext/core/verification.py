"""Proof, node by node, that the nodes enforce the IMDS setting: the documentation's check (docs/aks-kubernetes.md),
automated, with a verdict that rests on evidence (docs/kubernetes-access.md, "verify").

Two DaemonSets, limited by node affinity to the nodes chosen, in a namespace of the run's own: on the pod network
a `reference` container (the cluster's API service, which every pod must reach) and an `imds` container; on the
host network an `imds` control. Their exit codes (curl's), read from pod status in paged lists, give each node's
verdict:

- `enforced`: the pod-network IMDS connection timed out, while the reference answered and the host-network control
  got an IMDS answer on the same node;
- `open`: IMDS answered the pod-network probe;
- `inconclusive`: anything else, with the reason (not pulled, refused by admission, not scheduled, node NotReady,
  curl missing, killed, no pod egress at all, control failed); it never counts as either.

Two writes for any number of nodes (the controller places the pods); the namespace, labelled so that any later run
finds it, goes on every ending; a run that was killed leaves one that the next run removes once it has expired.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, List, Optional, Tuple

from imds_ext.core import constants
from imds_ext.core.errors import ImdsExtError
from imds_ext.core.kube import KubeClient, KubernetesRefused

IMDS_URL = "http://169.254.169.254/metadata/instance?api-version=2023-11-15"
# The Azure Linux base image on the Microsoft Artifact Registry (reachable from every AKS cluster, which needs
# mcr.microsoft.com): it ships curl; pinned by digest so that what runs is what was reviewed. How to mirror it:
# docs/kubernetes-access.md.
DEFAULT_PROBE_IMAGE = ("mcr.microsoft.com/azurelinux/base/core:3.0"
                       "@sha256:1324a2cf7ed34e5f48a1022816b205782b86c7305651658e611dcd3d30756751")
MANAGED_BY = "app.kubernetes.io/managed-by"
COMPONENT = "imds-ext.io/component"
RUN = "imds-ext.io/run"
EXPIRES = "imds-ext.io/expires-at"
PROBE_SELECTOR = f"{MANAGED_BY}=imds-ext,{COMPONENT}=node-probe"
POOL_LABEL = "kubernetes.azure.com/agentpool"
NAP_POOL_LABEL = "karpenter.sh/nodepool"
ENFORCED, OPEN, INCONCLUSIVE = "enforced", "open", "inconclusive"
# curl's exit codes (curl's documentation) and the kubelet's
CURL_OK, CURL_TIMEOUT, CURL_REFUSED = 0, 28, 7
NOT_FOUND_CODES, OOM_CODE = (126, 127, 128), 137
ALLOW_IMDS = "imds-ext.io/allow-imds"  # the namespace label network-policy apply exempts (core/netpolicy.py)
REACHABLE, BLOCKED = "reachable", "blocked"
# A network-policy block verify proves (core/netpolicy_flow.probe_mode): (the mechanism as the verdict names it,
# the objects to create in the probe namespace so that the block covers it: [(collection path, body)]).
PolicyMode = Tuple[str, Callable[[str], List[Tuple[str, dict]]]]
STUCK_WAITING = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
                 "CreateContainerConfigError", "CreateContainerError", "RunContainerError")


class VerificationFailed(ImdsExtError):
    """Some node does not behave as the setting says, or could not be judged; the message names each one."""

    def __init__(self, message: str, report: Optional[dict] = None):
        super().__init__(message)
        self.report = report


class ProbeCleanupFailed(ImdsExtError):
    """The probes' namespace could not be removed; the message gives the command that removes it."""


def _curl(image: str, name: str, url: str) -> dict:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
            "command": ["curl", "-s", "-o", "/dev/null", "--noproxy", "*", "-H", "Metadata:true",
                        "--connect-timeout", "5", "--max-time", "8", url],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                          "limits": {"cpu": "100m", "memory": "32Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "terminationMessagePolicy": "FallbackToLogsOnError"}


def probe_daemonset(name: str, run: str, image: str, nodes: List[str], tolerations: List[dict],
                    host_network: bool) -> dict:
    """One probe kind as a DaemonSet on exactly `nodes`, with no more privilege than the probe needs: no
    service-account token, non-root, no capability, no escalation, RuntimeDefault seccomp, a read-only root, small
    requests and limits, only the tolerations those nodes' taints ask for; host network only for the control."""
    labels = {MANAGED_BY: "imds-ext", COMPONENT: "node-probe", RUN: run, "imds-ext.io/probe": name}
    containers = [_curl(image, "imds", IMDS_URL)]
    if not host_network:  # the reference: the cluster's API service, which every pod must reach
        containers.insert(0, _curl(image, "reference", "http://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)/"))
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": name, "labels": labels},
            "spec": {"selector": {"matchLabels": {RUN: run, "imds-ext.io/probe": name}},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "hostNetwork": host_network, "automountServiceAccountToken": False,
                         "enableServiceLinks": False, "terminationGracePeriodSeconds": 1,
                         "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                             "seccompProfile": {"type": "RuntimeDefault"}},
                         "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                             "nodeSelectorTerms": [{"matchFields": [
                                 {"key": "metadata.name", "operator": "In", "values": nodes}]}]}}},
                         "tolerations": tolerations, "containers": containers}}}}


def _tolerations(nodes: List[dict]) -> List[dict]:
    """Exactly the taints these nodes carry (the DaemonSet controller adds its own for cordons and conditions)."""
    seen, out = set(), []
    for node in nodes:
        for taint in (node.get("spec") or {}).get("taints") or []:
            if taint.get("key", "").startswith("node.kubernetes.io/"):
                continue
            key = (taint.get("key"), taint.get("value"), taint.get("effect"))
            if key not in seen:
                seen.add(key)
                item = {"key": taint.get("key"), "operator": "Equal", "value": taint.get("value") or "",
                        "effect": taint.get("effect")}
                out.append(item)
    return out


def _labels(node: dict) -> dict:
    return (node.get("metadata") or {}).get("labels") or {}


def _ready(node: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


def not_probed(node: dict) -> Optional[str]:
    """Why a node gets no probe, or None."""
    labels = _labels(node)
    if labels.get("type") == "virtual-kubelet":
        return "virtual node (ACI): its pods do not run on a VM, so the node's IMDS is not theirs"
    if labels.get("kubernetes.io/os", "linux") != "linux":
        return f"{labels.get('kubernetes.io/os')} node: the restriction applies to Linux nodes only"
    return None


def pool_of(node: dict) -> str:
    labels = _labels(node)
    return labels.get(POOL_LABEL) or labels.get("agentpool") or (
        f"nap:{labels[NAP_POOL_LABEL]}" if NAP_POOL_LABEL in labels else "-")


@dataclass
class Probe:
    """What one pod of a probe DaemonSet says: the exit code of each container, or why it has none."""
    codes: Dict[str, Optional[int]] = field(default_factory=dict)
    reasons: Dict[str, str] = field(default_factory=dict)
    stuck: Optional[str] = None  # why the pod will not run (image not pulled, not scheduled, rejected)

    @classmethod
    def of(cls, pod: dict) -> "Probe":
        probe = cls()
        status = pod.get("status") or {}
        for condition in status.get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("status") == "False" \
                    and condition.get("reason") == "Unschedulable":
                probe.stuck = f"not scheduled: {condition.get('message') or 'the node cannot take the probe'}"
        if status.get("phase") == "Failed" and status.get("reason"):
            probe.stuck = f"rejected by the kubelet ({status['reason']}): {status.get('message', '')}".rstrip(": ")
        for container in status.get("containerStatuses") or []:
            name = container.get("name", "")
            state, last = container.get("state") or {}, container.get("lastState") or {}
            done = state.get("terminated") or last.get("terminated")
            if done is not None:
                probe.codes[name] = done.get("exitCode")
                probe.reasons[name] = done.get("reason") or ""
            elif (state.get("waiting") or {}).get("reason") in STUCK_WAITING:
                waiting = state["waiting"]
                what = "image not pulled" if "Image" in waiting["reason"] else "container not started"
                probe.stuck = f"{what} ({waiting['reason']}: {waiting.get('message', '')})".replace(": )", ")")
        return probe


def _failure(code: Optional[int], reason: str, what: str) -> str:
    if code in NOT_FOUND_CODES or reason == "StartError":
        return f"the {what} could not run curl (exit {code}{', ' + reason if reason else ''}): the probe image " \
               "has no curl"
    if code == OOM_CODE or reason == "OOMKilled":
        return f"the {what} was killed (exit {code}, {reason or 'OOMKilled'})"
    return f"the {what} failed (curl exit {code})"


def judge(pod_probe: Optional[Probe], host_probe: Optional[Probe]) -> Tuple[Optional[str], str, dict]:
    """(verdict, reason, evidence) of one node from its two probes; verdict None while still running."""
    evidence = {}
    for label, probe, container in (("pod", pod_probe, "imds"), ("reference", pod_probe, "reference"),
                                    ("hostNetwork", host_probe, "imds")):
        code = probe.codes.get(container) if probe else None
        evidence[label] = None if code is None else {CURL_OK: "answered", CURL_TIMEOUT: "timed out",
                                                     CURL_REFUSED: "refused"}.get(code, f"exit {code}")
    for what, probe in (("pod-network probe", pod_probe), ("host-network control", host_probe)):
        if probe is not None and probe.stuck:
            return INCONCLUSIVE, f"the {what} did not run: {probe.stuck}", evidence
    if pod_probe is None or host_probe is None:
        return None, "", evidence
    imds, reference = pod_probe.codes.get("imds"), pod_probe.codes.get("reference")
    control = host_probe.codes.get("imds")
    if imds == CURL_OK:
        return OPEN, "IMDS answered a pod on the pod network", evidence
    for code, container, what in ((imds, "imds", "pod-network probe"), (reference, "reference", "reference probe"),
                                  (control, "imds", "host-network control")):
        probe = host_probe if what.startswith("host") else pod_probe
        if code is not None and code not in (CURL_OK, CURL_TIMEOUT, CURL_REFUSED):
            return INCONCLUSIVE, _failure(code, probe.reasons.get(container, ""), what), evidence
    if None in (imds, reference, control):
        return None, "", evidence
    if reference != CURL_OK:
        return INCONCLUSIVE, ("pods on this node reach nothing (the cluster's API service did not answer either): "
                              "a timeout proves nothing here"), evidence
    if control != CURL_OK:
        return INCONCLUSIVE, ("IMDS did not answer the host-network control either: the node's IMDS is not "
                              "reachable, so the pod's timeout proves nothing"), evidence
    if imds == CURL_TIMEOUT:
        return ENFORCED, "the pod's IMDS connection timed out; the reference and the host-network control answered", \
            evidence
    return INCONCLUSIVE, "IMDS refused the pod's connection, which is not how AKS blocks it (a timeout)", evidence


class Verification:
    def __init__(self, kube: KubeClient, ui, timeout: float = 120.0, interval: float = 2.0,
                 clock=time.monotonic, sleep=time.sleep,
                 policy_of: Optional[Callable[[KubeClient], Optional[PolicyMode]]] = None):
        self.kube = kube
        self.policy_of = policy_of  # reads whether an imds-ext network-policy block is to be proved too
        self.exempt_namespace: Optional[str] = None  # the exempt probe's namespace, once created
        self.ui = ui
        self.timeout = timeout
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.namespace: Optional[str] = None  # set once created: what the caller must see removed
        self.cleanup_error: Optional[str] = None  # why it could not be removed, with the command that removes it

    def sweep(self) -> List[str]:
        """Remove what earlier runs left behind once it has expired (a run that was killed); a namespace of a run
        still going is left alone."""
        now = datetime.now(timezone.utc)
        removed = []
        for ns in self.kube.items("/api/v1/namespaces", label_selector=PROBE_SELECTOR):
            meta = ns.get("metadata") or {}
            expires = (meta.get("annotations") or {}).get(EXPIRES, "")
            try:
                expired = datetime.fromisoformat(expires.replace("Z", "+00:00")) <= now
            except ValueError:
                expired = True  # unreadable: not one a live run would write
            if expired and "deletionTimestamp" not in meta:
                self.kube.delete(f"/api/v1/namespaces/{meta['name']}")
                removed.append(meta["name"])
        return removed

    def run(self, cluster_name: str, setting: str, sample: Optional[int], image: str) -> dict:
        policy = self.policy_of(self.kube) if self.policy_of else None
        nodes = list(self.kube.items("/api/v1/nodes"))
        skipped, by_pool, unready = [], {}, []
        for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
            why = not_probed(node)
            if why:
                skipped.append({"node": node["metadata"]["name"], "pool": pool_of(node), "reason": why})
            elif not _ready(node):
                unready.append(node)
            else:
                by_pool.setdefault(pool_of(node), []).append(node)
        chosen = [n for names in by_pool.values() for n in (names[:sample] if sample else names)]
        expected = ENFORCED if setting == constants.RESTRICTED or policy else OPEN
        results: Dict[str, Tuple[Optional[str], str, dict]] = {}
        for node in unready:  # every node was asked for: one that cannot run a probe is not proven
            if sample:  # a sample is taken from the nodes that can run one
                skipped.append({"node": node["metadata"]["name"], "pool": pool_of(node),
                                "reason": "NotReady: not sampled"})
            else:
                results[node["metadata"]["name"]] = (
                    INCONCLUSIVE, "the node is NotReady: nothing can run on it to tell", {})
        removed = self.sweep()
        exempt = None
        if chosen:
            run = uuid.uuid4().hex[:8]
            try:
                results.update(self._probe(run, image, chosen, policy[1] if policy else None))
                if policy:
                    exempt = self._exempt_probe(run, image, chosen, setting)
            finally:  # success, failure, Ctrl-C alike: the probes do not outlive the command
                self.cleanup_error = self._cleanup()
        report = self._report(cluster_name, setting, expected, nodes, results, skipped)
        report["mechanism"] = mechanism_of(setting, policy[0] if policy else None)
        if exempt is not None:
            report["exemptProbe"] = exempt
            if exempt["verdict"] not in (exempt["expected"], INCONCLUSIVE):
                report["problems"].append(f"exempt namespace: {exempt['verdict']}: {exempt['reason']}")
                report["ok"] = False
        report["removedLeftovers"] = removed
        if self.cleanup_error:
            report["cleanup"] = self.cleanup_error
        return report

    def _probe(self, run: str, image: str, chosen: List[dict],
               objects: Optional[Callable[[str], List[Tuple[str, dict]]]] = None
               ) -> Dict[str, Tuple[Optional[str], str, dict]]:
        namespace = f"imds-probe-{run}"
        expires = datetime.now(timezone.utc) + timedelta(seconds=self.timeout + 300)
        names = [n["metadata"]["name"] for n in chosen]
        tolerations = _tolerations(chosen)
        self.kube.create("/api/v1/namespaces", {"metadata": {
            "name": namespace,
            "labels": {MANAGED_BY: "imds-ext", COMPONENT: "node-probe", RUN: run,
                       # the host-network control is what Pod Security's "privileged" level allows
                       "pod-security.kubernetes.io/enforce": "privileged",
                       "pod-security.kubernetes.io/warn": "privileged"},
            "annotations": {EXPIRES: expires.strftime("%Y-%m-%dT%H:%M:%SZ")}}})
        self.namespace = namespace
        for path, body in objects(namespace) if objects else []:  # the network-policy block, where it is per namespace
            self.kube.create(path, body)
        base = f"/apis/apps/v1/namespaces/{namespace}/daemonsets"
        self.kube.create(base, probe_daemonset("pod-network", run, image, names, tolerations, host_network=False))
        self.kube.create(base, probe_daemonset("host-network", run, image, names, tolerations, host_network=True))
        return self._wait(namespace, run, names)

    def _wait(self, namespace: str, run: str, names: List[str]) -> Dict[str, Tuple[Optional[str], str, dict]]:
        deadline = self.clock() + self.timeout
        interval = self.interval
        while True:
            probes: Dict[Tuple[str, str], Probe] = {}
            for pod in self.kube.items(f"/api/v1/namespaces/{namespace}/pods", label_selector=f"{RUN}={run}"):
                kind = (pod["metadata"].get("labels") or {}).get("imds-ext.io/probe", "")
                probes[(kind, (pod.get("spec") or {}).get("nodeName", ""))] = Probe.of(pod)
            refused = self._refusals(namespace)
            results = {}
            for node in names:
                pod_probe, host_probe = probes.get(("pod-network", node)), probes.get(("host-network", node))
                for kind in ("pod-network", "host-network"):
                    if probes.get((kind, node)) is None and kind in refused:
                        results[node] = (INCONCLUSIVE, f"the {kind} probe was refused by admission: {refused[kind]}",
                                         {})
                if node not in results:
                    results[node] = judge(pod_probe, host_probe)
            pending = [n for n, (verdict, _, _) in results.items() if verdict is None]
            if not pending:
                return results
            if self.clock() >= deadline:
                for node in pending:
                    results[node] = (INCONCLUSIVE, f"no result within {self.timeout:.0f} s: the probes did not run "
                                     "to the end (see 'kubectl get pods -n " + namespace + " -o wide' while it "
                                     "runs)", results[node][2])
                return results
            self.sleep(interval)
            interval = min(interval * 1.5, 10.0)

    def _refusals(self, namespace: str) -> Dict[str, str]:
        """The DaemonSet controller's `FailedCreate` events: admission refused the probe pods (Pod Security, Azure
        Policy, Deployment Safeguards), with the refusal's own words."""
        refused = {}
        try:
            for event in self.kube.items(f"/api/v1/namespaces/{namespace}/events",
                                         field_selector=None):
                involved = event.get("involvedObject") or {}
                if event.get("reason") == "FailedCreate" and involved.get("kind") == "DaemonSet":
                    refused[involved.get("name", "")] = event.get("message", "")
        except KubernetesRefused:
            return {}  # events are evidence for the reason only; a cluster that hides them still gets a verdict
        return refused

    def _exempt_probe(self, run: str, image: str, chosen: List[dict], setting: str) -> dict:
        """One pod-network probe in a namespace the network-policy block exempts (labelled imds-ext.io/allow-imds=
        true): IMDS must answer it, unless the managed setting blocks every pod anyway."""
        namespace = f"imds-probe-{run}-exempt"
        expires = datetime.now(timezone.utc) + timedelta(seconds=self.timeout + 300)
        expected = BLOCKED if setting == constants.RESTRICTED else REACHABLE
        self.kube.create("/api/v1/namespaces", {"metadata": {
            "name": namespace,
            "labels": {MANAGED_BY: "imds-ext", COMPONENT: "node-probe", RUN: run, ALLOW_IMDS: "true",
                       "pod-security.kubernetes.io/enforce": "restricted"},
            "annotations": {EXPIRES: expires.strftime("%Y-%m-%dT%H:%M:%SZ")}}})
        self.exempt_namespace = namespace
        template = probe_daemonset("exempt", run, image, [chosen[0]["metadata"]["name"]], _tolerations(chosen[:1]),
                                   host_network=False)["spec"]["template"]
        self.kube.create(f"/api/v1/namespaces/{namespace}/pods", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "exempt-probe", "labels": template["metadata"]["labels"]},
            "spec": {**template["spec"], "restartPolicy": "Never"}})
        deadline, interval = self.clock() + self.timeout, self.interval
        while True:
            pods = list(self.kube.items(f"/api/v1/namespaces/{namespace}/pods", label_selector=f"{RUN}={run}"))
            verdict, reason = judge_exempt(Probe.of(pods[0]) if pods else None)
            if verdict is None and self.clock() >= deadline:
                verdict, reason = INCONCLUSIVE, f"no result from the exempt namespace within {self.timeout:.0f} s"
            if verdict is not None:
                return {"namespace": namespace, "node": chosen[0]["metadata"]["name"], "expected": expected,
                        "verdict": verdict, "reason": reason}
            self.sleep(interval)
            interval = min(interval * 1.5, 10.0)

    def _cleanup(self) -> Optional[str]:
        failed = []
        for namespace in (self.namespace, self.exempt_namespace):
            if namespace is None:
                continue
            try:
                self.kube.delete(f"/api/v1/namespaces/{namespace}")
            except ImdsExtError as ex:
                failed.append((namespace, str(ex).splitlines()[0]))
        if failed:
            names = " ".join(n for n, _ in failed)
            return (f"The probes' namespace '{failed[0][0]}' could not be removed ({failed[0][1]}). "
                    f"Remove it with 'kubectl delete namespace {names}' (or every one left: 'kubectl "
                    f"delete namespace -l {PROBE_SELECTOR}').")
        return None

    @staticmethod
    def _report(cluster_name: str, setting: str, expected: str, nodes: List[dict],
                results: Dict[str, Tuple[Optional[str], str, dict]], skipped: List[dict]) -> dict:
        pools = {n["metadata"]["name"]: pool_of(n) for n in nodes}
        rows, problems = [], []
        for node in sorted(results):
            verdict, reason, evidence = results[node]
            rows.append({"pool": pools.get(node, "-"), "node": node, "expected": expected, "verdict": verdict,
                         "reason": reason, "evidence": evidence})
            if verdict != expected:
                problems.append(f"{node} ({pools.get(node, '-')}): {verdict}: {reason}")
        ok = bool(rows) and not problems
        if not rows:
            problems.append("no Linux node could be probed" + (f" ({len(skipped)} not probed, listed)" if skipped
                                                                 else ": the API server lists no node"))
        return {"cluster": cluster_name, "podLinkLocalAccess": setting, "expected": expected, "ok": ok,
                "nodes": rows, "notProbed": skipped, "problems": problems}


def judge_exempt(probe: Optional[Probe]) -> Tuple[Optional[str], str]:
    """(verdict, reason) of the probe in an exempt namespace: reachable, blocked, inconclusive; None while running."""
    if probe is None:
        return None, ""
    if probe.stuck:
        return INCONCLUSIVE, f"the probe in the exempt namespace did not run: {probe.stuck}"
    imds, reference = probe.codes.get("imds"), probe.codes.get("reference")
    if imds == CURL_OK:
        return REACHABLE, "IMDS answered a pod in the exempt namespace"
    if imds is None or reference is None:
        return None, ""
    if imds == CURL_TIMEOUT and reference == CURL_OK:
        return BLOCKED, "IMDS timed out for a pod in the exempt namespace; the reference answered"
    return INCONCLUSIVE, (f"the probe in the exempt namespace ended with curl exit {imds} (IMDS) and {reference} "
                          "(reference)")


def mechanism_of(setting: str, policy: Optional[str]) -> str:
    """What keeps pods from IMDS, as the verdict names it."""
    managed = "managed setting (podLinkLocalAccess: None)" if setting == constants.RESTRICTED else None
    return " and ".join(m for m in (managed, policy) if m) or "none (podLinkLocalAccess: IMDS)"


def verdict_message(report: dict, upgrade_command: str) -> str:
    """What the user reads when not every probed node has the expected verdict: reimage only for the nodes that
    are `open` (or `enforced`) against the setting; for an inconclusive node, its reason and the fix."""
    rows = report["nodes"]
    wrong = [r for r in rows if r["verdict"] not in (report["expected"], INCONCLUSIVE)]
    unsure = [r for r in rows if r["verdict"] == INCONCLUSIVE]
    setting = report["podLinkLocalAccess"]
    parts = []
    if not rows:
        parts.append(f"Nothing was verified on cluster '{report['cluster']}': {report['problems'][0]}."
                     + "".join(f"\n  {s['node']}: {s['reason']}" for s in report["notProbed"]))
    policy = "network policy" in report.get("mechanism", "") and setting != constants.RESTRICTED
    if wrong and policy:
        parts.append(f"{len(wrong)} node(s) of cluster '{report['cluster']}' are not {report['expected']}, as "
                     f"the {report['mechanism']} says:\n  "
                     + "\n  ".join(f"{r['node']} ({r['pool']}): {r['verdict']}: {r['reason']}" for r in wrong)
                     + "\nThe engine does not enforce the policy on them (a reimage does not help): check it with "
                       "'aks imds-restriction network-policy show' (docs/network-policy.md).")
    elif wrong:
        parts.append(f"{len(wrong)} node(s) of cluster '{report['cluster']}' are not {report['expected']}, as "
                     f"podLinkLocalAccess='{setting}' says:\n  "
                     + "\n  ".join(f"{r['node']} ({r['pool']}): {r['verdict']}: {r['reason']}" for r in wrong)
                     + f"\nThey still run the node image from before the change: reimage them with "
                       f"'{upgrade_command}', then verify again.")
    exempt = report.get("exemptProbe")
    if exempt and exempt["verdict"] not in (exempt["expected"], INCONCLUSIVE):
        parts.append(f"The probe in the exempt namespace was {exempt['verdict']}, expected {exempt['expected']}: "
                     f"{exempt['reason']}. An exempt namespace (labelled {ALLOW_IMDS}=true) must keep IMDS.")
    if unsure:
        parts.append(f"{len(unsure)} node(s) could not be judged (inconclusive; this says nothing about the "
                     "setting, so do not reimage for it):\n  "
                     + "\n  ".join(f"{r['node']} ({r['pool']}): {r['reason']}" for r in unsure)
                     + "\n" + "\n".join(sorted({fix for r in unsure if (fix := fix_for(r['reason']))})))
    return "\n".join(parts)


def fix_for(reason: str) -> Optional[str]:
    if "image not pulled" in reason or "has no curl" in reason:
        return ("Fix: give --probe-image an image that has curl, from a registry the cluster can pull from (the "
                "default mirrored into your registry: docs/kubernetes-access.md, 'The probe image').")
    if "refused by admission" in reason:
        return ("Fix: allow the probes' namespace (label imds-ext.io/component=node-probe) in the policy that "
                "refused them, or run verify where it is allowed (docs/kubernetes-access.md, 'Admission').")
    if "killed" in reason:
        return "Fix: the probe image needs more memory than the probes' 32Mi limit: use a smaller image with curl."
    if "not scheduled" in reason or "rejected by the kubelet" in reason:
        return "Fix: free room on the node (the probes request 10m CPU and 16Mi), then verify again."
    if "NotReady" in reason:
        return "Fix: bring the node back (or remove it), then verify again."
    if "reach nothing" in reason:
        return ("Fix: the cluster's pods have no egress at all (a network policy or firewall): let the probes' "
                "namespace reach the API service, then verify again.")
    return None
