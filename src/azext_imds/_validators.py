"""Validators of the flags the extension adds to az's `aks update` / `aks create`.

They run before any request. A usage error exits with az's code for argument errors (2): knack turns an
exception a validator raises that is not a CLIError into `parser.validation_error` (exit 2), so the
shared validators' usage errors are re-raised as `ImdsUsageError`.
"""
from imds_ext.frontend import validators as shared

# `az aks upgrade` arguments that keep the node-image-only path ours; any other one given means az's own.
NODE_IMAGE_COMPANIONS = {"cmd", "client", "resource_group_name", "name", "node_image_only", "no_wait", "yes",
                         "verify_nodes", "wait_for_node_images"}
EXTENSION_ARGS = ("enable_imds_restriction", "disable_imds_restriction", "skip_node_image_upgrade", "check_workloads",
                  "skip_workload_check", "force", "verify_nodes", "wait_for_node_images")

# What `az aks update --enable/--disable-imds-restriction` may be combined with: these mean the same in
# our flow as in az's. Anything else of az's update is refused with the flag (see validate_update).
UPDATE_COMPANIONS = {"resource_group_name", "name", "yes", "no_wait", "aks_custom_headers", "enable_oidc_issuer",
                     "if_match", *EXTENSION_ARGS}


class ImdsUsageError(ValueError):
    """A usage error in the extension's flags: az prints it and exits with code 2."""


def _usage(check, namespace):
    try:
        check(namespace)
    except shared.UsageError as ex:
        raise ImdsUsageError(str(ex)) from ex


def _option(cmd, dest):
    argument = cmd.arguments.get(dest) if cmd is not None else None
    options = argument.type.settings.get("options_list") if argument is not None else None
    return options[0] if options else "--" + dest.replace("_", "-")


def validate_update(cmd, namespace):
    enable = getattr(namespace, "enable_imds_restriction", False)
    disable = getattr(namespace, "disable_imds_restriction", False)
    if not enable and not disable:
        ours = [_option(cmd, dest) for dest in ("skip_node_image_upgrade", "check_workloads", "skip_workload_check",
                                                "verify_nodes")
                if getattr(namespace, dest, False)]
        if ours:
            raise ImdsUsageError(f"{', '.join(ours)} goes with --enable-imds-restriction or "
                                 "--disable-imds-restriction.")
        return  # a plain `az aks update`: az's own validation and handler
    _usage(shared.validate_imds_toggle, namespace)
    # az's parser records every option given on the command line.
    given = getattr(getattr(namespace, "_parser", None), "specified_arguments", None) or []
    others = sorted({dest for dest in given if dest not in UPDATE_COMPANIONS})
    if others:
        flag = "--enable-imds-restriction" if enable else "--disable-imds-restriction"
        options = " ".join(_option(cmd, dest) for dest in others)
        raise ImdsUsageError(
            f"{flag} cannot be combined with other 'az aks update' options ({options}): it runs its own checked "
            "update and node reimage, and mixing both would change the cluster twice. Nothing was changed. Run "
            f"them as two commands: 'az aks update -g <group> -n <cluster> {options} ...', then "
            f"'az aks update -g <group> -n <cluster> {flag}'.")
    for check in (shared.validate_cluster_names, shared.validate_custom_headers, shared.validate_if_match):
        _usage(check, namespace)


def validate_show(namespace):
    """`az aks imds-restriction show`: the names, with the service's rules."""
    _usage(shared.validate_cluster_names, namespace)


def validate_verify(namespace):
    """`az aks imds-restriction verify`: names, --sample and the credential options."""
    _usage(shared.validate_verify, namespace)


def validate_rollout(namespace):
    """`az aks imds-restriction rollout start`: the action, the selection and the limits."""
    _usage(shared.validate_rollout, namespace)


def validate_list(namespace):
    """`az aks imds-restriction list`: the selection, as the rollout's."""
    _usage(shared.validate_selection, namespace)


def validate_rollout_status(namespace):
    _usage(shared.validate_rollout_status, namespace)


def validate_create(cmd, namespace):
    """`az aks create --enable-imds-restriction`: the custom headers it sends with the preflight and the create."""
    if not getattr(namespace, "enable_imds_restriction", False):
        return
    import argparse

    # Checked on a copy: az's own create reads the option as the string it was given.
    headers = getattr(namespace, "aks_custom_headers", None)
    if isinstance(headers, dict):
        headers = ",".join(f"{k}={v}" for k, v in headers.items())
    _usage(shared.validate_custom_headers, argparse.Namespace(aks_custom_headers=headers))


_UPGRADE_FLAGS = {"verify_nodes": "proves a node-image-only upgrade",
                  "wait_for_node_images": "waits for a node-image-only upgrade"}


def validate_upgrade(cmd, namespace):
    """`az aks upgrade --verify` / `--wait-for-node-images`: they wait for (and prove) a node-image-only upgrade,
    so they go with `--node-image-only` alone (az's other upgrades run az's own handler, which would ignore them)
    and not with --no-wait."""
    flag = next((dest for dest in _UPGRADE_FLAGS if getattr(namespace, dest, False)), None)
    if flag is None:
        return
    given = getattr(getattr(namespace, "_parser", None), "specified_arguments", None) or []
    others = sorted({dest for dest in given if dest not in NODE_IMAGE_COMPANIONS})
    if not getattr(namespace, "node_image_only", False) or others:
        extra = f" (also given: {' '.join(_option(cmd, dest) for dest in others)})" if others else ""
        raise ImdsUsageError(f"{_option(cmd, flag)} {_UPGRADE_FLAGS[flag]}: it goes with --node-image-only and no "
                             f"other 'az aks upgrade' option{extra}. Nothing was changed.")
    if getattr(namespace, "no_wait", False):
        raise ImdsUsageError(f"{_option(cmd, flag)} waits for the nodes to be reimaged: it cannot go with "
                             "--no-wait.")
