"""The IMDS restriction flow over the Azure SDKs: settle, preflight, confirm, patch, wait, reimage, record.

The command lines (`imds_ext.cli`, `azext_imds`) supply an `Interaction` (prompts, progress, messages) and an
`ArmClients`; this module knows nothing else about them.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.core.polling.base_polling import OperationFailed

from imds_ext.core import constants, marker, plan as planning, preflight, scan
from imds_ext.core.cluster import agent_pools, node_count, pod_link_local_access, pool_sizes, provisioning_state
from imds_ext.core.clients import ArmClients
from imds_ext.core.errors import (Cancelled, ConcurrentModification, ImdsExtError, Interrupted, PreflightFailed,
                                  ServiceIgnoredChange, Unfinished, service_message)
from imds_ext.core.create import ClusterCreation
from imds_ext.core.interaction import Interaction
from imds_ext.core.nodeimage import MAX_ETAG_ATTEMPTS, NodeImageUpgradeFailed, NodeImageUpgrades, failure_message
from imds_ext.core.polling import BackoffPolling
from imds_ext.core.access import kube_client
from imds_ext.core.reads import ClusterReads
from imds_ext.core.verification import DEFAULT_PROBE_IMAGE, Verification, VerificationFailed, verdict_message


def _polling(no_wait: bool):
    """The polling of our own operations: none with --no-wait; else azure-core's, on our schedule when the service
    gives no Retry-After (AKS gives none)."""
    return False if no_wait else BackoffPolling()


@dataclass
class UpdateOutcome:
    cluster: Optional[dict]  # the cluster at the end (None with --no-wait)
    next_step: Optional[str] = None  # the command that completes the job, when we stopped early


class ImdsRestrictionService(ClusterReads, ClusterCreation):
    """The core's entry point for both command lines: the reads and the report (reads.py), the create
    (create.py), and here the update flow and the node-image upgrades."""

    def __init__(self, clients: ArmClients, ui: Interaction,
                 on_step: Optional[Callable[[str, dict], None]] = None):
        super().__init__(clients, ui)
        self.node_images = NodeImageUpgrades(clients, ui)
        # Told as each step of the update starts ("updating", "reimaging") and ends ("updated", "reimaged"): a
        # fleet rollout journals them and shows them as its progress.
        self._on_step = on_step or (lambda step, detail: None)
        self.name_subscription = False
        self._stage = ""  # what is true of the cluster if the user interrupts now, and the command that finishes
        self._workload_check = (False, False)  # (--check-workloads, --force) of the update running
        self._kube: dict = {}  # --admin, --kubeconfig, --context, --probe-image, --sample of the command running

    # -- the update flow -----------------------------------------------------------------------------
    def set_restriction(self, resource_group: str, name: str, enable: bool, *, enable_oidc_issuer=False,
                        headers: Optional[Dict[str, str]] = None, if_match: Optional[str] = None,
                        yes=False, no_wait=False, reimage=True, check_workloads=False, force=False,
                        verify_nodes=False, kube: Optional[dict] = None,
                        reimaged_before: Sequence[str] = ()) -> UpdateOutcome:
        """Bring the cluster and its nodes to the setting; run again after any failure, it finishes what is left.

        The contract (docs/convergence.md): it waits for an operation in flight, writes the setting if the
        cluster does not carry it (or reconciles a Failed cluster), then reimages the pools that imds-ext's record
        says are still due, and those that failed; it exits 0 only when all of that is done. `kube`: how the scan
        and the verification reach the Kubernetes API and probe the nodes (`verify`'s keywords).
        `reimaged_before`: pools whose reimage since the setting changed an earlier run saw succeed (a rollout's
        journal says so).
        """
        desired = constants.RESTRICTED if enable else constants.UNRESTRICTED
        resume = self._update_command(resource_group, name, enable)
        self._workload_check = (check_workloads and enable, force)
        self._kube = dict(kube or {})
        with self._staged(name):
            outcome = self._converge(resource_group, name, enable, desired, resume, dict(headers or {}),
                                     enable_oidc_issuer, if_match, yes, no_wait, reimage, reimaged_before)
        if verify_nodes and outcome.next_step is None:
            self._verified(resource_group, name)
        return outcome

    def _verified(self, resource_group: str, name: str) -> None:
        report = self.verify(resource_group, name, **self._kube)
        self.ui.warn(f"Verified: all {len(report['nodes'])} Linux node(s) of cluster '{name}' are "
                     f"{report['expected']}, as podLinkLocalAccess='{report['podLinkLocalAccess']}' says.")

    def _check_workloads(self, resource_group: str, name: str, yes: bool) -> None:
        """--check-workloads: the scan before the change; what breaks stops it unless confirmed or --force."""
        checking, force = self._workload_check
        if not checking:
            return
        try:
            access = {k: v for k, v in self._kube.items() if k in ("admin", "kubeconfig", "context")}
            found = scan.breaking(self.scan(resource_group, name, fail_on_breaks=False, **access))
        except (AzureError, ImdsExtError) as ex:  # the scan could not run: the same rule as a rollout's
            failure = self.scan_failure(resource_group, name, ex)
            if not force:
                raise scan.ScanFailed(f"{failure.message} Nothing was changed. Fix: {failure.fix}.") from ex
            self.ui.warn(f"--force: enabling IMDS restriction without the workload scan. {failure.message}")
            return
        if not found:
            return
        listing = "\n  ".join(found)
        if force:
            self.ui.warn(f"--force: enabling although these break:\n  {listing}")
        elif yes:
            raise scan.WorkloadsWouldBreak(
                f"{len(found)} workload(s) or component(s) of cluster '{name}' take tokens from IMDS and would break:"
                f"\n  {listing}\nNothing was changed. Move them to Microsoft Entra Workload ID, or pass --force to "
                "enable IMDS restriction anyway.")
        elif not self.ui.confirm(f"These take tokens from IMDS and will break:\n  {listing}\nEnable IMDS restriction "
                                 "anyway?"):
            raise Cancelled("Cancelled: no change was made.")

    @contextmanager
    def _staged(self, name: str):
        """Whatever stops the flow, the user learns what is true of the cluster at that point and the command that
        finishes the job (`self._stage`, kept current by the flow)."""
        self._stage = f"Nothing was changed on cluster '{name}'."
        try:
            yield
        except KeyboardInterrupt:
            raise Interrupted(f"Interrupted. {self._stage}") from None
        except AzureError as ex:
            if isinstance(ex, ResourceNotFoundError) and "Nothing was changed" in self._stage:
                raise  # a missing cluster or group: exit code 3, nothing else to say
            raise Unfinished(self._stage) from ex

    def _converge(self, resource_group, name, enable, desired, resume, headers, enable_oidc_issuer, if_match, yes,
                  no_wait, reimage, reimaged_before=()) -> UpdateOutcome:
        mc, reimaged = self.settle(resource_group, name)
        if reimaged_before:
            self.ui.warn(f"By the rollout's journal, the node-image upgrade of pool(s) {', '.join(reimaged_before)} "
                         f"of cluster '{name}' since the setting changed ran to the end in an earlier run: they are "
                         "not reimaged again.")
            reimaged |= set(reimaged_before)
        plan = planning.make_plan(mc, resource_group, name, enable, enable_oidc_issuer)
        written = False
        if plan.changes_cluster or provisioning_state(mc).lower() == "failed":
            mc, written = self._write(mc, resource_group, name, enable, enable_oidc_issuer, headers, if_match, yes,
                                      no_wait, reimage, resume)
            if mc is None:  # --no-wait: the update is on its way
                return UpdateOutcome(None, next_step=f"The update was sent. Run '{resume}' (it waits for the update "
                                                     "if it is still running) so that the nodes enforce the change.")
            yes = yes or written
        if written:
            reimaged = set()  # upgrades seen before this run's change do not count for it
        due = self._pools_due(mc, desired, reimaged)
        state = "enabled" if enable else "disabled"
        if not due:
            if marker.pending(mc.get("tags"), desired) is not None:  # the upgrades it names were seen to the end
                self._record(resource_group, name, desired, [])
                mc = self.get_cluster(resource_group, name)
            if reimaged and not written:
                self.ui.warn(f"IMDS restriction is {state} on cluster '{name}'; the node-image upgrade of pool(s) "
                             f"{', '.join(sorted(reimaged))} that was in progress has finished, and no other is due.")
            elif not written:
                self.ui.warn(f"IMDS restriction is already {state} on cluster '{name}' and, by imds-ext's record, "
                             "no node-image upgrade is due; nothing was changed. (If the setting was changed by "
                             "another tool, imds-ext cannot tell whether the nodes were reimaged since: run "
                             f"'{self._upgrade_command(resource_group, name)}' to be sure.)")
            return UpdateOutcome(mc)
        if not written:
            self.ui.warn(f"IMDS restriction is already {state} on cluster '{name}', but the node-image upgrade of "
                         f"pool(s) {', '.join(due)} is still due (an earlier run did not finish)"
                         + ("; finishing it." if reimage else "."))
        if not reimage:
            return UpdateOutcome(mc, next_step=f"The nodes do not enforce the change until they are reimaged: run "
                                               f"'{self._upgrade_command(resource_group, name)}'.")
        if not yes and not self.ui.confirm(
                f"The node pool(s) {', '.join(due)} of cluster '{name}' get a node-image-only upgrade so that their "
                "nodes enforce the setting (nodes are reimaged, workloads are drained). Proceed?"):
            raise Cancelled("Cancelled: the setting is in place, but the nodes were not reimaged.")
        return UpdateOutcome(self._reimage(resource_group, name, desired, due, resume, pool_sizes(mc)))

    def _write(self, mc, resource_group, name, enable, enable_oidc_issuer, headers, if_match, yes, no_wait, reimage,
               resume):
        """The ETag-guarded PUT of the setting, with the record of the reimage it makes due; then the wait and the
        check. (cluster, True) when this run wrote it; (cluster, False) when it turned out to be in place already
        (a concurrent writer, or our own earlier request whose answer was lost)."""
        action = "enable IMDS restriction" if enable else "disable IMDS restriction"
        for attempt in range(1, MAX_ETAG_ATTEMPTS + 1):
            if attempt > 1:
                mc, _ = self.settle(resource_group, name)
            plan = planning.make_plan(mc, resource_group, name, enable, enable_oidc_issuer)
            if not plan.changes_cluster and provisioning_state(mc).lower() != "failed":
                return mc, False
            env = (self.environment(mc, headers, enable_oidc_issuer) if enable
                   else preflight.Environment(cli=self.ui.cli_name))
            check = (preflight.check_enable if enable else preflight.check_disable)(mc, env, resource_group, name)
            if not check.ok:
                raise PreflightFailed(preflight.format_blockers(check, action), check.blockers)
            for warning in check.warnings:
                self.ui.warn(f"{warning.message} {warning.advice}")
            if attempt == 1 and plan.changes_cluster:
                self._check_workloads(resource_group, name, yes)
            if not plan.changes_cluster:  # the setting is in place but the cluster's last operation failed
                self.ui.warn(f"Cluster '{name}' is in the Failed state (its last operation failed): writing it back "
                             "as it is, which makes AKS retry it.")
            if not yes:
                question = (plan.describe() if plan.changes_cluster else
                            f"Cluster '{name}' will be written back as it is, so that AKS retries its failed "
                            "operation; then its pools are reimaged.")
                question += "" if reimage else "\nThe nodes will NOT be reimaged now."
                if not self.ui.confirm(question + "\nProceed?"):
                    raise Cancelled("Cancelled: no change was made.")
                yes = True
            planning.apply(mc, plan, record=True)
            try:
                poller = self._aks.managed_clusters.begin_create_or_update(
                    resource_group, name, mc, etag=if_match or mc.get("eTag"),
                    match_condition=MatchConditions.IfNotModified, headers=headers, polling=_polling(no_wait))
            except HttpResponseError as ex:
                if ex.status_code != 412:
                    raise
                if if_match:
                    raise ImdsExtError(f"The cluster's ETag is no longer '{if_match}': it changed since you read "
                                       "it. Nothing was changed. " + service_message(ex)) from ex
                self.ui.warn(f"Cluster '{name}' changed while we were updating it (attempt {attempt} of "
                             f"{MAX_ETAG_ATTEMPTS}); reading it again.")
                continue
            if no_wait:
                return None, True
            self._stage = (f"The update of cluster '{name}' was accepted by the service and may still be running "
                           f"there. Run '{resume}' to finish the job: it waits for the update, retries it if it "
                           "failed, and reimages the nodes.")
            self._on_step("updating", {"podLinkLocalAccess": plan.desired})
            try:
                self.ui.wait(f"Updating cluster '{name}'", [poller])
                result = poller.result()
            except HttpResponseError as ex:
                if isinstance(ex.inner_exception, OperationFailed):  # it ended Failed; it is not "still running"
                    self._stage = (f"The update of cluster '{name}' failed in the service. Run '{resume}' to "
                                   "finish the job: it writes the cluster back, which makes AKS retry the "
                                   "operation, and reimages the nodes.")
                raise
            if pod_link_local_access(result) != plan.desired:
                raise ServiceIgnoredChange(
                    f"The service accepted the update but the cluster reports podLinkLocalAccess="
                    f"'{pod_link_local_access(result)}', not '{plan.desired}'. The AKS api-version in use must be a "
                    "preview that has the field (2024-04-02-preview or later); check AZIMDS_AKS_API_VERSION.")
            self._on_step("updated", {"podLinkLocalAccess": plan.desired})
            return result, True
        raise ConcurrentModification(
            f"Cluster '{name}' kept changing under us ({MAX_ETAG_ATTEMPTS} ETag mismatches); nothing was "
            "overwritten. Try again once other changes have finished.")

    def _pools_due(self, mc, desired: str, reimaged) -> List[str]:
        """Linux pools still to reimage for `desired`: those imds-ext's record names (less those seen being
        reimaged since), and those in Failed state."""
        linux = [p for p in agent_pools(mc) if (p.get("osType") or "Linux").lower() == "linux"]
        recorded = set(marker.due(mc.get("tags"), desired, [p.get("name", "") for p in linux]))
        done = {p.lower() for p in reimaged}
        return [p.get("name") for p in linux
                if (p.get("name", "") in recorded and p.get("name", "").lower() not in done)
                or (p.get("provisioningState") or "").lower() == "failed"]

    def _reimage(self, resource_group: str, name: str, desired: str, pools: List[str], resume: str,
                 sizes: Optional[Dict[str, int]] = None):
        self._stage = (f"The node-image upgrade of pool(s) {', '.join(pools)} of cluster '{name}' was started and "
                       f"may still be running. Run '{resume}' to finish the job.")
        self._on_step("reimaging", {"pools": list(pools)})
        failures = self.node_images.run(resource_group, name, pools, sizes)
        done = [pool for pool in pools if pool not in failures]
        self._stage = (f"The node-image upgrade of pool(s) {', '.join(done) or 'none'} of cluster '{name}' is done, "
                       "but imds-ext's record of the reimage due could not be updated. Run "
                       f"'{resume}' to finish the job (it may reimage those pools once more).")
        self._on_step("reimaged", {"pools": done, "failed": sorted(failures)})  # journaled before the record's write
        self._record(resource_group, name, desired, list(failures))
        if failures:
            raise NodeImageUpgradeFailed(failure_message(failures, resume))
        return self.get_cluster(resource_group, name)

    def _record(self, resource_group: str, name: str, setting: str, pools: List[str]) -> None:
        """The record rewritten (nodeimage.py), each read of it once no operation runs on the cluster."""
        self.node_images.record(resource_group, name, setting, pools,
                                read=lambda: self.settle(resource_group, name)[0])

    # -- node images -----------------------------------------------------------------------------------
    def _update_command(self, resource_group: str, name: str, enable: bool) -> str:
        flag = "--enable-imds-restriction" if enable else "--disable-imds-restriction"
        return f"{self.ui.cli_name} aks update -g {resource_group} -n {name} {flag} --yes{self._sub_arg}"

    def upgrade_cluster_node_images(self, resource_group: str, name: str, *, yes=False, no_wait=False,
                                    verify_nodes=False, kube: Optional[dict] = None):
        """`aks upgrade --node-image-only`: every pool, as az does, after a confirmation unless `yes`. Once every
        pool is done, imds-ext's record of a reimage due is cleared; then --verify (`kube`: as set_restriction's)."""
        resume = self._upgrade_command(resource_group, name)
        self._kube = dict(kube or {})
        with self._staged(name):
            mc, _ = self.settle(resource_group, name)
            pools = [p.get("name") for p in agent_pools(mc)]
            if not yes and not self.ui.confirm(
                    f"Since node_image_only is set, only the node image of the {len(pools)} pool(s) of cluster "
                    f"'{name}' ({', '.join(pools)}) will be upgraded; their nodes are reimaged. Proceed?"):
                raise Cancelled("Cancelled: no change was made.")
            if no_wait:
                pollers, failures = self.node_images.start(resource_group, name, pools, no_wait=True)
                if failures:
                    raise NodeImageUpgradeFailed(failure_message(failures, resume))
                return self.get_cluster(resource_group, name)
            self._stage = (f"The node-image upgrade of cluster '{name}' was started and may still be running. Run "
                           f"'{resume}' to finish it.")
            failures = self.node_images.run(resource_group, name, pools, pool_sizes(mc))
            if marker.TAG in (mc.get("tags") or {}):  # the record keeps only the pools still due that failed
                setting = pod_link_local_access(mc)
                due = marker.due(mc.get("tags"), setting, pools)
                self._record(resource_group, name, setting, [p for p in due if p in failures])
            if failures:
                raise NodeImageUpgradeFailed(failure_message(failures, resume))
        if verify_nodes:
            self._verified(resource_group, name)
        return self.get_cluster(resource_group, name)

    def upgrade_node_images(self, resource_group: str, name: str, pools: List[str]):
        """Node-image-only upgrade of `pools`, all at once; then the cluster (the benchmark's entry point)."""
        failures = self.node_images.run(resource_group, name, pools)
        if failures:
            raise NodeImageUpgradeFailed(failure_message(failures, self._upgrade_command(resource_group, name)))
        return self.get_cluster(resource_group, name)

    # -- verification --------------------------------------------------------------------------------
    def verify(self, resource_group: str, name: str, *, sample: Optional[int] = None,
               probe_image: str = DEFAULT_PROBE_IMAGE, admin: bool = False, kubeconfig: Optional[str] = None,
               context: Optional[str] = None) -> dict:
        """Probe the nodes (core/verification.py); the report when every probed node has the verdict the setting
        expects, else VerificationFailed (with the report) naming each node that does not and what to do."""
        mc = self.get_cluster(resource_group, name)
        setting = pod_link_local_access(mc)
        kube = kube_client(self.clients, resource_group, name, admin, kubeconfig, context, cluster=mc)
        from imds_ext.core.netpolicy_flow import probe_mode  # the network-policy block, proved by the same probes

        probes = Verification(kube, self.ui, policy_of=lambda client: probe_mode(client, mc, self.ui.warn))
        try:
            report = probes.run(name, setting, sample, probe_image)
        except KeyboardInterrupt:
            # run() has removed the probes on its way out; cleanup_error says if it could not
            done = ("The probes were removed; nothing else in the cluster changed." if probes.namespace else
                    "Nothing was created in the cluster.")
            raise Interrupted(f"Interrupted. {probes.cleanup_error or done}") from None
        finally:
            kube.close()
        if report.get("cleanup"):
            self.ui.warn(report["cleanup"])
        if report["removedLeftovers"]:
            self.ui.warn(f"Removed what earlier runs left behind: {', '.join(report['removedLeftovers'])}.")
        if not report["ok"]:
            raise VerificationFailed(verdict_message(report, self._upgrade_command(resource_group, name)), report)
        return report

    def upgrade_pool(self, resource_group: str, cluster: str, pool: str, no_wait: bool = False, yes: bool = False):
        """`aks nodepool upgrade --node-image-only`: settle first, as the update does (an upgrade of the pool still
        running from an earlier run is waited for and counts, unless it failed); then, confirmed unless `yes`, the
        pool's upgrade."""
        resume = (f"{self.ui.cli_name} aks nodepool upgrade -g {resource_group} --cluster-name {cluster} -n {pool} "
                  f"--node-image-only --yes{self._sub_arg}")
        with self._staged(cluster):
            mc, reimaged = self.settle(resource_group, cluster)
            state = next(((p.get("provisioningState") or "") for p in agent_pools(mc)
                          if (p.get("name") or "").lower() == pool.lower()), "")
            if pool.lower() in {p.lower() for p in reimaged} and state.lower() != "failed":
                self.ui.warn(f"The node-image upgrade of pool '{pool}' of cluster '{cluster}' that was in progress "
                             "has finished; no other was started.")
                return self._aks.agent_pools.get(resource_group, cluster, pool)
            count = next((node_count(p) for p in agent_pools(mc) if (p.get("name") or "").lower() == pool.lower()),
                         None)
            nodes = f"its {count} node(s)" if isinstance(count, int) else "its nodes"
            if not yes and not self.ui.confirm(
                    f"Since node_image_only is set, only the node image of pool '{pool}' of cluster '{cluster}' will "
                    f"be upgraded: {nodes} are reimaged, and their workloads drained and rescheduled. Proceed?"):
                raise Cancelled("Cancelled: no change was made.")

            def started():
                self._stage = (f"The node-image upgrade of pool '{pool}' of cluster '{cluster}' was started and may "
                               f"still be running. Run '{resume}' to finish the job: it waits for the upgrade.")

            return self.node_images.upgrade_pool(resource_group, cluster, pool, no_wait=no_wait, started=started)
