"""Command handlers: thin, they turn arguments into calls on the domain core and results into output."""
import sys

from knack.log import get_logger
from knack.util import CLIError

from imds_ext.cli._client_factory import cf_arm, cf_console, cf_imds, cf_registrations
from imds_ext.cli._create import cluster_body
from imds_ext.core.errors import ResourceNotFound
from imds_ext.frontend import handlers
from imds_ext.frontend.errors import EXIT_BREAKS, EXIT_ERROR
from imds_ext.frontend.output import resource

logger = get_logger(__name__)


def _cluster(value):
    return resource(value, flatten=True)


# -- aks -------------------------------------------------------------------------------------------------
def aks_create(cmd, resource_group_name, name, location=None, node_count=3, node_vm_size=None,
               kubernetes_version=None, enable_oidc_issuer=False, enable_workload_identity=False,
               enable_addons=None, enable_imds_restriction=False, aks_custom_headers=None, tags=None,
               no_wait=False, yes=False, subscription=None):
    service = cf_imds(cmd.cli_ctx, subscription)
    clients = service.clients
    if not location:
        location = _resource_group(clients, resource_group_name).location
    body = cluster_body(resource_group_name, name, location, clients.settings.subscription_id, node_count,
                        node_vm_size, kubernetes_version, enable_oidc_issuer, enable_workload_identity,
                        enable_addons, enable_imds_restriction, tags)
    return handlers.create_cluster(service, resource_group_name, name, body,
                                   enable_imds_restriction=enable_imds_restriction,
                                   aks_custom_headers=aks_custom_headers, no_wait=no_wait)


def aks_update(cmd, resource_group_name, name, enable_imds_restriction=False, disable_imds_restriction=False,
               enable_oidc_issuer=False, aks_custom_headers=None, if_match=None, skip_node_image_upgrade=False,
               check_workloads=False, force=False, verify_nodes=False, admin=False, kubeconfig=None, context=None,
               probe_image=None, sample=None, no_wait=False, yes=False, subscription=None,
               skip_workload_check=False):  # pylint: disable=unused-argument  # the validator set check_workloads
    # knack builds the arguments from this signature, so every option is named here.
    return handlers.update_restriction(
        cf_imds(cmd.cli_ctx, subscription), resource_group_name, name,
        enable_imds_restriction=enable_imds_restriction, disable_imds_restriction=disable_imds_restriction,
        enable_oidc_issuer=enable_oidc_issuer, aks_custom_headers=aks_custom_headers, if_match=if_match,
        skip_node_image_upgrade=skip_node_image_upgrade, check_workloads=check_workloads, force=force,
        verify_nodes=verify_nodes, admin=admin, kubeconfig=kubeconfig, context=context, probe_image=probe_image,
        sample=sample, no_wait=no_wait, yes=yes)


def aks_upgrade(cmd, resource_group_name, name, node_image_only=False, verify_nodes=False, admin=False,
                kubeconfig=None, context=None, probe_image=None, sample=None, yes=False, no_wait=False,
                subscription=None):
    return handlers.upgrade_node_images(cf_imds(cmd.cli_ctx, subscription), resource_group_name, name, yes=yes,
                                        no_wait=no_wait, verify_nodes=verify_nodes, admin=admin,
                                        kubeconfig=kubeconfig, context=context, probe_image=probe_image,
                                        sample=sample)


def aks_nodepool_upgrade(cmd, resource_group_name, cluster_name, nodepool_name, node_image_only=False,
                         no_wait=False, yes=False, subscription=None):
    return handlers.upgrade_pool(cf_imds(cmd.cli_ctx, subscription), resource_group_name, cluster_name,
                                 nodepool_name, no_wait=no_wait, yes=yes)


def aks_show(cmd, resource_group_name, name, subscription=None):
    return _cluster(cf_imds(cmd.cli_ctx, subscription).get_cluster(resource_group_name, name))


def aks_list(cmd, resource_group_name=None, subscription=None):
    clusters = cf_arm(cmd.cli_ctx, subscription).container_service.managed_clusters
    pages = clusters.list_by_resource_group(resource_group_name) if resource_group_name else clusters.list()
    return [_cluster(mc) for mc in pages]


def aks_imds_restriction_show(cmd, resource_group_name, name, subscription=None):
    return handlers.restriction_report(cf_imds(cmd.cli_ctx, subscription), resource_group_name, name)


def aks_imds_restriction_verify(cmd, resource_group_name, name, sample=None, probe_image=None, admin=False,
                                kubeconfig=None, context=None, subscription=None):
    return _with_exit_code(cmd, handlers.verify_nodes(
        cf_imds(cmd.cli_ctx, subscription), resource_group_name, name, sample=sample, probe_image=probe_image,
        admin=admin, kubeconfig=kubeconfig, context=context))


def aks_imds_restriction_scan(cmd, resource_group_name, name, admin=False, kubeconfig=None, context=None,
                              subscription=None):
    return _with_exit_code(cmd, handlers.scan_workloads(cf_imds(cmd.cli_ctx, subscription), resource_group_name,
                                                        name, admin=admin, kubeconfig=kubeconfig, context=context),
                           code=EXIT_BREAKS)


def _fleet_subscriptions(subscriptions, ids=None, subscription=None):
    """(IDs of --subscriptions, names looked up in the Azure CLI's profile; the subscription the clients start in:
    the first one named, else --subscription or the current one, the default selection)."""
    from imds_ext.core.cluster import parse_cluster_id
    from imds_ext.core.settings import resolve_subscription

    subs = [resolve_subscription(s) for s in subscriptions or ()]
    return subs, subs[0] if subs else (parse_cluster_id(ids[0])[0] if ids else subscription)


def aks_imds_restriction_list(cmd, subscriptions=None, all_subscriptions=False, resource_groups=None, tags=None,
                              subscription=None):
    subs, first = _fleet_subscriptions(subscriptions, subscription=subscription)
    return handlers.restriction_list(cf_arm(cmd.cli_ctx, first), cf_console(cmd.cli_ctx), subscriptions=subs,
                                     all_subscriptions=all_subscriptions, resource_groups=resource_groups, tags=tags)


def aks_imds_restriction_rollout_start(cmd, enable_imds_restriction=False, disable_imds_restriction=False,
                                       subscriptions=None, all_subscriptions=False, resource_groups=None, tags=None,
                                       ids=None, canary=None, max_parallel=8, max_failures=None, journal=None,
                                       dry_run=False, enable_oidc_issuer=False, aks_custom_headers=None, yes=False,
                                       check_workloads=False, force=False, canary_ids=None,
                                       pause_after_canary=False, subscription=None,
                                       skip_workload_check=False,  # pylint: disable=unused-argument
                                       admin=False, fallback=None):
    subs, first = _fleet_subscriptions(subscriptions, ids, subscription)
    outcome = handlers.rollout_start(
        cf_arm(cmd.cli_ctx, first), cf_console(cmd.cli_ctx), bool(enable_imds_restriction), subscriptions=subs,
        all_subscriptions=all_subscriptions, resource_groups=resource_groups, tags=tags, ids=ids,
        enable_oidc_issuer=enable_oidc_issuer, headers=aks_custom_headers, canary=canary, max_parallel=max_parallel,
        max_failures=max_failures, journal_path=journal, dry_run=dry_run, yes=yes, check_workloads=check_workloads,
        force=force, canary_ids=canary_ids, pause_after_canary=pause_after_canary, admin=admin, fallback=fallback)
    return _with_exit_code(cmd, outcome)


def aks_imds_restriction_rollout_status(cmd, journal):
    return _with_exit_code(cmd, handlers.rollout_status(journal))


def _with_exit_code(cmd, outcome, code=EXIT_ERROR):
    """(rows, ok): the rows are the output; not ok, the exit code is 1 (as az's commands over several --ids), or
    `code` (scan: 4, something breaks)."""
    if outcome is None:  # cancelled at the prompt
        return None
    rows, ok = outcome
    if not ok:
        cmd.cli_ctx.data["exit_code"] = code
    return rows


# -- feature / provider -----------------------------------------------------------------------------------
def feature_register(cmd, namespace, name, wait=False, subscription=None):
    logger.warning("Once the feature '%s' is registered, invoking 'az provider register -n %s' is required "
                   "to get the change propagated", name, namespace)
    return resource(cf_registrations(cmd.cli_ctx, subscription).register_feature(namespace, name, wait=wait))


def feature_unregister(cmd, namespace, name, wait=False, subscription=None):
    logger.warning("Once the feature '%s' is unregistered, invoking 'az provider register -n %s' is required "
                   "to get the change propagated", name, namespace)
    return resource(cf_registrations(cmd.cli_ctx, subscription).unregister_feature(namespace, name, wait=wait))


def feature_show(cmd, namespace, name, subscription=None):
    return resource(cf_registrations(cmd.cli_ctx, subscription).show_feature(namespace, name))


def feature_list(cmd, namespace=None, subscription=None):
    return [resource(f) for f in cf_registrations(cmd.cli_ctx, subscription).list_features(namespace)]


def provider_register(cmd, namespace, wait=False, subscription=None):
    if not cf_registrations(cmd.cli_ctx, subscription).register_provider(namespace, wait=wait):
        logger.warning("Registering is still on-going. You can monitor using 'az provider show -n %s'", namespace)


def provider_unregister(cmd, namespace, wait=False, subscription=None):
    if not cf_registrations(cmd.cli_ctx, subscription).unregister_provider(namespace, wait=wait):
        logger.warning("Unregistering is still on-going. You can monitor using 'az provider show -n %s'", namespace)


def provider_show(cmd, namespace, subscription=None):
    return resource(cf_registrations(cmd.cli_ctx, subscription).show_provider(namespace))


# -- resource groups ----------------------------------------------------------------------------------------
def _resource_group(clients, name):
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return clients.resources.resource_groups.get(name)
    except ResourceNotFoundError as ex:
        raise ResourceNotFound(f"Resource group '{name}' could not be found.") from ex


def group_create(cmd, name, location, subscription=None):
    groups = cf_arm(cmd.cli_ctx, subscription).resources.resource_groups
    return resource(groups.create_or_update(name, {"location": location}))


def group_show(cmd, name, subscription=None):
    return resource(_resource_group(cf_arm(cmd.cli_ctx, subscription), name))


# -- config ----------------------------------------------------------------------------------------------
# As az's `az config`: knack's configuration (the folder of AZIMDS_CONFIG_DIR, else ~/.az-imds), whose
# [defaults] group is the default of every -g.
def _writable_config(cmd):
    config = cmd.cli_ctx.config
    if getattr(config, "problem", None):
        raise CLIError(f"The configuration cannot be changed: {config.problem}")
    return config


def config_set(cmd, key_value):
    config = _writable_config(cmd)
    for section, key, value in key_value:  # (section, key, value): the validator's
        config.set_value(section, key, value)


def config_get(cmd, key=None):
    config = cmd.cli_ctx.config
    if key is None:
        return {section: config.items(section) for section in config.sections()}
    section, option, _ = key
    items = config.items(section)
    if option is None:
        return items
    found = next((item for item in items if item["name"] == option.lower()), None)
    if found is None:
        raise CLIError(f"Configuration '{section}.{option}' is not set.")
    return found


def config_unset(cmd, key):
    config = _writable_config(cmd)
    for section, option, _ in key:
        config.remove_option(section, option)


# -- emulator and demo ----------------------------------------------------------------------------------------
def emulator_start(cmd, host="127.0.0.1", port=0, state_file=None, env_file=None, lro_delay=2.0,
                   registration_delay=2.0, no_retry_after=False):
    from imds_ext.emulator import StartError, StateFileError
    from imds_ext.emulator.server import run_forever

    try:
        run_forever(host=host, port=port, state_file=state_file, env_file=env_file, lro_delay=lro_delay,
                    registration_delay=registration_delay, omit_retry_after=no_retry_after,
                    announce=lambda message: print(message, file=sys.stderr))
    except (StartError, StateFileError) as ex:
        raise CLIError(str(ex)) from ex


def demo(cmd, lro_delay=0.5):
    from imds_ext.cli._demo import run_demo

    with handlers.sigterm_as_interrupt():  # the in-process emulator removes its key on the way out
        run_demo(lro_delay=lro_delay)
