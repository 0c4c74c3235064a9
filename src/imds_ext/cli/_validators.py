"""Argument validators: bad input fails here, before any request (exit code 2, as az)."""
from knack.util import CLIError

from imds_ext.core.addons import AZ_ADDONS
from imds_ext.core.service import parse_custom_headers


class InvalidArgumentValueError(CLIError):
    """A usage error: the CLI maps it to exit code 2."""


class MutuallyExclusiveArgumentError(InvalidArgumentValueError):
    pass


class RequiredArgumentMissingError(InvalidArgumentValueError):
    pass


def validate_imds_toggle(namespace):
    enable = getattr(namespace, "enable_imds_restriction", False)
    disable = getattr(namespace, "disable_imds_restriction", False)
    if enable and disable:
        raise MutuallyExclusiveArgumentError(
            "Cannot specify --enable-imds-restriction and --disable-imds-restriction at the same time.")
    if not enable and not disable:
        raise RequiredArgumentMissingError(
            "Please specify --enable-imds-restriction or --disable-imds-restriction.")
    if disable and getattr(namespace, "enable_oidc_issuer", False):
        raise InvalidArgumentValueError(
            "--enable-oidc-issuer goes with --enable-imds-restriction; to turn the issuer on alone use "
            "'az aks update --enable-oidc-issuer'.")


def validate_node_image_only(namespace):
    if not getattr(namespace, "node_image_only", False):
        raise RequiredArgumentMissingError(
            "Only node-image upgrades are supported: pass --node-image-only. For a Kubernetes version upgrade "
            "use 'az aks upgrade --kubernetes-version'.")


def validate_custom_headers(namespace):
    value = getattr(namespace, "aks_custom_headers", None)
    try:
        namespace.aks_custom_headers = parse_custom_headers(value)
    except ValueError as ex:
        raise InvalidArgumentValueError(
            f"--aks-custom-headers: {ex}. Expected Key1=Value1,Key2=Value2, e.g. "
            "AKSHTTPCustomFeatures=Microsoft.ContainerService/IMDSRestrictionPreview") from ex


def validate_tags(namespace):
    """`--tags a=b c=d` (space separated, as az); `a` alone means an empty value."""
    tags = getattr(namespace, "tags", None)
    if tags is None:
        return
    result = {}
    for item in tags:
        key, _, value = item.partition("=")
        if not key:
            raise InvalidArgumentValueError(f"--tags: '{item}' has no key. Expected key[=value].")
        result[key] = value
    namespace.tags = result


def validate_node_count(namespace):
    count = getattr(namespace, "node_count", None)
    if count is not None and not 1 <= count <= 1000:
        raise InvalidArgumentValueError(f"--node-count must be between 1 and 1000, got {count}.")


def validate_port(namespace):
    port = getattr(namespace, "port", None)
    if port is not None and not 0 <= port <= 65535:
        raise InvalidArgumentValueError(f"--port must be between 0 and 65535, got {port}.")


def validate_addons(namespace):
    """`--enable-addons a,b`: az's add-on names, checked before any request."""
    value = getattr(namespace, "enable_addons", None)
    if value is None:
        return
    names = [a.strip() for a in value.split(",") if a.strip()]
    unknown = [a for a in names if a not in AZ_ADDONS]
    if unknown:
        raise InvalidArgumentValueError(f"--enable-addons: unknown add-on(s) {', '.join(unknown)}. Choose from: "
                                        f"{', '.join(sorted(AZ_ADDONS))}.")
    namespace.enable_addons = names


def validate_create(namespace):
    validate_node_count(namespace)
    validate_addons(namespace)
    validate_tags(namespace)
    validate_custom_headers(namespace)


def validate_update(namespace):
    validate_imds_toggle(namespace)
    validate_custom_headers(namespace)
