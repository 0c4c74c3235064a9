"""Validators of the commands only `az-imds` has (its own `aks create`, `aks upgrade`, `emulator start`).

The ones the az extension runs too live in imds_ext.frontend.validators.
"""
import argparse
import re

from imds_ext.core.addons import AZ_ADDONS
from imds_ext.frontend.validators import (
    UsageError, check_given, validate_cluster_names, validate_custom_headers, validate_if_match, validate_imds_toggle,
    validate_kube_options,
)

# What every command's names and --subscription are checked for before its own validator runs (ImdsCommandsLoader):
# given, and on one line. `provider show -n ""` would otherwise list every provider.
GIVEN = {"subscription": "its ID or name", "name": "the name", "namespace": "the namespace",
         "resource_group_name": "the name", "cluster_name": "the name", "nodepool_name": "the name",
         "location": "a region's name, e.g. westus2"}


def validate_given(namespace):
    for dest, what in GIVEN.items():
        value = getattr(namespace, dest, None)
        if isinstance(value, str):
            check_given(value, _option(namespace, dest), what)


def _option(namespace, dest: str) -> str:
    """The option as this command spells it (`--name/-n`, `--namespace/-n`), from the command's parser."""
    parser = getattr(namespace, "_parser", None)
    for action in getattr(parser, "_actions", ()):
        if action.dest == dest and action.option_strings:
            return "/".join(action.option_strings)
    return "--" + dest.replace("_", "-")


def validate_node_image_only(namespace):
    if not getattr(namespace, "node_image_only", False):
        raise UsageError(
            "Only node-image upgrades are supported: pass --node-image-only. For a Kubernetes version upgrade "
            "use 'az aks upgrade --kubernetes-version'.")


def validate_tags(namespace):
    """`--tags a=b c=d` (space separated, as az); `a` alone means an empty value."""
    tags = getattr(namespace, "tags", None)
    if tags is None:
        return
    result = {}
    for item in tags:
        key, _, value = item.partition("=")
        if not key:
            raise UsageError(f"--tags: '{item}' has no key. Expected key[=value].")
        result[key] = value
    namespace.tags = result


def validate_node_count(namespace):
    count = getattr(namespace, "node_count", None)
    if count is not None and not 1 <= count <= 1000:
        raise UsageError(f"--node-count must be between 1 and 1000, got {count}.")


def delay_seconds(text: str) -> float:
    """The type of `emulator start --lro-delay` and `--registration-delay`: the emulator's own rule for a delay (its
    admin config's), else argparse's usage error (exit 2) naming the option."""
    from imds_ext.emulator.backend import DELAY_RULE, is_delay  # loaded only when the option is given
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not is_delay(value):
        raise argparse.ArgumentTypeError(f"must be {DELAY_RULE}, got '{text}'")
    return value


def validate_port(namespace):
    port = getattr(namespace, "port", None)
    if port is not None and not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {port}.")


def validate_addons(namespace):
    """`--enable-addons a,b`: az's add-on names, checked before any request."""
    value = getattr(namespace, "enable_addons", None)
    if value is None:
        return
    names = [a.strip() for a in value.split(",") if a.strip()]
    unknown = [a for a in names if a not in AZ_ADDONS]
    if unknown:
        raise UsageError(f"--enable-addons: unknown add-on(s) {', '.join(unknown)}. Choose from: "
                         f"{', '.join(sorted(AZ_ADDONS))}.")
    namespace.enable_addons = names


def validate_create(namespace):
    validate_cluster_names(namespace)
    validate_node_count(namespace)
    validate_addons(namespace)
    validate_tags(namespace)
    validate_custom_headers(namespace)


def validate_update(namespace):
    validate_cluster_names(namespace)
    validate_imds_toggle(namespace)
    validate_custom_headers(namespace)
    validate_if_match(namespace)
    validate_kube_options(namespace)


def validate_node_image_upgrade(namespace):
    validate_cluster_names(namespace)
    validate_node_image_only(namespace)
    if getattr(namespace, "verify_nodes", False) and getattr(namespace, "no_wait", False):
        raise UsageError("--verify needs the nodes reimaged first: it cannot go with --no-wait.")
    if hasattr(namespace, "verify_nodes"):  # `aks upgrade` (not `aks nodepool upgrade`)
        validate_kube_options(namespace)


_CONFIG_KEY = re.compile(r"[A-Za-z0-9_-]+")


def validate_config_keys(namespace):
    """`config set|get|unset`: `<section>.<key>` (az's spelling, e.g. defaults.group), `=<value>` for set; `get`
    also takes a section alone. Each becomes (section, key or None, value or None), in place."""
    setting = getattr(namespace, "key_value", None)
    given = setting if setting is not None else getattr(namespace, "key", None)
    if given is None:
        return
    keys = []
    for item in [given] if isinstance(given, str) else given:
        name, equals, value = item.partition("=")
        if setting is not None and not equals:
            raise UsageError(f"'{item}' has no value: give <section>.<key>=<value>, e.g. defaults.group=MyGroup.")
        section, dot, key = name.partition(".")
        section_only = not dot and setting is None and isinstance(given, str)  # `config get core`
        if not _CONFIG_KEY.fullmatch(section) or (not section_only and not _CONFIG_KEY.fullmatch(key)):
            raise UsageError(f"'{item}' is not a configuration name: give <section>.<key>, e.g. defaults.group "
                             "(letters, digits, '_' or '-').")
        if "\n" in value or "\r" in value:
            raise UsageError(f"The value of '{name}' must be on one line.")
        keys.append((section, key or None, value if equals else None))
    if setting is not None:
        namespace.key_value = keys
    else:
        namespace.key = keys[0] if isinstance(given, str) else keys
