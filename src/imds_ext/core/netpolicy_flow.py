"""`aks imds-restriction network-policy apply|show|remove`, and what `verify` needs to prove the block: the reads and
writes around the pure planning of netpolicy.py, through the cluster's Kubernetes API (core/kube.py, reached as
verify reaches it: core/access.py). docs/network-policy.md."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from azure.core.exceptions import ResourceNotFoundError

from imds_ext.core import netpolicy as np
from imds_ext.core import scan
from imds_ext.core.access import kube_client
from imds_ext.core.cluster import is_restricted, pod_link_local_access
from imds_ext.core.errors import Cancelled, ImdsExtError, Interrupted, PreflightFailed
from imds_ext.core.kube import KubeClient, KubernetesRefused
from imds_ext.core.preflight import PreflightResult, format_blockers


@dataclass
class ClusterPolicies:
    """What the cluster holds: its namespaces, the NetworkPolicies (imds-ext's and the others) and imds-ext's
    cluster-wide Cilium policies; `clusterwide_served` False when the API server does not serve them."""
    namespaces: List[dict]
    owned_np: List[dict]
    others: List[dict]
    owned_ccnp: List[dict]
    clusterwide_served: bool


def read_policies(kube: KubeClient, engine: str) -> ClusterPolicies:
    namespaces = list(kube.items("/api/v1/namespaces"))
    policies = list(kube.items(np.NETWORK_POLICIES))
    owned_ccnp, served = [], engine == "cilium"
    if served:
        try:
            owned_ccnp = [p for p in kube.items(np.CLUSTERWIDE_POLICIES, label_selector=np.OWNED_SELECTOR)
                          if np.is_owned(p)]
        except ResourceNotFoundError:
            served = False
    return ClusterPolicies(namespaces, [p for p in policies if np.is_owned(p)],
                           [p for p in policies if not np.is_owned(p)], owned_ccnp, served)


def read_for_plan(kube: KubeClient, choice: np.Choice) -> ClusterPolicies:
    """What a rollout's plan reads to tell whether `apply` would write anything (fleet.py, --fallback
    network-policy), and no more: for the cluster-wide mechanism, imds-ext's own objects alone (two label-selected
    lists: its CiliumClusterwideNetworkPolicy, and any NetworkPolicy of its that the mechanism would delete); per
    namespace, what apply reads (the namespaces and every NetworkPolicy: the audit needs the others). Each list is
    paged, with the client's short timeouts."""
    if choice.mechanism != np.CLUSTERWIDE:
        return read_policies(kube, choice.engine)
    owned_np = [p for p in kube.items(np.NETWORK_POLICIES, label_selector=np.OWNED_SELECTOR) if np.is_owned(p)]
    try:
        owned_ccnp = [p for p in kube.items(np.CLUSTERWIDE_POLICIES, label_selector=np.OWNED_SELECTOR)
                      if np.is_owned(p)]
    except ResourceNotFoundError:  # the CRD is missing: apply would refuse, and the plan must say so (fleet.py)
        return ClusterPolicies([], owned_np, [], [], False)
    return ClusterPolicies([], owned_np, [], owned_ccnp, True)


def exemptions_of(found: ClusterPolicies) -> List[str]:
    """The --exempt-namespaces an `apply` without the flag keeps: those its objects record."""
    return np.recorded_exemptions(found.owned_np + found.owned_ccnp) or []


def pending(mc, choice: np.Choice, found: ClusterPolicies) -> Tuple[List[np.Write], List[dict]]:
    """(what `apply` would write, the other policies that reopen IMDS in a covered namespace), as apply computes
    them: with the exemptions its objects record. Pure, over what read_for_plan read."""
    exempt = exemptions_of(found)
    covered = np.covered_namespaces(found.namespaces, exempt)
    writes = np.plan_apply(choice.mechanism, covered, found.owned_np, found.owned_ccnp, exempt, np.dual_stack(mc))
    reopened = np.audit(found.others, covered) if choice.mechanism == np.PER_NAMESPACE else []
    return writes, reopened


def covered_only(kube: KubeClient, found: scan.ClusterScan, exempt: Sequence[str]) -> scan.ClusterScan:
    """The scan's workloads in the namespaces the block covers, as `show` lists them: those of the exempt namespaces
    (the defaults, `exempt`, the labelled ones) keep IMDS, so they lose nothing. One more list: the namespaces."""
    covered = set(np.covered_namespaces(list(kube.items("/api/v1/namespaces")), exempt))
    return scan.ClusterScan([w for w in found.workloads if w.namespace in covered], found.warnings)


def mode_of(restricted: bool, policies: Sequence[str]) -> str:
    if restricted and policies:
        return "managed setting and network policy"
    return "managed setting" if restricted else ("network policy" if policies else "none")


class NetworkPolicyFlow:
    """The three commands over one service (its ARM reads, its Interaction, the commands it names)."""

    def __init__(self, service):
        self.service = service
        self.ui = service.ui

    # -- reading ------------------------------------------------------------------------------------
    def _kube(self, resource_group: str, name: str, mc, admin=False, kubeconfig=None, context=None) -> KubeClient:
        return kube_client(self.service.clients, resource_group, name, admin, kubeconfig, context, cluster=mc)

    def _state(self, resource_group: str, name: str, mc, kube: KubeClient, mechanism: Optional[str],
               exempt: Optional[Sequence[str]]):
        choice = np.choose(mc, resource_group, name, mechanism)
        found = read_policies(kube, choice.engine)
        if choice.mechanism == np.CLUSTERWIDE and not found.clusterwide_served:
            choice.blockers.append(np.clusterwide_not_served(f"pass --mechanism {np.PER_NAMESPACE}"))
        if exempt is None:
            exempt = exemptions_of(found)
        return choice, found, list(exempt)

    def _report(self, resource_group: str, name: str, mc, choice, found: ClusterPolicies, exempt: List[str],
                writes: Sequence[np.Write]) -> dict:
        mechanism = choice.mechanism if not choice.blockers else None
        covered = np.covered_namespaces(found.namespaces, exempt)
        dual = np.dual_stack(mc)
        state = np.assess(mechanism, covered, found.owned_np, found.owned_ccnp, found.others, exempt, dual)
        pools = np.uncovered_pools(mc, choice.engine)
        policies = np.policy_names(found.owned_np, found.owned_ccnp)
        restricted = is_restricted(mc)
        return {
            "cluster": name, "resourceGroup": resource_group,
            "engine": choice.engine, "engineName": np.ENGINE_NAMES[choice.engine],
            "mechanism": mechanism,
            "podLinkLocalAccess": pod_link_local_access(mc),
            "mode": mode_of(restricted, policies),
            "status": np.status_of(state["uncovered"], pools, mechanism),
            "policies": policies,
            "namespaces": {"protected": state["protected"], "uncovered": state["uncovered"],
                           "exempt": np.exemptions(found.namespaces, exempt)},
            "exemptNamespaces": exempt,
            "reopenedBy": state["reopenedBy"],
            "notCoveredPools": pools,
            "changes": [w.to_dict() for w in writes],
            "blockers": [b.to_dict() for b in choice.blockers],
            "warnings": list(choice.warnings),
        }

    # -- show -----------------------------------------------------------------------------------------
    def show(self, resource_group: str, name: str, *, mechanism: Optional[str] = None,
             exempt: Optional[Sequence[str]] = None, admin=False, kubeconfig=None, context=None) -> dict:
        """The block as it is: mechanism, protected and uncovered namespaces, reopening policies, the pools not
        covered, what an apply would write, and the workloads of covered namespaces that lose their tokens."""
        mc = self.service.get_cluster(resource_group, name)
        kube = self._kube(resource_group, name, mc, admin, kubeconfig, context)
        try:
            choice, found, exempt = self._state(resource_group, name, mc, kube, mechanism, exempt)
            writes = [] if choice.blockers else self._plan(mc, choice, found, exempt)
            report = self._report(resource_group, name, mc, choice, found, exempt, writes)
            report["workloads"] = self._workloads(kube, resource_group, name, report)
        finally:
            kube.close()
        return report

    def _workloads(self, kube: KubeClient, resource_group: str, name: str, report: dict) -> Optional[List[dict]]:
        """The scan's workloads that lose their tokens, in the namespaces the block covers (or would)."""
        covered = set(report["namespaces"]["protected"]) | {r["namespace"] for r in report["namespaces"]["uncovered"]}
        try:
            found = scan.read_cluster(kube)
        except (KubernetesRefused, scan.ScanFailed) as ex:
            report["warnings"].append(f"The workload scan could not run ({str(ex).splitlines()[0]}); the workloads "
                                      "that would lose their tokens are not listed.")
            return None
        report["warnings"] += found.warnings
        rows = scan.report(name, resource_group, [w for w in found.workloads if w.namespace in covered], False)
        return [w for w in rows["workloads"] if w["verdict"] != scan.UNAFFECTED]

    @staticmethod
    def _plan(mc, choice, found: ClusterPolicies, exempt: List[str]) -> List[np.Write]:
        covered = np.covered_namespaces(found.namespaces, exempt)
        return np.plan_apply(choice.mechanism, covered, found.owned_np, found.owned_ccnp, exempt, np.dual_stack(mc))

    # -- apply ----------------------------------------------------------------------------------------
    def apply(self, resource_group: str, name: str, *, mechanism: Optional[str] = None,
              exempt: Optional[Sequence[str]] = None, yes=False, admin=False, kubeconfig=None,
              context=None) -> dict:
        """Make the cluster's block what it should be: refused (PreflightFailed, every blocker with its fix) when
        the engine enforces no policy; otherwise the writes the plan needs (none when nothing changed), confirmed
        unless `yes`, then the block as it now is."""
        mc = self.service.get_cluster(resource_group, name)
        action = f"block IMDS with network policy on cluster '{name}'"
        early = np.choose(mc, resource_group, name, mechanism)
        if early.blockers:  # no engine: refused before anything is read from the cluster
            raise PreflightFailed(format_blockers(PreflightResult(early.blockers), action), early.blockers)
        kube = self._kube(resource_group, name, mc, admin, kubeconfig, context)
        try:
            choice, found, exempt = self._state(resource_group, name, mc, kube, mechanism, exempt)
            if choice.blockers:
                raise PreflightFailed(format_blockers(PreflightResult(choice.blockers), action), choice.blockers)
            for warning in choice.warnings:
                self.ui.warn(warning)
            writes = self._plan(mc, choice, found, exempt)
            if writes:
                self._confirm(name, choice, writes, yes)
                self._write(kube, writes)
                found = read_policies(kube, choice.engine)
            report = self._report(resource_group, name, mc, choice, found, exempt, writes)
        finally:
            kube.close()
        return report

    def _confirm(self, name: str, choice, writes: Sequence[np.Write], yes: bool) -> None:
        if yes:
            return
        lines = "\n  ".join(str(w) for w in writes)
        if not self.ui.confirm(
                f"On cluster '{name}' ({np.ENGINE_NAMES[choice.engine]}, {choice.mechanism}) this will:\n  {lines}\n"
                "Pods in the covered namespaces can no longer reach IMDS: workloads that take their Azure tokens "
                "from it lose them ('network-policy show' lists them). Proceed?"):
            raise Cancelled("Cancelled: no change was made.")

    def _write(self, kube: KubeClient, writes: Sequence[np.Write]) -> None:
        done = 0
        try:
            for write in writes:
                if write.verb == "create":
                    kube.create(write.path, write.body)
                elif write.verb == "replace":
                    kube.replace(write.path, write.body)
                else:
                    kube.delete(write.path)
                done += 1
        except KeyboardInterrupt:
            raise Interrupted(f"Interrupted after {done} of {len(writes)} change(s); run the same command again to "
                              "finish (it writes only what is still missing).") from None
        except ImdsExtError as ex:
            raise ImdsExtError(f"{ex} ({done} of {len(writes)} change(s) were made; the same command finishes "
                               "the job once the cause is fixed.)") from ex
        for write in writes:
            self.ui.warn(f"{write.verb}d {write.kind} {write.namespace + '/' if write.namespace else ''}{write.name}")

    # -- remove ---------------------------------------------------------------------------------------
    def remove(self, resource_group: str, name: str, *, yes=False, admin=False, kubeconfig=None,
               context=None) -> dict:
        """Delete every object imds-ext created for the block (by its labels), nothing else."""
        mc = self.service.get_cluster(resource_group, name)
        kube = self._kube(resource_group, name, mc, admin, kubeconfig, context)
        try:
            found = read_policies(kube, np.engine_of(mc))
            writes = np.plan_remove(found.owned_np, found.owned_ccnp)
            if writes and not yes and not self.ui.confirm(
                    f"Remove imds-ext's IMDS block from cluster '{name}'? Pods in "
                    f"{len(found.owned_np) or 'every non-exempt'} namespace(s) can reach IMDS again:\n  "
                    + "\n  ".join(str(w) for w in writes) + "\nProceed?"):
                raise Cancelled("Cancelled: no change was made.")
            self._write(kube, writes)
        finally:
            kube.close()
        restricted = is_restricted(mc)
        return {"cluster": name, "resourceGroup": resource_group, "removed": [w.to_dict() for w in writes],
                "otherPoliciesKept": len(found.others), "podLinkLocalAccess": pod_link_local_access(mc),
                "mode": mode_of(restricted, [])}


# -- verify: the block proved by the same probes -----------------------------------------------------------
def probe_mode(kube: KubeClient, mc, warn) -> Optional[Tuple[str, list]]:
    """(the mechanism as verify names it, the objects verify creates in its probe namespace) when imds-ext's
    block is in the cluster and its engine enforces it; None otherwise. A credential that may not list network
    policies gets None and a warning: verify then proves the managed setting alone."""
    engine = np.engine_of(mc)
    try:
        found = read_policies(kube, engine)
    except KubernetesRefused as ex:
        warn(f"Network policies could not be read ({str(ex).splitlines()[0]}); verifying the managed setting only.")
        return None
    if not (found.owned_np or found.owned_ccnp) or not np.mechanisms(engine):
        return None
    exempt = exemptions_of(found)
    if found.owned_ccnp:
        return (f"network policy ({np.CLUSTERWIDE}: CiliumClusterwideNetworkPolicy {np.POLICY_NAME}, "
                f"{np.ENGINE_NAMES[engine]})", lambda namespace: [])
    # Per namespace: the probe namespace is new, so no apply has covered it; it gets the very policy apply writes
    # in every covered namespace (labelled as the probe's, removed with it), and the probe proves the engine
    # enforces that policy. Which namespaces hold it is what 'network-policy show' reports.

    def objects(namespace: str) -> list:
        body = np.namespace_policy(namespace, np.dual_stack(mc), exempt)
        body["metadata"]["labels"] = {np.MANAGED_BY: "imds-ext", np.COMPONENT: np.PROBE_COMPONENT}
        return [(np.namespaced_path(namespace), body)]
    return (f"network policy ({np.PER_NAMESPACE}: NetworkPolicy {np.POLICY_NAME} in "
            f"{len(found.owned_np)} namespace(s), {np.ENGINE_NAMES[engine]})", objects)
