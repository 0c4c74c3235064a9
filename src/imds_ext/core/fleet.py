"""Fleet rollout: IMDS restriction over many clusters across subscriptions, planned first, in waves, journaled.

Discovery (discovery.py) lists the clusters of every selected subscription and resource group. The plan classifies
each cluster with the single-cluster rules (plan.py, preflight.py, marker.py): already done, to change, to finish
(its reimage is still due), or blocked, with every blocker and its fix; nothing changes before the plan is shown.
The rollout then runs the single-cluster flow (service.py) on each cluster to change: a canary wave that must fully
succeed, then the rest with at most `max_parallel` clusters at once, starting no new cluster once `max_failures`
have failed. Each step of each cluster goes to the journal as it ends. Interrupted (or once the journal cannot be
written), the running flows stop at their next wait and say what is true of their cluster; running the same command
again finishes the job, since each cluster's flow converges (docs/convergence.md).
"""
from __future__ import annotations

import functools
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from azure.core.exceptions import AzureError

from imds_ext.core import constants, journal as journaling, marker, netpolicy, netpolicy_flow, preflight, scan
from imds_ext.core.access import kube_client
from imds_ext.core.clients import ArmClients
from imds_ext.core.discovery import PLANNED, Discovery, Selection, Target, concurrently  # noqa: F401 (fleet's API)
from imds_ext.core.cluster import agent_pools, pod_link_local_access, provisioning_state
from imds_ext.core.errors import (ConfigurationError, ImdsExtError, Interrupted, PreflightFailed, Unfinished,
                                  service_message)
from imds_ext.core.interaction import Interaction
from imds_ext.core.reads import ClusterReads
from imds_ext.core.service import ImdsRestrictionService

# What the plan does with a cluster.
CHANGE, FINISH, NONE, BLOCKED = "change", "finish", "none", "blocked"
# --fallback network-policy: a cluster the managed setting cannot serve gets IMDS blocked by network policy.
NETWORK_POLICY = "networkPolicy"
RUNS = (CHANGE, FINISH, NETWORK_POLICY)  # the actions a rollout runs a flow for
# The blockers the fallback answers: what the cluster runs (add-ons, extensions, Windows or VirtualMachines pools),
# which network policy leaves alone. Any other blocker (OIDC off, the feature not registered) holds the cluster.
FALLBACK_CODES = frozenset({"IncompatibleAddon", "IncompatibleExtension", "WindowsNodePool", "VirtualMachinesNodePool"})
# How a cluster ends: its flow ran to the end, or not (and why).
DONE, FAILED, INTERRUPTED, NOT_STARTED = "done", "failed", "interrupted", "notStarted"

def classify(cluster: Mapping, env: Optional[preflight.Environment], enable: bool, resource_group: str,
             name: str) -> Tuple[str, List[preflight.Finding], List[preflight.Finding]]:
    """(action, blockers, warnings) of one cluster, by the single-cluster rules. `env` is needed only for a cluster
    to change (`needs_environment`). An operation in progress is no blocker here: the flow waits for it."""
    desired = constants.RESTRICTED if enable else constants.UNRESTRICTED
    if not needs_environment(cluster, enable):
        due = marker.pending(cluster.get("tags"), desired) is not None or _failed(cluster)
        return (FINISH if due else NONE), [], []
    check = (preflight.check_enable if enable else preflight.check_disable)(
        cluster, env or preflight.Environment(), resource_group, name)
    blockers = [b for b in check.blockers if b.code != "OperationInProgress"]
    return (BLOCKED if blockers else CHANGE), blockers, check.warnings


def needs_environment(cluster: Mapping, enable: bool) -> bool:
    """True when the cluster does not carry the setting yet (its preflight then needs the subscription's
    registrations and the cluster's extensions)."""
    desired = constants.RESTRICTED if enable else constants.UNRESTRICTED
    return pod_link_local_access(cluster) != desired


def _failed(cluster: Mapping) -> bool:
    return provisioning_state(cluster).lower() == "failed" or any(
        (p.get("provisioningState") or "").lower() == "failed" for p in agent_pools(cluster))


def fallback_choice(cluster: Mapping, blockers: Sequence[preflight.Finding], resource_group: str, name: str
                    ) -> Tuple[Optional[netpolicy.Choice], List[preflight.Finding]]:
    """--fallback network-policy, from the ARM body alone: (the mechanism, the blockers) when the cluster's only
    blockers are what it runs (FALLBACK_CODES) and its engine enforces policy; (None, the blockers) otherwise, with
    the engine's fix added when an engine is all the fallback lacks."""
    if not blockers or any(b.code not in FALLBACK_CODES for b in blockers):
        return None, list(blockers)
    choice = netpolicy.choose(cluster, resource_group, name)
    if choice.blockers:
        return None, list(blockers) + choice.blockers
    return choice, list(blockers)


def fallback_plan(cluster: Mapping, choice: netpolicy.Choice, refused: Sequence[preflight.Finding],
                  writes: Sequence[netpolicy.Write], reopened: Sequence[dict]
                  ) -> Tuple[str, List[preflight.Finding], List[preflight.Finding]]:
    """(action, blockers, warnings) of a cluster the fallback serves, from what apply would write and the other
    policies that reopen IMDS (netpolicy_flow.pending): `none` when apply would write nothing and nothing reopens
    IMDS (already protected: the re-run leaves it alone); `blocked` when another policy reopens IMDS and apply has
    nothing to write (the fix is that policy's); `networkPolicy` otherwise (with a reopening policy as a warning: the
    run then ends failed, naming it)."""
    why = "; ".join(b.message for b in refused)
    warnings = [preflight.Finding(
        "ManagedSettingRefused", f"The managed setting cannot serve this cluster ({why.rstrip('.')}): "
        f"--fallback network-policy blocks IMDS with network policy instead ({choice.mechanism}, "
        f"{netpolicy.ENGINE_NAMES[choice.engine]}), for the pods not on the host network outside the exempt "
        "namespaces (docs/network-policy.md).")]
    warnings += [preflight.Finding("PoolNotCovered", f"Pool '{p['pool']}' (Windows) is not covered: {p['reason']}.")
                 for p in netpolicy.uncovered_pools(cluster, choice.engine)]
    reopening = [preflight.Finding(
        "PolicyReopensImds", f"NetworkPolicy {r['namespace']}/{r['policy']} reopens IMDS for {r['pods']}: "
        f"{r['rule']}.", f"narrow that rule, or add except: [{netpolicy.IMDS_CIDR}] to its ipBlock; then run the "
        "same command again") for r in reopened]
    if reopening and not writes:
        return BLOCKED, reopening, warnings
    return (NETWORK_POLICY if writes else NONE), [], warnings + reopening


class _FlowInteraction:
    """How one cluster's flow talks during a rollout: the rollout was confirmed as a whole, so it never asks;
    its warnings are kept for the result; its waits end (as Ctrl-C would) once the rollout is stopped."""

    def __init__(self, cli_name: str, stop: threading.Event,
                 on_ended: Callable[[str, str], None] = lambda label, status: None):
        self.cli_name = cli_name
        self.stop = stop
        self.on_ended = on_ended  # (key, status) of each named poller (a pool's reimage) as it ends
        self.warnings: List[str] = []  # as the flow said them; Rollout._run_one makes them findings

    def confirm(self, message: str) -> bool:
        return True

    def wait(self, message: str, pollers) -> None:
        pending = list(pollers)
        while pending:
            if self.stop.is_set():
                raise KeyboardInterrupt
            pending[0].wait(0.2)
            for poller in [p for p in pending if p.done()]:
                pending.remove(poller)
                if getattr(poller, "key", ""):
                    self.on_ended(poller.key, poller.status())

    def warn(self, message: str) -> None:
        self.warnings.append(message)


class Waves:
    """The schedule: the canary wave, then the rest with bounded concurrency and a failure budget.

    `run_one(target, stop)` runs one cluster's flow and sets `target.result`. The schedule knows nothing of ARM,
    so it is tested on its own."""

    def __init__(self, run_one: Callable[[Target, threading.Event], None], *, canary: int, max_parallel: int,
                 max_failures: Optional[int], on_change: Callable[[], None] = lambda: None,
                 pause_after_canary: bool = False):
        self.run_one = run_one
        self.canary, self.max_parallel, self.max_failures = canary, max_parallel, max_failures
        self.pause_after_canary = pause_after_canary
        self.on_change = on_change
        self.stop = threading.Event()
        self.stopped_why: Optional[str] = None
        self.paused = False  # the canary wave succeeded and, as asked, nothing else was started

    def run(self, targets: Sequence[Target]) -> None:
        canary, rest = list(targets[:self.canary]), list(targets[self.canary:])
        try:
            if canary:
                self._wave(canary, "canary", min(self.max_parallel, len(canary)), failures_allowed=0)
                if any(t.result != DONE for t in canary):
                    self.stopped_why = self.stopped_why or (
                        "the canary wave did not fully succeed ("
                        + ", ".join(f"{t.name}: {t.result}" for t in canary if t.result != DONE)
                        + "), so no other cluster was started")
                    return
                if self.pause_after_canary and rest:
                    self.paused = True
                    self.stopped_why = self.stopped_why or (
                        f"paused after the canary wave (--pause-after-canary): {', '.join(t.name for t in canary)} "
                        f"done. A workload that lost its IMDS token may fail only once its cached token expires "
                        f"(hours later): check them, then run the same command to go on with the other {len(rest)}")
                    return
            self._wave(rest, "main", self.max_parallel, self.max_failures)
        finally:
            self._not_started(targets)  # however the schedule ended (interrupted in the canary wave too)

    def halt(self, why: str) -> None:
        """Start no new cluster; the running flows stop at their next wait, saying what is true of their cluster."""
        self.stopped_why = self.stopped_why or why
        self.stop.set()

    def _wave(self, targets: List[Target], wave: str, parallel: int, failures_allowed: Optional[int]) -> None:
        queue = list(targets)
        running: Dict[Future, Target] = {}
        failures, limit_reached = 0, False
        with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix=f"rollout-{wave}") as pool:
            try:
                while queue or running:
                    budget_left = failures_allowed is None or failures < failures_allowed or wave == "canary"
                    while queue and len(running) < parallel and budget_left and not self.stop.is_set():
                        target = queue.pop(0)
                        target.wave = wave
                        running[pool.submit(self.run_one, target, self.stop)] = target
                        self.on_change()
                    if not running:
                        break
                    finished, _ = wait(list(running), timeout=0.25, return_when=FIRST_COMPLETED)
                    for future in finished:
                        target = running.pop(future)
                        error = future.exception()
                        if error is not None:  # a bug in run_one: the cluster failed, the rollout goes on
                            target.result, target.error = FAILED, f"{type(error).__name__}: {error}"
                        if target.result != DONE:
                            failures += 1
                    self.on_change()  # every tick, so that the progress on a terminal keeps moving
                    limit_reached = limit_reached or (failures_allowed is not None and failures >= failures_allowed
                                                      and bool(queue) and wave != "canary")
            except KeyboardInterrupt:
                self.stop.set()  # the running flows end at their next wait, saying what is true of their cluster
                self.stopped_why = "interrupted"
                for future in running:
                    future.exception()  # wait for each to end
                self._not_started(queue)
                self.on_change()
                raise
        if limit_reached:  # counted once those running have ended: they may have failed too
            self.stopped_why = self.stopped_why or (
                f"{failures} cluster(s) failed (--max-failures {failures_allowed}), so no new cluster was started")
        self._not_started(queue)

    def _not_started(self, targets: Sequence[Target]) -> None:
        for target in targets:
            if target.result == PLANNED:
                target.result = NOT_STARTED


def read_failed(ex: Exception) -> preflight.Finding:
    """The blocker of a cluster whose preflight reads failed (its extensions unreadable, say): it holds no one else."""
    return preflight.Finding(
        "ReadFailed", f"What the preflight needs could not be read: {service_message(ex)}",
        "give the identity in use read access to the cluster, its extensions and the subscription's feature "
        "registrations, then run the same command again")


class Rollout(Discovery):
    """Discover, plan, roll out: the fleet's entry point for the command line."""

    def __init__(self, clients: ArmClients, ui: Interaction, *, enable: bool, enable_oidc_issuer: bool = False,
                 headers: Optional[Dict[str, str]] = None, journal: Optional[journaling.Journal] = None,
                 on_change: Callable[[List[Target]], None] = lambda targets: None, check_workloads: bool = False,
                 force: bool = False, on_event: Callable[[Target, str, dict], None] = lambda t, event, detail: None,
                 fallback: Optional[str] = None):
        super().__init__(clients, ui)
        self.enable = enable
        self.enable_oidc_issuer = enable_oidc_issuer
        self.check_workloads, self.force = check_workloads and enable, force
        self.admin = False  # --admin: each cluster's scan reaches its API server with the local admin account
        self.fallback = fallback if enable else None  # "network-policy": see _fall_back
        self.headers = dict(headers or {})
        self.journal = journal
        self.on_change = on_change
        # Told of each cluster's events as they happen ("started", "updating", "updated", "reimaging",
        # "poolReimaged", "reimaged", "ended"): what the progress and the CI log lines show.
        self.on_event = on_event
        self.targets: List[Target] = []
        self.stopped_why: Optional[str] = None
        self.paused = False
        # By lower-case cluster ID, the pools an earlier run's journal saw reimaged since the setting was written.
        self.reimaged: Dict[str, Sequence[str]] = {}

    @property
    def action(self) -> str:
        return "enable" if self.enable else "disable"

    # -- the plan ------------------------------------------------------------------------------------
    def plan(self, targets: List[Target]) -> List[Target]:
        """Classify every cluster (reading, for those to change, the registrations once per subscription and the
        cluster's extensions); journal the plan. No change is made."""
        concurrently([functools.partial(self._classify, t) for t in targets])
        self.targets = targets
        for target in targets:
            if target.action == BLOCKED:
                target.result = BLOCKED
            elif target.action == NONE:
                target.result = DONE
        return targets

    def journal_plan(self, selection: Selection, canary_done: bool = False) -> None:
        """Open the journal's record of this run with its plan (once the user has confirmed it); `canary_done`: it
        goes on after an earlier run's canary wave and pause."""
        if self.journal is None:
            return
        self.journal.write("run", action=self.action, selection=selection.to_dict(), clusters=len(self.targets),
                           **({"canaryDone": True} if canary_done else {}))
        for target in self.targets:
            blockers = [b.to_dict() for b in target.blockers]
            mechanism = {"mechanism": target.mechanism} if target.mechanism else {}
            self.journal.write("planned", target.id, action=target.action, podLinkLocalAccess=target.setting,
                               **({"blockers": blockers} if blockers else {}), **mechanism)
            if target.action == BLOCKED:
                self.journal.write(BLOCKED, target.id, blockers=blockers)
            elif target.action == NONE:
                self.journal.write(DONE, target.id, podLinkLocalAccess=target.setting, **mechanism)
        if self.journal.error:
            raise ConfigurationError(f"{self.journal.error} Nothing was changed: make it writable (free some "
                                     "space, say) or pass another --journal.")

    def _classify(self, target: Target) -> None:
        env = None
        if needs_environment(target.cluster, self.enable) and self.enable:
            try:
                env = self.environment(target, self.headers, self.enable_oidc_issuer)
            except (AzureError, ImdsExtError) as ex:  # one cluster unreadable (its access, say) holds no one else
                target.action, target.blockers = BLOCKED, [read_failed(ex)]
                return
        target.action, target.blockers, target.warnings = classify(target.cluster, env, self.enable,
                                                                   target.resource_group, target.name)
        if self.fallback and target.action == BLOCKED:
            self._fall_back(target)
        if self.check_workloads and target.action in (CHANGE, NETWORK_POLICY):
            self._scan(target)

    def _fall_back(self, target: Target) -> None:
        """--fallback network-policy: a cluster blocked only by what it runs, whose engine enforces policy, gets the
        network-policy action, or `none` when its Kubernetes API shows the block already in place (what apply would
        write: read_for_plan's bounded lists); without an engine it stays blocked, with the engine's fix added."""
        choice, target.blockers = fallback_choice(target.cluster, target.blockers, target.resource_group,
                                                  target.name)
        if choice is None:
            return
        try:
            kube = kube_client(self._clients(target.subscription), target.resource_group, target.name,
                               admin=self.admin, cluster=dict(target.cluster))
            try:
                found = netpolicy_flow.read_for_plan(kube, choice)
                writes, reopened = netpolicy_flow.pending(target.cluster, choice, found)
            finally:
                kube.close()
        except (AzureError, ImdsExtError) as ex:  # one cluster unreachable holds no one else
            command = (f"{self.ui.cli_name} aks imds-restriction network-policy show -g {target.resource_group} "
                       f"-n {target.name}")
            target.blockers.append(preflight.Finding(
                "PolicyReadFailed", "--fallback network-policy: the network policies in the cluster could not be "
                f"read through its API server, so nobody can tell what an apply would write: "
                f"{str(service_message(ex)).splitlines()[0].rstrip('.')}.",
                f"make the cluster's API server reachable from here with list access to namespaces and network "
                f"policies (docs/kubernetes-access.md), check with '{command}', then run the same command again"))
            return
        if choice.mechanism == netpolicy.CLUSTERWIDE and not found.clusterwide_served:  # apply would refuse it
            target.blockers.append(netpolicy.clusterwide_not_served(
                f"block IMDS on this cluster with NetworkPolicies, which Cilium enforces too ('{self.ui.cli_name} aks "
                f"imds-restriction network-policy apply -g {target.resource_group} -n {target.name} --mechanism "
                f"{netpolicy.PER_NAMESPACE}')", then=", then run the same command again"))
            return
        target.action, target.blockers, warnings = fallback_plan(target.cluster, choice, target.blockers, writes,
                                                                 reopened)
        target.warnings += warnings
        if target.action != BLOCKED:
            target.mechanism = choice.mechanism
            target.exempt = netpolicy_flow.exemptions_of(found)

    def _scan(self, target: Target) -> None:
        """--check-workloads: the workloads that take tokens from IMDS block their cluster, unless --force (then
        they are warnings). A cluster that cannot be scanned is blocked likewise: nobody could tell."""
        scan_command = f"{self.ui.cli_name} aks imds-restriction scan -g {target.resource_group} -n {target.name}"
        reads = ClusterReads(self._clients(target.subscription), self.ui)
        try:
            # By network policy, the exempt namespaces keep IMDS: the scan counts the covered ones only.
            exempt = target.exempt if target.action == NETWORK_POLICY else None
            found = scan.breaking(reads.scan(target.resource_group, target.name, admin=self.admin,
                                             fail_on_breaks=False, exempt=exempt))
            finding = found and preflight.Finding(
                "WorkloadsWouldBreak", f"{len(found)} workload(s) or component(s) take tokens from IMDS and would "
                "break: " + "; ".join(found), f"move them to Microsoft Entra Workload ID ('{scan_command}' gives "
                "each one's fix), or pass --force")
        except (AzureError, ImdsExtError) as ex:
            finding = reads.scan_failure(target.resource_group, target.name, ex)
        if not finding:
            return
        if self.force:
            target.warnings.append(preflight.Finding(finding.code, f"--force: {finding.message}", finding.fix))
        else:
            target.action, target.blockers = BLOCKED, [finding]

    # -- the rollout ---------------------------------------------------------------------------------
    def run(self, *, canary: int, max_parallel: int, max_failures: Optional[int], canary_ids: Sequence[str] = (),
            pause_after_canary: bool = False) -> List[Target]:
        """Run the flow on every cluster the plan changes or finishes, in waves; each ends with its result.

        The canary wave is the clusters `canary_ids` names (those still to do), else the first `canary`."""
        to_do = [t for t in self.targets if t.action in RUNS]
        if canary_ids:
            named = {i.lower() for i in canary_ids}
            canaries = [t for t in to_do if t.id.lower() in named]
            to_do = canaries + [t for t in to_do if t.id.lower() not in named]
            canary = len(canaries)
        waves = Waves(self._run_one, canary=canary, max_parallel=max_parallel, max_failures=max_failures,
                      on_change=lambda: self.on_change(self.targets), pause_after_canary=pause_after_canary)
        if self.journal is not None:  # a journal that cannot be written stops the rollout, not the flows mid-step
            self.journal.on_failure = lambda message: waves.halt("the journal could not be written")
        try:
            waves.run(to_do)
        except KeyboardInterrupt:
            self._journal_not_started(to_do)
            raise Interrupted(self.interrupted_message()) from None
        finally:
            self.stopped_why, self.paused = waves.stopped_why, waves.paused
        if self.paused and self.journal is not None:  # the same command, run again, goes on with the rest
            self.journal.write("paused", canary=[t.id for t in to_do if t.wave == "canary"])
        self._journal_not_started(to_do)
        return self.targets

    def _journal_not_started(self, targets: Sequence[Target]) -> None:
        if self.journal is not None:
            for target in targets:
                if target.result == NOT_STARTED:
                    self.journal.write(NOT_STARTED, target.id, why=self.stopped_why)

    @property
    def journal_failure(self) -> Optional[str]:
        """Why the rollout stopped when its journal could not be written; None otherwise."""
        if self.journal is None or not self.journal.error:
            return None
        return (f"{self.journal.error} From then on no new cluster was started, and those running stopped at their "
                "next wait (each one's state is in the result). Once it can be written (free some space, say) or with "
                "another --journal, run the same command again to finish the job.")

    def interrupted_message(self) -> str:
        counts = summary(self.targets)
        return (f"Interrupted: {counts[DONE]} cluster(s) done, {counts[INTERRUPTED]} stopped mid-way (each one's "
                f"state is in the result and the journal), {counts[NOT_STARTED]} not started. Run the same command "
                "again to finish the job.")

    def _run_one(self, target: Target, stop: threading.Event) -> None:
        """One cluster's flow (service.py), its steps journaled; its result set however it ends."""
        def pool_ended(pool: str, status: str) -> None:
            ok = status.lower() == "succeeded"
            if ok:
                target.pools_done.append(pool)
            if self.journal is not None:  # the evidence a resumed rollout reimages nothing twice on
                self.journal.write("poolReimaged", target.id, pool=pool, ok=ok, status=status)
            self._event(target, "poolReimaged", pool=pool, ok=ok, status=status)

        ui = _FlowInteraction(self.ui.cli_name, stop, on_ended=pool_ended)
        shared = self._clients(target.subscription)
        clients = shared.for_subscription(target.subscription, shared.memo)  # its own connections

        def step(name: str, detail: dict) -> None:
            target.step = name
            if name == "updated":  # the row shows the setting the cluster was left with, whatever happens next
                target.setting = detail.get("podLinkLocalAccess", target.setting)
            elif name == "reimaging":
                target.pools_due, target.pools_done = list(detail.get("pools", ())), []
            if self.journal is not None:
                self.journal.write(name, target.id, **detail)
            self._event(target, name, **detail)

        service = ImdsRestrictionService(clients, ui, on_step=step)
        service.name_subscription = True

        def restrict() -> None:  # the managed setting, then the reimage (service.py)
            outcome = service.set_restriction(target.resource_group, target.name, self.enable,
                                              enable_oidc_issuer=self.enable_oidc_issuer, headers=self.headers,
                                              yes=True, reimaged_before=self.reimaged.get(target.id.lower(), ()))
            target.result, target.setting = DONE, pod_link_local_access(outcome.cluster)

        def protect() -> None:  # --fallback network-policy: `network-policy apply --yes` (netpolicy_flow.py)
            step("applyingPolicy", {})
            report = netpolicy_flow.NetworkPolicyFlow(service).apply(target.resource_group, target.name, yes=True,
                                                                     admin=self.admin)
            target.mechanism = report.get("mechanism") or target.mechanism
            # Each write the flow said ("created NetworkPolicy shop/...") is in the step, counted: not a warning.
            said = {f"{c['action']}d {c['kind']} {c['namespace'] + '/' if c['namespace'] else ''}{c['name']}"
                    for c in report.get("changes") or ()}
            ui.warnings[:] = [w for w in ui.warnings if w not in said]
            step("policyApplied", {"mechanism": report.get("mechanism"), "writes": len(report.get("changes") or ())})
            if report.get("status") == netpolicy.NOT_PROTECTED:
                reopened = "; ".join(f"{r['namespace']}: {r['policy']} ({r['rule']})"
                                     for r in report.get("reopenedBy") or ())
                raise ImdsExtError(f"The network policy is in place, but IMDS stays reachable in some namespaces"
                                   f"{': ' + reopened if reopened else ''}. Fix those policies, then run the same "
                                   "command again ('aks imds-restriction network-policy show' lists them).")
            target.result = DONE

        started = target.started_at = time.monotonic()
        target.step = "started"
        if self.journal is not None:
            self.journal.write("started", target.id, wave=target.wave)
        self._event(target, "started", wave=target.wave)
        try:
            (protect if target.action == NETWORK_POLICY else restrict)()
        except PreflightFailed as ex:  # the cluster changed since the plan
            target.result, target.error = BLOCKED, str(ex)
            target.blockers = ex.blockers
        except Interrupted as ex:
            target.result, target.error = INTERRUPTED, str(ex)
        except Unfinished as ex:
            target.result, target.error = FAILED, f"{service_message(ex.__cause__).rstrip('.')}. {ex.stage}"
        except (ImdsExtError, AzureError) as ex:
            target.result, target.error = FAILED, service_message(ex)
        finally:
            target.seconds = time.monotonic() - started
            target.warnings += _flow_warnings(ui.warnings, target.warnings)
            clients.close()
        if self.journal is not None:
            detail = {"podLinkLocalAccess": target.setting} if target.result == DONE else {"error": target.error}
            if target.action == NETWORK_POLICY and target.mechanism:
                detail["mechanism"] = target.mechanism
            if target.result == BLOCKED:
                detail["blockers"] = [b.to_dict() for b in target.blockers]
            self.journal.write(target.result, target.id, seconds=round(target.seconds, 1), **detail)
        target.step = None
        self._event(target, "ended", result=target.result, error=target.error, seconds=target.seconds)

    def _event(self, target: Target, event: str, **detail) -> None:
        try:
            self.on_event(target, event, detail)
        except OSError:  # a closed or broken stderr stops the progress, never a cluster's flow
            pass


def _flow_warnings(said: Sequence[str], known: Sequence[preflight.Finding]) -> List[preflight.Finding]:
    """What a cluster's flow warned of as it ran, as findings (code FlowWarning: the flow says them as sentences),
    leaving out those the plan already holds (the flow repeats the preflight's warnings as "message Fix: fix")."""
    seen = {w.message for w in known} | {f"{w.message} {w.advice}" for w in known}
    found: List[preflight.Finding] = []
    for message in dict.fromkeys(said):
        if message not in seen:
            found.append(preflight.Finding("FlowWarning", message))
    return found


def planned_waves(targets: Sequence[Target], canary: int, canary_ids: Sequence[str] = ()) -> None:
    """The wave each cluster to change or finish will start in (what `--dry-run` shows): those `canary_ids` names,
    else the first `canary` of them, "canary"; the others "main"; a cluster left as it is (blocked, done) has none."""
    to_do = [t for t in targets if t.action in RUNS]
    named = {i.lower() for i in canary_ids}
    for index, target in enumerate(to_do):
        canary_one = target.id.lower() in named if named else index < canary
        target.wave = "canary" if canary_one else "main"


def summary(targets: Sequence[Target]) -> Dict[str, int]:
    counts = {state: 0 for state in (DONE, BLOCKED, FAILED, INTERRUPTED, NOT_STARTED, PLANNED)}
    for target in targets:
        counts[target.result] = counts.get(target.result, 0) + 1
    counts["total"] = len(targets)
    return counts
