"""Arguments: those of `aks imds-restriction show`, and the ones `_augment` adds to az's `aks create/update`."""
from knack.arguments import CLIArgumentType

from imds_ext.frontend import flags

ARG_GROUP = "IMDS Restriction (imds-ext)"


def _flag(option, text):
    return CLIArgumentType(options_list=[option], action="store_true", arg_group=ARG_GROUP, help=text)


enable_on_create = _flag("--enable-imds-restriction", flags.ENABLE_ON_CREATE)
enable_on_update = _flag("--enable-imds-restriction", flags.ENABLE_ON_UPDATE + flags.UPDATE_COMPANIONS_HELP)
disable_on_update = _flag("--disable-imds-restriction", flags.DISABLE_ON_UPDATE)
skip_node_image_upgrade = _flag("--skip-node-image-upgrade", flags.SKIP_NODE_IMAGE_UPGRADE)
check_workloads = _flag("--check-workloads", flags.CHECK_WORKLOADS)
skip_workload_check = _flag("--skip-workload-check", flags.SKIP_WORKLOAD_CHECK)
force = _flag("--force", flags.FORCE)
verify_nodes = _flag("--verify", flags.VERIFY)
wait_for_node_images = _flag("--wait-for-node-images", flags.WAIT_FOR_NODE_IMAGES)


def load_arguments(loader, _command):
    with loader.argument_context("aks imds-restriction") as c:
        c.argument("resource_group_name", options_list=["--resource-group", "-g"], help="Name of resource group.")
        c.argument("name", options_list=["--name", "-n"], help="Name of the managed cluster.")
        c.argument("admin", action="store_true", help=flags.ADMIN)
        c.argument("kubeconfig", help=flags.KUBECONFIG)
        c.argument("context", help=flags.CONTEXT)
    with loader.argument_context("aks imds-restriction verify") as c:
        c.argument("sample", type=int, help=flags.SAMPLE)
        c.argument("probe_image", help=flags.PROBE_IMAGE)

    with loader.argument_context("aks imds-restriction network-policy") as c:
        from imds_ext.frontend import netpolicy

        netpolicy.arguments(c)

    with loader.argument_context("aks imds-restriction list") as c:
        flags.selection_arguments(c)

    with loader.argument_context("aks imds-restriction rollout start") as c:
        flags.rollout_arguments(c)
        c.argument("enable_oidc_issuer", action="store_true", help="Enable the OIDC issuer as well.")
        c.argument("aks_custom_headers", help=flags.CUSTOM_HEADERS)
        c.argument("yes", options_list=["--yes", "-y"], action="store_true", help="Do not prompt for confirmation.")
    with loader.argument_context("aks imds-restriction rollout status") as c:
        c.argument("journal", help=flags.ROLLOUT_STATUS_JOURNAL)
