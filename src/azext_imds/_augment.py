"""How the extension adds to az's own `aks create` / `aks update` instead of replacing them.

A command an extension registers under an existing name replaces az's (with every option az has), so the
extension registers none of them. Instead, once az has loaded the arguments of the command being run
(knack event `EVENT_INVOKER_POST_LOAD_ARGUMENTS`, before the parser is built), it
- adds its flags to az's command (so they parse, validate and show in `--help` with az's own), and
- wraps az's handler: with an IMDS flag it runs the core's flow (update) or az's own create over a client
  that checks and restricts the PUT (create); `aks upgrade --node-image-only` alone runs the core's
  concurrent, waited node-image upgrade; anything else calls az's handler untouched.
If something else already owns the flags (the `aks-preview` extension, or a future az), it backs off and
says so when the flags are used, instead of letting argparse fail on a conflicting option.
"""
import functools

from knack.arguments import CLICommandArgument
from knack.log import get_logger

from azext_imds import _params as params
from azext_imds._validators import EXTENSION_ARGS, UPDATE_COMPANIONS, validate_update

logger = get_logger(__name__)

FLAGS = ("--enable-imds-restriction", "--disable-imds-restriction")

# command -> the arguments added to it (dest, type); the first carries the command's validator.
ADDED = {
    "aks create": [("enable_imds_restriction", params.enable_on_create)],
    "aks update": [("enable_imds_restriction", params.enable_on_update),
                   ("disable_imds_restriction", params.disable_on_update),
                   ("skip_node_image_upgrade", params.skip_node_image_upgrade)],
    "aks upgrade": [],  # no new flags: `--node-image-only` alone takes the core's concurrent, waited upgrade
}
# `az aks upgrade` arguments that keep the node-image-only path ours; any other one given means az's own.
NODE_IMAGE_COMPANIONS = {"cmd", "client", "resource_group_name", "name", "node_image_only", "no_wait", "yes"}
VALIDATORS = {"aks update": validate_update}

_HOOKED = "_imds_ext_hooks"


def register_hooks(cli_ctx):
    from azure.cli.core.commands.events import EVENT_INVOKER_POST_LOAD_ARGUMENTS
    from knack.events import EVENT_INVOKER_PRE_PARSE_ARGS

    if getattr(cli_ctx, _HOOKED, None) is not None:
        return
    conflicts = {}
    setattr(cli_ctx, _HOOKED, conflicts)
    cli_ctx.register_event(EVENT_INVOKER_POST_LOAD_ARGUMENTS,
                           functools.partial(_on_arguments_loaded, conflicts=conflicts))
    cli_ctx.register_event(EVENT_INVOKER_PRE_PARSE_ARGS, functools.partial(_on_pre_parse, conflicts=conflicts))


def _on_arguments_loaded(_cli_ctx, commands_loader=None, conflicts=None, **_kwargs):
    for name in ADDED:
        command = commands_loader.command_table.get(name) if commands_loader else None
        if command is None or not command.arguments:
            continue  # not the command being run: nothing to add
        try:
            owner = _other_owner(command)
            if owner:
                conflicts[name] = owner
            else:
                augment(command, name)
        except Exception as ex:  # pylint: disable=broad-except
            # Never break az's own command because of the extension.
            logger.warning("imds-ext could not add its flags to 'az %s': %s. az's own command runs unchanged.",
                           name, ex)
            logger.debug("imds-ext augment failure", exc_info=True)


def _other_owner(command):
    """Who else provides our flags on `command`: an extension's name, 'az' itself, or None."""
    from azure.cli.core.commands import ExtensionCommandSource

    taken = any(option in FLAGS for argument in command.arguments.values()
                for option in (argument.type.settings.get("options_list") or ()))
    source = getattr(command, "command_source", None)
    if isinstance(source, ExtensionCommandSource):
        return source.extension_name  # e.g. aks-preview, which re-registers `aks create/update`
    return "az" if taken else None


def _on_pre_parse(_cli_ctx, args=None, conflicts=None, **_kwargs):
    used = [a for a in (args or []) if a in FLAGS]
    for name, owner in (conflicts or {}).items():
        if not used or " ".join(args[:len(name.split())]) != name:
            continue
        by = f"The '{owner}' extension is installed too and owns" if owner != "az" else "This version of az has"
        logger.warning(
            "%s 'az %s' with its own %s, so imds-ext does not handle it: this run has none of imds-ext's "
            "preflight checks or node reimage. To use imds-ext here, remove the other provider "
            "('az extension remove --name %s') or run the standalone 'az-imds %s'.",
            by, name, "/".join(FLAGS), owner, name)


def augment(command, name):
    validator = VALIDATORS.get(name)
    if validator is not None and command.validator is not None:
        # A command-level validator turns the argument-level ones off: run ours before it.
        command.validator, validator = _chain(validator, command.validator), None
    added = {}
    for dest, argtype in ADDED[name]:
        added[dest] = CLICommandArgument(dest, argtype=argtype, **({"validator": validator} if validator else {}))
        validator = None  # once per command
    # Ours first, so our validator sees the values as parsed, before az's validators transform them.
    command.arguments = {**added, **command.arguments}
    command.handler = functools.partial(_handle, name, command.handler)


def _chain(ours, theirs):
    from azure.cli.core.util import get_arg_list

    def validator(cmd, namespace):
        ours(cmd, namespace)
        available = {"cmd": cmd, "namespace": namespace, "ns": namespace}
        theirs(**{k: v for k, v in available.items() if k in get_arg_list(theirs)})

    return validator


def _handle(name, original, command_args):
    from azext_imds import custom

    ours = {dest: command_args.pop(dest) for dest in EXTENSION_ARGS if dest in command_args}
    if name == "aks update" and (ours.get("enable_imds_restriction") or ours.get("disable_imds_restriction")):
        passed = {k: v for k, v in command_args.items() if k in UPDATE_COMPANIONS}
        return custom.aks_update_imds(command_args["cmd"], **passed, **ours)
    if name == "aks create" and ours.get("enable_imds_restriction"):
        return custom.aks_create_imds(command_args)
    if name == "aks upgrade" and command_args.get("node_image_only") and not any(
            value for dest, value in command_args.items() if dest not in NODE_IMAGE_COMPANIONS):
        return custom.aks_upgrade_node_images(command_args["cmd"], command_args["resource_group_name"],
                                              command_args["name"], yes=command_args.get("yes", False),
                                              no_wait=command_args.get("no_wait", False))
    return original(command_args)
