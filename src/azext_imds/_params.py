"""Arguments: those of `aks imds-restriction show`, and the ones `_augment` adds to az's `aks create/update`."""
from knack.arguments import CLIArgumentType

ARG_GROUP = "IMDS Restriction (imds-ext)"

_ENABLE = ("Enable IMDS restriction in the cluster: non-hostNetwork pods cannot reach the Azure Instance Metadata "
           "Service")


def _flag(option, text):
    return CLIArgumentType(options_list=[option], action="store_true", arg_group=ARG_GROUP, help=text)


enable_on_create = _flag("--enable-imds-restriction", _ENABLE + (
    ". Requires --enable-oidc-issuer. Before anything is created the extension checks the IMDSRestrictionPreview "
    "feature registration, the OIDC issuer and incompatible add-ons, and names each blocker with its fix."))
enable_on_update = _flag("--enable-imds-restriction", _ENABLE + (
    " once the nodes are reimaged, which this command does (node-image-only upgrade of every Linux pool). "
    "Preflight first, then a prompt unless --yes. Combine only with -g/-n, --yes, --no-wait, --enable-oidc-issuer, "
    "--if-match, --aks-custom-headers and --skip-node-image-upgrade."))
disable_on_update = _flag("--disable-imds-restriction", (
    "Disable IMDS restriction in the cluster: all pods can reach the Azure Instance Metadata Service once "
    "the nodes are reimaged, which this command does. Prompts unless --yes."))
skip_node_image_upgrade = _flag("--skip-node-image-upgrade", (
    "With --enable/--disable-imds-restriction: change the cluster setting only, do not reimage the nodes. "
    "They keep their old behaviour until 'az aks upgrade --node-image-only' runs."))


def load_arguments(loader, _command):
    with loader.argument_context("aks imds-restriction show") as c:
        c.argument("resource_group_name", options_list=["--resource-group", "-g"], help="Name of resource group.")
        c.argument("name", options_list=["--name", "-n"], help="Name of the managed cluster.")
