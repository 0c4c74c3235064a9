"""The handler steps both command lines run around the core: the answer "no" at a prompt, the next command to
run, and the output shape. `az-imds`'s handlers and the extension's call these with their own service."""
from __future__ import annotations

import functools
import shlex
import signal
import sys
import threading
from contextlib import contextmanager

from knack.log import get_logger

from imds_ext.core.errors import Cancelled, Interrupted
from imds_ext.frontend.output import resource
from imds_ext.frontend.validators import UsageError

logger = get_logger(__name__)


def ends_on_cancel(func):
    """"No" at the prompt: say that nothing changed and end with no output and exit code 0, as az's prompts do."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Cancelled as ex:
            logger.warning(str(ex))
            return None

    return wrapper


@contextmanager
def sigterm_as_interrupt():
    """SIGTERM (a CI job cancelled, a pod stopped) and SIGHUP (the terminal closed) end a run as Ctrl-C does: with
    the state of the cluster and the command that finishes the job, not in silence, and what it created removed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    signals = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {signum: signal.signal(signum, interrupt) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def guided(func):
    """The steps every handler that changes a cluster runs: "no" at the prompt ends quietly; SIGTERM is Ctrl-C."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with sigterm_as_interrupt():
            return ends_on_cancel(func)(*args, **kwargs)

    return wrapper


@guided
def update_restriction(service, resource_group_name, name, enable_imds_restriction=False,
                       disable_imds_restriction=False, enable_oidc_issuer=False, aks_custom_headers=None,
                       if_match=None, skip_node_image_upgrade=False, no_wait=False, yes=False, check_workloads=False,
                       force=False, verify_nodes=False, skip_workload_check=False, **kube):
    """`aks update --enable/--disable-imds-restriction` (validated: exactly one is set): the checked update, then
    the reimage. `kube`: --admin, --kubeconfig, --context, --probe-image, --sample of --verify and
    --check-workloads."""
    outcome = service.set_restriction(
        resource_group_name, name, enable=bool(enable_imds_restriction), enable_oidc_issuer=enable_oidc_issuer,
        headers=aks_custom_headers, if_match=if_match, yes=yes, no_wait=no_wait, reimage=not skip_node_image_upgrade,
        check_workloads=check_workloads, force=force, verify_nodes=verify_nodes, kube=kube_options(**kube))
    if outcome.next_step:
        logger.warning(outcome.next_step)
    return resource(outcome.cluster, flatten=True)


@guided
def upgrade_node_images(service, resource_group_name, name, yes=False, no_wait=False, verify_nodes=False, **kube):
    """`aks upgrade --node-image-only`: every pool at once, waited for unless --no-wait; then --verify (`kube`: as
    update_restriction's)."""
    return resource(service.upgrade_cluster_node_images(resource_group_name, name, yes=yes, no_wait=no_wait,
                                                        verify_nodes=verify_nodes, kube=kube_options(**kube)),
                    flatten=True)


def kube_options(admin=False, kubeconfig=None, context=None, probe_image=None, sample=None) -> dict:
    """The Kubernetes options given (as `verify` takes them); those not given keep verify's defaults."""
    given = {"admin": admin, "kubeconfig": kubeconfig, "context": context, "probe_image": probe_image,
             "sample": sample}
    return {k: v for k, v in given.items() if v not in (None, False)}


@guided
def upgrade_pool(service, resource_group_name, cluster_name, nodepool_name, no_wait=False, yes=False):
    """`aks nodepool upgrade --node-image-only`: what is in flight on the cluster waited for, then (confirmed unless
    --yes) the pool's upgrade, waited for unless --no-wait."""
    return resource(service.upgrade_pool(resource_group_name, cluster_name, nodepool_name, no_wait=no_wait, yes=yes),
                    flatten=True)


@guided
def create_cluster(service, resource_group_name, name, body, enable_imds_restriction=False, aks_custom_headers=None,
                   no_wait=False):
    """`aks create`: the checked create, waited for unless --no-wait; interrupted or its answer lost, the same
    command finishes it."""
    return resource(service.create(resource_group_name, name, body, enable_imds_restriction=enable_imds_restriction,
                                   headers=aks_custom_headers, no_wait=no_wait,
                                   resume=_same_command(service.ui.cli_name)), flatten=True)


def _same_command(cli_name: str) -> str:
    """The command being run, as the user typed it (each argument quoted for the shell as needed)."""
    return " ".join([cli_name, *(shlex.quote(a) for a in sys.argv[1:])])


def restriction_report(service, resource_group_name, name):
    """`aks imds-restriction show`."""
    return service.report(resource_group_name, name)


@guided
def verify_nodes(service, resource_group_name, name, sample=None, probe_image=None, admin=False, kubeconfig=None,
                 context=None):
    """`aks imds-restriction verify`: (report, ok). Not ok, the report is still the output (CI keeps it), each
    node that is not as expected is named on stderr, and the command exits 1."""
    from imds_ext.core.verification import DEFAULT_PROBE_IMAGE, VerificationFailed

    try:
        return service.verify(resource_group_name, name, sample=sample,
                              probe_image=probe_image or DEFAULT_PROBE_IMAGE, admin=admin, kubeconfig=kubeconfig,
                              context=context), True
    except VerificationFailed as ex:
        if ex.report is None:
            raise
        logger.error(str(ex))
        return ex.report, False


def scan_workloads(service, resource_group_name, name, admin=False, kubeconfig=None, context=None):
    """`aks imds-restriction scan`: (report, ok). The report (every workload, its verdict, evidence and fix) is
    the output in every case; what could not be checked is a warning; not ok (something breaks), each one that
    breaks is named on stderr and the command exits EXIT_BREAKS, apart from a scan that failed (exit 1)."""
    from imds_ext.core.scan import WorkloadsWouldBreak

    breaks = None
    try:
        report = service.scan(resource_group_name, name, admin=admin, kubeconfig=kubeconfig, context=context)
    except WorkloadsWouldBreak as ex:
        if ex.report is None:
            raise
        report, breaks = ex.report, str(ex)
    for warning in report["warnings"]:
        logger.warning(warning)
    if breaks:
        logger.error(breaks)
    return report, breaks is None


# -- fleet rollout -------------------------------------------------------------------------------------------
@guided
def rollout_start(clients, ui, enable, *, subscriptions=(), all_subscriptions=False, resource_groups=None, tags=None,
                  ids=None, enable_oidc_issuer=False, headers=None, canary=None, max_parallel=8, max_failures=None,
                  journal_path=None, dry_run=False, yes=False, check_workloads=False, force=False, canary_ids=None,
                  pause_after_canary=False, admin=False, fallback=None):
    """`aks imds-restriction rollout start`: discover, plan (shown on stderr), confirm, roll out in waves. Returns
    (rows, ok): ok when every selected cluster is done (a dry run: when none is blocked). `subscriptions` are IDs
    (each command line resolves names its own way); none means the clients' own subscription."""
    from imds_ext.core import fleet, journal as journaling
    from imds_ext.core.errors import ConfigurationError
    from imds_ext.frontend.output import rollout_plan
    from imds_ext.frontend.progress import FleetProgress

    action = "enable" if enable else "disable"
    selection = _selection(subscriptions, all_subscriptions, resource_groups, tags, ids)
    max_failures = 1 if max_failures is None else max_failures  # stop starting clusters at the first failure
    canary_done, reimaged = False, {}
    if journal_path:
        entries = journaling.read(journal_path, warn=logger.warning)
        recorded = journaling.action_of(entries)
        if recorded and recorded != action:
            raise ConfigurationError(f"The journal '{journal_path}' records a rollout that {recorded}s IMDS "
                                     f"restriction; this command would {action} it. Pass another --journal.")
        canary_done = pause_after_canary and journaling.paused_after_canary(entries)
        reimaged = journaling.reimaged_pools(entries)
    if canary_done:
        logger.warning("The journal's last run paused after its canary wave: going on with the other clusters.")
    canary = 0 if canary_done else (1 if canary is None else canary)
    rollout = fleet.Rollout(clients, ui, enable=enable, enable_oidc_issuer=enable_oidc_issuer, headers=headers,
                            check_workloads=check_workloads, force=force, fallback=fallback)
    rollout.reimaged, rollout.admin = reimaged, admin
    try:
        try:
            targets = rollout.plan(rollout.discover(selection))
        except KeyboardInterrupt:
            raise Interrupted("Interrupted while reading the clusters: nothing was changed.") from None
        rows = [t.to_dict() for t in targets]
        if not targets:
            logger.warning("No cluster matches the selection; nothing to do.")
            return [], True
        logger.warning(rollout_plan(rows, enable, canary, max_parallel, max_failures))
        if canary_ids and not canary_done:  # the canaries named; those done already had their canary wave
            canary_ids = _canaries(canary_ids, targets)
            canary = len(canary_ids)
        to_do = sum(t.action in fleet.RUNS for t in targets)
        if dry_run:
            fleet.planned_waves(targets, canary, canary_ids or ())
            logger.warning("--dry-run: nothing was changed.")
            return [t.to_dict() for t in targets], not any(t.action == fleet.BLOCKED for t in targets)
        if to_do and not yes and not ui.confirm(f"{action.capitalize()} IMDS restriction on {to_do} cluster(s) as "
                                                "planned above?"):
            raise Cancelled("Cancelled: no change was made.")
        rollout.journal = journaling.Journal(journal_path) if journal_path else None
        rollout.journal_plan(selection, canary_done=canary_done)
        progress = FleetProgress(targets, parallel=max_parallel, stream=ui.stream, terminal=ui.shows_progress(),
                                 quiet=ui.only_errors())
        rollout.on_change, rollout.on_event = progress.update, progress.event
        interrupted = None
        try:
            rollout.run(canary=canary, max_parallel=max_parallel, max_failures=max_failures, canary_ids=canary_ids,
                        pause_after_canary=pause_after_canary)
        except Interrupted as ex:  # the result is still the output: it says where each cluster stands
            interrupted = str(ex)
        finally:
            progress.end()
        counts = fleet.summary(targets)
        if interrupted:
            logger.error(interrupted)
        else:
            line = (f"Rollout: {counts['done']} of {counts['total']} cluster(s) done, {counts['blocked']} blocked, "
                    f"{counts['failed']} failed, {counts['notStarted']} not started")
            if rollout.stopped_why:
                line += f" ({rollout.stopped_why})"
            if rollout.paused:
                logger.warning(line + ".")
            elif rollout.journal_failure:
                logger.warning(line + ".")
                logger.error(rollout.journal_failure)
            elif counts["done"] != counts["total"]:
                logger.warning(line + ". Fix what the result names, then run the same command again to finish the "
                               "job.")
            else:
                logger.warning(line)
        # Paused as asked, with its canary wave done: the stage succeeded (a pipeline's next stage goes on).
        ok = counts["done"] == counts["total"] or (rollout.paused and not counts["failed"] and not counts["blocked"])
        return [t.to_dict() for t in targets], ok and not interrupted
    finally:
        if rollout.journal is not None:
            rollout.journal.close()
        rollout.close()


def _canaries(canary_ids, targets):
    """--canary-ids: each one a selected cluster that the rollout can change (one done already counts as its canary
    having run); the IDs of those still to do. A name that is not selected, or blocked, is a usage error."""
    from imds_ext.core import fleet

    by_id = {t.id.lower(): t for t in targets}
    chosen = []
    for cluster_id in canary_ids or ():
        target = by_id.get(cluster_id.lower())
        if target is None:
            raise UsageError(f"--canary-ids: '{cluster_id}' is not among the selected clusters. Nothing was changed: "
                             "name clusters of the selection (see the plan above).")
        if target.action == fleet.BLOCKED:
            raise UsageError(f"--canary-ids: cluster '{target.name}' is blocked "
                             f"({'; '.join(b.message for b in target.blockers)}). Nothing was changed: fix it or "
                             "choose another canary.")
        if target.action in fleet.RUNS:
            chosen.append(target.id)
    return chosen


def _selection(subscriptions=(), all_subscriptions=False, resource_groups=None, tags=None, ids=None):
    """The clusters a fleet command selects (`subscriptions` as IDs: each command line resolves names its way)."""
    from imds_ext.core.discovery import Selection

    return Selection(subscriptions=tuple(dict.fromkeys(s.lower() for s in subscriptions or ())),
                     all_subscriptions=all_subscriptions, resource_groups=tuple(resource_groups or ()),
                     tags=tuple(tags or ()), ids=tuple(ids or ()))


def restriction_list(clients, ui, *, subscriptions=(), all_subscriptions=False, resource_groups=None, tags=None):
    """`aks imds-restriction list`: every selected cluster (selected as a rollout selects), its setting, effective
    state, whether it can be enabled and its blockers. Read-only; the rows whatever they say (exit 0)."""
    from imds_ext.core.inventory import Inventory

    inventory = Inventory(clients, ui)
    try:
        rows = inventory.rows(_selection(subscriptions, all_subscriptions, resource_groups, tags))
    except KeyboardInterrupt:
        raise Interrupted("Interrupted while reading the clusters: nothing was changed.") from None
    finally:
        inventory.close()
    if not rows:
        logger.warning("No cluster matches the selection.")
    return rows


def rollout_status(journal_path):
    """`aks imds-restriction rollout status`: each cluster's story from the journal. Returns (rows, ok): ok when
    every cluster in it is done."""
    from imds_ext.core import journal as journaling
    from imds_ext.core.cluster import parse_cluster_id
    from imds_ext.core.errors import ConfigurationError

    entries = journaling.read(journal_path, warn=logger.warning)
    if not any(e["event"] == "run" for e in entries):
        raise ConfigurationError(f"The journal '{journal_path}' records no rollout yet.")
    rows = []
    for story in journaling.clusters(entries).values():
        sub, group, name = parse_cluster_id(story["id"])
        rows.append({"id": story["id"], "subscription": sub, "resourceGroup": group, "name": name,
                     "state": story["state"], "steps": story["steps"], "updated": story["updated"],
                     **story["detail"]})
    rows.sort(key=lambda r: (r["subscription"], r["resourceGroup"].lower(), r["name"].lower()))
    return rows, all(r["state"] == "done" for r in rows)
