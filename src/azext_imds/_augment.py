"""How the extension adds to az's own `aks create` / `aks update` instead of replacing them.

A command an extension registers under an existing name replaces az's (with every option az has), so the
extension registers none of them. Instead, once az has loaded the arguments of the command being run
(knack event `EVENT_INVOKER_POST_LOAD_ARGUMENTS`, before the parser is built), it
- adds its flags to az's command (so they parse, validate and show in `--help` with az's own), and
- wraps az's handler: with an IMDS flag it runs the core's flow (update) or az's own create over a client
  that checks and restricts the PUT (create); `aks upgrade --node-image-only` alone stays the owner's unless
  imds-ext's record says the cluster's IMDS reimage is due, or `--wait-for-node-images` / `--verify` asks for the
  core's concurrent, waited upgrade; anything else calls az's handler untouched.
When another extension owns the command and defines the flags itself (`aks-preview` re-registers `aks create`,
`update` and `upgrade` with `--enable-imds-restriction` / `--disable-imds-restriction`), the same happens over
its command: its flags are ours to act on (only the flags it lacks are added, so argparse sees no conflict), and
every other option stays its own (docs/azure-cli-extension.md).
"""
import functools

from knack.arguments import CLICommandArgument
from knack.log import get_logger

from azext_imds import _params as params
from azext_imds._help import add_examples
from azext_imds._validators import (EXTENSION_ARGS, NODE_IMAGE_COMPANIONS, UPDATE_COMPANIONS, validate_create,
                                   validate_update, validate_upgrade)

logger = get_logger(__name__)

# command -> the arguments added to it (dest, type); the first carries the command's validator.
ADDED = {
    "aks create": [("enable_imds_restriction", params.enable_on_create)],
    "aks update": [("enable_imds_restriction", params.enable_on_update),
                   ("disable_imds_restriction", params.disable_on_update),
                   ("skip_node_image_upgrade", params.skip_node_image_upgrade),
                   ("check_workloads", params.check_workloads),
                   ("skip_workload_check", params.skip_workload_check), ("force", params.force),
                   ("verify_nodes", params.verify_nodes)],
    # `--node-image-only` alone stays az's (it starts the upgrades and returns) unless imds-ext's record says the
    # IMDS reimage is due, or one of these asks for the core's waited upgrade (--verify proves it at the end).
    "aks upgrade": [("wait_for_node_images", params.wait_for_node_images), ("verify_nodes", params.verify_nodes)],
}
# Our flags whose option another owner may use for something else: never taken over, only added when free.
OWN_MEANING = {"force"}
VALIDATORS = {"aks create": validate_create, "aks update": validate_update, "aks upgrade": validate_upgrade}

_HOOKED = "_imds_ext_hooks"


_AUGMENTED = "_imds_ext_augmented"


def register_hooks(cli_ctx):
    from azure.cli.core.commands.events import EVENT_INVOKER_POST_LOAD_ARGUMENTS
    from knack.events import EVENT_INVOKER_PRE_PARSE_ARGS

    if getattr(cli_ctx, _HOOKED, False):
        return
    setattr(cli_ctx, _HOOKED, True)
    cli_ctx.register_event(EVENT_INVOKER_POST_LOAD_ARGUMENTS, _on_arguments_loaded)
    cli_ctx.register_event(EVENT_INVOKER_PRE_PARSE_ARGS, _on_parse)


def _on_parse(cli_ctx, args=None, **_kwargs):
    """Help asked for (az prints it while it parses): our examples after those of az's command. Only then, as
    reading and writing az's help entry costs a third of a second."""
    if not any(arg in ("--help", "-h") for arg in args or ()):
        return
    for name in getattr(cli_ctx, _AUGMENTED, ()):
        try:
            add_examples(name)
        except Exception:  # pylint: disable=broad-except
            logger.debug("imds-ext could not add its examples to 'az %s'", name, exc_info=True)


def _on_arguments_loaded(cli_ctx, commands_loader=None, **_kwargs):
    for name in ADDED:
        command = commands_loader.command_table.get(name) if commands_loader else None
        if command is None or not command.arguments:
            continue  # not the command being run: nothing to add
        try:
            augment(command, name)
            setattr(cli_ctx, _AUGMENTED, (*getattr(cli_ctx, _AUGMENTED, ()), name))
        except Exception as ex:  # pylint: disable=broad-except
            # Never break the command because of the extension.
            logger.warning("imds-ext could not add its flags to 'az %s': %s. The command runs unchanged.", name, ex)
            logger.debug("imds-ext augment failure", exc_info=True)


def owner(command) -> str:
    """Who registered `command`: an extension's name (e.g. aks-preview), or 'az'."""
    from azure.cli.core.commands import ExtensionCommandSource

    source = getattr(command, "command_source", None)
    return source.extension_name if isinstance(source, ExtensionCommandSource) else "az"


def _options_of(argument):
    return set(argument.type.settings.get("options_list") or ())


def augment(command, name):
    """Our flags on `command`, and our handler around its own: the flags another owner defines are used as they
    are (`renamed` maps its dests to ours), the others are added."""
    taken = {option: dest for dest, argument in command.arguments.items() for option in _options_of(argument)}
    added, renamed = {}, {}
    for dest, argtype in ADDED[name]:
        options = set(argtype.settings.get("options_list") or ())
        theirs = {taken[o] for o in options if o in taken}
        if theirs and dest in OWN_MEANING:
            continue  # the owner's --force means something of its own
        if theirs:
            renamed[theirs.pop()] = dest
        else:
            added[dest] = CLICommandArgument(dest, argtype=argtype)
    validator = VALIDATORS.get(name)
    if validator is not None:
        renaming = functools.partial(_renamed_validator, validator, renamed)
        if command.validator is not None:
            # A command-level validator turns the argument-level ones off: run ours before it.
            command.validator = _chain(renaming, command.validator)
        elif added:
            first = next(iter(added.values()))
            first.type.settings["validator"] = renaming
        else:  # every flag is the owner's: ours runs as the command's validator
            command.validator = renaming
    # Ours first, so our validator sees the values as parsed, before the owner's validators transform them.
    command.arguments = {**added, **command.arguments}
    command.handler = functools.partial(_handle, name, command.handler, renamed, owner(command))


def _renamed_validator(validator, renamed, cmd, namespace):
    """Our validator over a namespace whose flags may carry the owner's names."""
    for theirs, ours in renamed.items():
        if theirs != ours and hasattr(namespace, theirs):
            setattr(namespace, ours, getattr(namespace, theirs))
    validator(cmd, namespace)


def _chain(ours, theirs):
    from azure.cli.core.util import get_arg_list

    def validator(cmd, namespace):
        ours(cmd, namespace)
        available = {"cmd": cmd, "namespace": namespace, "ns": namespace}
        theirs(**{k: v for k, v in available.items() if k in get_arg_list(theirs)})

    return validator


def _handle(name, original, renamed, command_owner, command_args):
    from azext_imds import custom

    for theirs, mine in renamed.items():
        if theirs in command_args:
            command_args[mine] = command_args.pop(theirs)
    ours = {dest: command_args.pop(dest) for dest in EXTENSION_ARGS if dest in command_args}
    if name == "aks update" and (ours.get("enable_imds_restriction") or ours.get("disable_imds_restriction")):
        passed = {k: v for k, v in command_args.items() if k in UPDATE_COMPANIONS}
        return custom.aks_update_imds(command_args["cmd"], **passed, **ours)
    if name == "aks create" and ours.get("enable_imds_restriction"):
        if command_owner != "az":  # the owner builds the cluster; we check before and verify after
            return custom.aks_create_imds_over(original, command_args, {v: k for k, v in renamed.items()})
        return custom.aks_create_imds(command_args)
    if name == "aks upgrade" and command_args.get("node_image_only") and not any(
            value for dest, value in command_args.items() if dest not in NODE_IMAGE_COMPANIONS):
        return custom.aks_upgrade_node_image_only(original, command_args,
                                                  wait=bool(ours.get("wait_for_node_images")),
                                                  verify_nodes=bool(ours.get("verify_nodes")))
    return original(command_args)
