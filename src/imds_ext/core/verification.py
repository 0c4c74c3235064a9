"""Proof, node by node, that the nodes enforce the IMDS setting: the documentation's check (docs/aks-kubernetes.md),
automated. On every Linux node (or a sample per pool) a short-lived pod-network probe pinned to the node, and one
host-network probe per pool, try IMDS with a short timeout; their exit codes say what each node does. The probes
run in a namespace of their own, tolerate every taint, and are removed on success, failure and interruption."""
from __future__ import annotations

import time
import uuid
from typing import Dict, List, Optional

from imds_ext.core import constants
from imds_ext.core.errors import ImdsExtError
from imds_ext.core.kube import KubeClient

IMDS_URL = "http://169.254.169.254/metadata/instance?api-version=2023-11-15"
DEFAULT_PROBE_IMAGE = "curlimages/curl:8.11.1"
POOL_LABEL = "kubernetes.azure.com/agentpool"
_TERMINAL = ("Succeeded", "Failed")


class VerificationFailed(ImdsExtError):
    """Some node does not behave as the setting says; the message names each one."""


def probe_pod(name: str, node: str, host_network: bool, image: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "imds-ext"}},
            "spec": {"nodeName": node, "hostNetwork": host_network, "restartPolicy": "Never",
                     "tolerations": [{"operator": "Exists"}],
                     "containers": [{"name": "probe", "image": image, "command": [
                         "curl", "-s", "-o", "/dev/null", "-H", "Metadata:true", "--noproxy", "*",
                         "--connect-timeout", "5", "--max-time", "8", IMDS_URL]}]}}


def _exit_code(pod: dict) -> Optional[int]:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated is not None:
            return terminated.get("exitCode")
    return None


class Verification:
    def __init__(self, kube: KubeClient, ui, timeout: float = 180.0, interval: float = 1.0):
        self.kube = kube
        self.ui = ui
        self.timeout = timeout
        self.interval = interval

    def run(self, cluster_name: str, setting: str, sample: Optional[int], image: str) -> dict:
        nodes = [n for n in self.kube.items("/api/v1/nodes")
                 if (n["metadata"].get("labels") or {}).get("kubernetes.io/os", "linux") == "linux"]
        by_pool: Dict[str, List[str]] = {}
        for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
            by_pool.setdefault(node["metadata"]["labels"].get(POOL_LABEL, "?"), []).append(node["metadata"]["name"])
        chosen = {pool: names[:sample] if sample else names for pool, names in by_pool.items()}
        namespace = f"imds-probe-{uuid.uuid4().hex[:8]}"
        probes = {}  # pod name -> (pool, node, host network)
        for pool, names in chosen.items():
            for index, node in enumerate(names):
                probes[f"pod-{pool}-{index}"[:63]] = (pool, node, False)
            probes[f"host-{pool}"[:63]] = (pool, names[0], True)
        self.kube.create("/api/v1/namespaces", {"metadata": {"name": namespace,
                                                             "labels": {"app.kubernetes.io/managed-by": "imds-ext"}}})
        try:
            for name, (_, node, host) in probes.items():
                self.kube.create(f"/api/v1/namespaces/{namespace}/pods", probe_pod(name, node, host, image))
            finished = self._wait(namespace, set(probes))
        finally:  # success, failure, Ctrl-C alike: the probes do not outlive the command
            self.kube.delete(f"/api/v1/namespaces/{namespace}")
        return self._report(cluster_name, setting, probes, finished)

    def _wait(self, namespace: str, names: set) -> Dict[str, dict]:
        deadline = time.monotonic() + self.timeout
        while True:
            pods = {p["metadata"]["name"]: p for p in self.kube.items(f"/api/v1/namespaces/{namespace}/pods")}
            done = {n: p for n, p in pods.items() if n in names and (p.get("status") or {}).get("phase") in _TERMINAL}
            if len(done) == len(names) or time.monotonic() >= deadline:
                return done
            time.sleep(self.interval)

    @staticmethod
    def _report(cluster_name: str, setting: str, probes: dict, finished: Dict[str, dict]) -> dict:
        blocked_expected = setting == constants.RESTRICTED
        nodes, host, problems = [], [], []
        for name, (pool, node, host_network) in probes.items():
            code = _exit_code(finished[name]) if name in finished else None
            observed = "no answer" if code is None else ("reachable" if code == 0 else "blocked")
            if host_network:
                ok = observed == "reachable"
                host.append({"pool": pool, "node": node, "imds": observed, "verdict": "ok" if ok else "UNEXPECTED"})
                if not ok:
                    problems.append(f"host-network probe on {node} ({pool}): IMDS {observed}")
                continue
            expected = "blocked" if blocked_expected else "reachable"
            ok = observed == expected
            nodes.append({"pool": pool, "node": node, "expected": expected, "observed": observed,
                          "verdict": "ok" if ok else "MISMATCH"})
            if not ok:
                problems.append(f"{node} ({pool}): IMDS {observed} from a pod, expected {expected}"
                                + (" (not reimaged since the setting changed?)" if observed == "reachable" else ""))
        return {"cluster": cluster_name, "podLinkLocalAccess": setting, "ok": not problems, "nodes": nodes,
                "hostNetwork": host, "problems": problems}
