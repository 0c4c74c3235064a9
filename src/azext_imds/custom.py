"""Handlers: the extension's own command, and the IMDS paths of az's `aks create` / `aks update` / `aks upgrade`."""
import dataclasses
import functools

from knack.log import get_logger

from azext_imds._client_factory import cf_arm, cf_imds
from imds_ext.core import marker, plan as planning
from imds_ext.core.constants import POD_LINK_LOCAL_ACCESS
from imds_ext.core.errors import ImdsExtError
from imds_ext.core.create import check_created_restricted
from imds_ext.frontend import handlers
from imds_ext.frontend.errors import EXIT_BREAKS, EXIT_ERROR, as_az_error
from imds_ext.frontend.interaction import ConsoleInteraction

logger = get_logger(__name__)


def az_errors(func):
    """The core's errors as az's error classes (imds_ext.frontend.errors), so az prints them its way with its
    exit codes, never as an unexpected-error traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ImdsExtError as ex:
            raise as_az_error(ex) from ex

    return wrapper


@az_errors
def aks_imds_restriction_show(cmd, resource_group_name, name):
    return handlers.restriction_report(cf_imds(cmd.cli_ctx), resource_group_name, name)


@az_errors
def aks_imds_restriction_verify(cmd, resource_group_name, name, sample=None, probe_image=None, admin=False,
                                kubeconfig=None, context=None):
    return _exit_1_unless(cmd, handlers.verify_nodes(cf_imds(cmd.cli_ctx), resource_group_name, name, sample=sample,
                                                     probe_image=probe_image, admin=admin, kubeconfig=kubeconfig,
                                                     context=context))


@az_errors
def aks_imds_restriction_scan(cmd, resource_group_name, name, admin=False, kubeconfig=None, context=None):
    return _exit_1_unless(cmd, handlers.scan_workloads(cf_imds(cmd.cli_ctx), resource_group_name, name, admin=admin,
                                                       kubeconfig=kubeconfig, context=context), code=EXIT_BREAKS)


def _subscription_ids(cmd, subscriptions):
    """--subscriptions: IDs as given (the credential of az's login reaches every subscription of its tenant); names
    through az's profile, as --subscription."""
    from azure.cli.core._profile import Profile

    from imds_ext.core.settings import is_subscription_id

    profile = Profile(cli_ctx=cmd.cli_ctx)
    return [s if is_subscription_id(s) else profile.get_subscription(s)["id"] for s in subscriptions or ()]


@az_errors
def aks_imds_restriction_list(cmd, subscriptions=None, all_subscriptions=False, resource_groups=None, tags=None):
    return handlers.restriction_list(cf_arm(cmd.cli_ctx), ConsoleInteraction(cmd.cli_ctx, "az"),
                                     subscriptions=_subscription_ids(cmd, subscriptions),
                                     all_subscriptions=all_subscriptions, resource_groups=resource_groups, tags=tags)


@az_errors
def aks_imds_restriction_rollout_start(cmd, enable_imds_restriction=False, disable_imds_restriction=False,
                                       subscriptions=None, all_subscriptions=False, resource_groups=None, tags=None,
                                       ids=None, canary=None, max_parallel=8, max_failures=None, journal=None,
                                       dry_run=False, enable_oidc_issuer=False, aks_custom_headers=None, yes=False,
                                       check_workloads=False, force=False, canary_ids=None,
                                       pause_after_canary=False,
                                       skip_workload_check=False,  # pylint: disable=unused-argument
                                       admin=False, fallback=None):
    subs = _subscription_ids(cmd, subscriptions)
    outcome = handlers.rollout_start(
        cf_arm(cmd.cli_ctx), ConsoleInteraction(cmd.cli_ctx, "az"), bool(enable_imds_restriction), subscriptions=subs,
        all_subscriptions=all_subscriptions, resource_groups=resource_groups, tags=tags, ids=ids,
        enable_oidc_issuer=enable_oidc_issuer, headers=aks_custom_headers, canary=canary, max_parallel=max_parallel,
        max_failures=max_failures, journal_path=journal, dry_run=dry_run, yes=yes, check_workloads=check_workloads,
        force=force, canary_ids=canary_ids, pause_after_canary=pause_after_canary, admin=admin, fallback=fallback)
    return _exit_1_unless(cmd, outcome)


@az_errors
def aks_imds_restriction_rollout_status(cmd, journal):
    return _exit_1_unless(cmd, handlers.rollout_status(journal))


def _exit_1_unless(cmd, outcome, code=EXIT_ERROR):
    """(rows, ok): the rows are the output; not ok, az exits 1 (or `code`: scan's 4, something breaks) once it has
    printed them. az's invoker has no exit code for a result, so the extension ends the process after the output,
    as az's own code that calls sys.exit does (az's main logs it and exits with that code)."""
    if outcome is None:  # cancelled at the prompt
        return None
    rows, ok = outcome
    if not ok:
        from knack.events import EVENT_CLI_SUCCESSFUL_EXECUTE

        def _exit(_cli_ctx, **_kwargs):
            raise SystemExit(code)

        cmd.cli_ctx.register_event(EVENT_CLI_SUCCESSFUL_EXECUTE, _exit)
    return rows


# -- results as az prints them ---------------------------------------------------------------------------
def _with_the_setting(obj, converted):
    """todict's post-processor: `networkProfile.podLinkLocalAccess`, the setting this extension changes, kept
    where the SDK model az ships does not declare it (its default api-version's model does not, and az's todict
    drops what a model does not declare); everything else exactly as az prints it."""
    if getattr(obj, "_is_model", False) and POD_LINK_LOCAL_ACCESS in obj and POD_LINK_LOCAL_ACCESS not in converted:
        converted[POD_LINK_LOCAL_ACCESS] = obj[POD_LINK_LOCAL_ACCESS]
    return converted


def az_printed(cluster, remove_nulls=False):
    """A managed cluster as az prints it: az's own `todict` of the SDK model az ships (az's names and casing:
    enableRbac, azurePortalFqdn, resourceUid; every field the model declares, null or not), with the IMDS setting
    (_with_the_setting); `remove_nulls`: az's `_remove_nulls` first, as `az aks show` and `az aks upgrade` print
    it."""
    from azure.cli.core.util import todict

    if cluster is None:
        return None
    if not getattr(cluster, "_is_model", False):  # the wire form: deserialized as az deserializes the answer
        from azure.mgmt.containerservice.models import ManagedCluster

        cluster = ManagedCluster(cluster)
    if remove_nulls:
        from azure.cli.command_modules.acs.custom import _remove_nulls

        _remove_nulls([cluster])
    return todict(cluster, _with_the_setting)


class AzPrinting:
    """The core's service, whose clusters come out as az prints them (az_printed): the shared handlers then print
    them as they are (`output.resource` keeps a plain dict without `properties` as it is)."""

    def __init__(self, service):
        self._service = service

    def __getattr__(self, name):
        return getattr(self._service, name)

    def set_restriction(self, *args, **kwargs):
        outcome = self._service.set_restriction(*args, **kwargs)
        return dataclasses.replace(outcome, cluster=az_printed(outcome.cluster))

    def upgrade_cluster_node_images(self, *args, **kwargs):
        return az_printed(self._service.upgrade_cluster_node_images(*args, **kwargs), remove_nulls=True)


# -- az's own commands, wrapped ---------------------------------------------------------------------------
@az_errors
def aks_update_imds(cmd, resource_group_name, name, **flags):
    """`az aks update --enable/--disable-imds-restriction`: the core's checked update, then the reimage."""
    return handlers.update_restriction(AzPrinting(cf_imds(cmd.cli_ctx)), resource_group_name, name, **flags)


class _ReimageDue(Exception):
    """Raised from az's first read of the cluster when imds-ext's record says its IMDS reimage is due."""

    def __init__(self, pools):
        super().__init__(", ".join(pools))
        self.pools = pools


class DecidingManagedClusters:
    """The owner's managed-clusters operations; the first read of the cluster (the one `aks upgrade` makes before
    it changes anything) also tells whether imds-ext's record (core/marker.py, the tag `imds-ext-reimage-pending`)
    says the cluster's IMDS reimage is due. Without the tag nothing else is sent: az's upgrade goes on with exactly
    its own requests. With it, the cluster is read at the preview api-version that shows the setting, and a reimage
    still due stops az's upgrade there, before it has sent anything but reads."""

    def __init__(self, inner, service_factory):
        self._inner = inner
        self._service_factory = service_factory
        self._decided = False

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def get(self, resource_group_name, resource_name, *args, **kwargs):
        instance = self._inner.get(resource_group_name, resource_name, *args, **kwargs)
        if not self._decided:
            self._decided = True
            from imds_ext.core.reads import reimage_due

            if marker.TAG in (getattr(instance, "tags", None) or {}):
                due = reimage_due(self._service_factory().get_cluster(resource_group_name, resource_name))
                if due:
                    raise _ReimageDue(due)
        return instance


@az_errors
def aks_upgrade_node_image_only(original, command_args, wait=False, verify_nodes=False):
    """`az aks upgrade --node-image-only` (alone): the owner's own upgrade (az's starts every pool's upgrade and
    returns), unless imds-ext's record says the cluster's IMDS reimage is due, or --wait-for-node-images or
    --verify asks for the wait: then the core's upgrade, every pool at once, waited for with progress, the record
    cleared at the end."""
    cmd = command_args["cmd"]
    group, name = command_args["resource_group_name"], command_args["name"]
    yes, no_wait = command_args.get("yes", False), command_args.get("no_wait", False)
    service = functools.lru_cache(maxsize=1)(lambda: cf_imds(cmd.cli_ctx))
    operation = getattr(original, "__self__", None)
    factory = getattr(operation, "client_factory", None)
    if not (wait or verify_nodes) and (no_wait or factory is None):
        return original(command_args)  # --no-wait: az's own, which does not wait either
    if not (wait or verify_nodes):
        operation.client_factory = lambda cli_ctx, args: DecidingManagedClusters(factory(cli_ctx, args), service)
        try:
            return original(command_args)
        except _ReimageDue as due:
            logger.warning("imds-ext: the IMDS restriction of cluster '%s' is not yet enforced by pool(s) %s (its "
                           "record, the tag '%s'): running imds-ext's node-image upgrade, which waits for every "
                           "pool and then clears the record.", name, ", ".join(due.pools), marker.TAG)
        finally:
            operation.client_factory = factory
    return handlers.upgrade_node_images(AzPrinting(service()), group, name, yes=yes, no_wait=no_wait,
                                        verify_nodes=verify_nodes)


class RestrictingManagedClusters:
    """az's managed-clusters operations, except that the create PUT is checked and carries the restriction.

    az's own `aks_create` builds the whole cluster from all of its options; at the PUT this runs the core's
    create preflight over exactly that body, writes `networkProfile.podLinkLocalAccess` with the core's model
    patch, and sends it at the preview api-version that carries the field. Everything else is az's client.
    """

    def __init__(self, inner, service):
        self._inner = inner
        self._service = service

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def begin_create_or_update(self, resource_group_name, resource_name, parameters, **kwargs):
        self._service.check_create(resource_group_name, resource_name, parameters, enable_imds_restriction=True,
                                   headers=kwargs.get("headers"))
        planning.apply(parameters, planning.make_plan(parameters, resource_group_name, resource_name, True))
        return self._service.clients.container_service.managed_clusters.begin_create_or_update(
            resource_group_name, resource_name, parameters, **kwargs)


def _create_preview(command_args) -> dict:
    """What preflight can know of a create before its owner builds the body: the OIDC issuer, the first pool's
    type, the add-ons asked for (az's option names)."""
    from imds_ext.core.addons import AZ_ADDONS

    props = {"oidcIssuerProfile": {"enabled": bool(command_args.get("enable_oidc_issuer"))},
             "agentPoolProfiles": [{"name": command_args.get("nodepool_name") or "nodepool1", "osType": "Linux",
                                    "type": command_args.get("vm_set_type") or "VirtualMachineScaleSets"}]}
    for addon in (command_args.get("enable_addons") or "").split(","):
        if addon.strip() in AZ_ADDONS:
            section, key = AZ_ADDONS[addon.strip()]
            props.setdefault(section, {})[key] = {"enabled": True}
    return {"properties": props}


@az_errors
def aks_create_imds_over(original, command_args, theirs_of):
    """`az aks create --enable-imds-restriction` on a command another extension owns (aks-preview): our preflight
    before anything is created, its own create with its own options, then the check that the cluster came out
    restricted."""
    from imds_ext.core.headers import parse_custom_headers

    cmd = command_args["cmd"]
    name = command_args["name"]
    headers = command_args.get("aks_custom_headers")
    headers = parse_custom_headers(headers) if isinstance(headers, str) else dict(headers or {})
    cf_imds(cmd.cli_ctx).check_create(command_args["resource_group_name"], name, _create_preview(command_args),
                                      enable_imds_restriction=True, headers=headers)
    command_args[theirs_of.get("enable_imds_restriction", "enable_imds_restriction")] = True
    result = original(command_args)
    if command_args.get("no_wait") or result is None:
        return result
    if hasattr(result, "result") and hasattr(result, "done"):
        # aks-preview returns the create's poller, for az's invoker to wait for after the handler: wait for it
        # here, as az's invoker does (LongRunningOperation), so that the check sees the created cluster.
        from azure.cli.core.commands import LongRunningOperation

        result = LongRunningOperation(cmd.cli_ctx)(result)
    check_created_restricted(name, _wire(result))
    return result


def _wire(cluster):
    """A cluster as the service sent it: an SDK model's REST form (what core/cluster.py reads), or the dict."""
    return cluster.serialize(keep_readonly=True) if hasattr(cluster, "serialize") else cluster


@az_errors
def aks_create_imds(command_args):
    """`az aks create --enable-imds-restriction`: az's own create, over a `RestrictingManagedClusters`.

    This is what az's default command handler does for `aks create` (no-wait handling, client injection),
    with our client in place of az's.
    """
    from azure.cli.command_modules.acs._client_factory import cf_managed_clusters
    from azure.cli.command_modules.acs.custom import aks_create
    from azure.cli.core.commands import LongRunningOperation
    from azure.cli.core.util import augment_no_wait_handler_args

    cmd = command_args["cmd"]
    args = dict(command_args)
    no_wait = args.pop("no_wait", False)
    augment_no_wait_handler_args(no_wait, aks_create, args)
    args["client"] = RestrictingManagedClusters(cf_managed_clusters(cmd.cli_ctx), cf_imds(cmd.cli_ctx))
    result = aks_create(**args)
    if no_wait or result is None:
        return None
    if hasattr(result, "result") and hasattr(result, "done"):  # a poller: wait as az would
        result = LongRunningOperation(cmd.cli_ctx)(result)
    check_created_restricted(args["name"], result)
    # As az prints it, podLinkLocalAccess kept (the model az ships does not declare it).
    return az_printed(result)
