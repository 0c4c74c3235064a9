"""Argument validators both command lines run: bad input fails here, before any request (exit code 2, as az).

Each takes the parsed namespace and raises `UsageError` naming what is wrong and how to put it right.
"""
from knack.util import CLIError

from imds_ext.core.headers import parse_custom_headers


class UsageError(CLIError):
    """A usage error: exit code 2 (`az-imds`'s exception handler; the extension re-raises it for az's parser)."""


def validate_imds_toggle(namespace):
    enable = getattr(namespace, "enable_imds_restriction", False)
    disable = getattr(namespace, "disable_imds_restriction", False)
    if enable and disable:
        raise UsageError(
            "Cannot specify --enable-imds-restriction and --disable-imds-restriction at the same time.")
    if not enable and not disable:
        raise UsageError(
            "Please specify --enable-imds-restriction or --disable-imds-restriction.")
    if disable and getattr(namespace, "enable_oidc_issuer", False):
        raise UsageError(
            "--enable-oidc-issuer goes with --enable-imds-restriction; to turn the issuer on alone use "
            "'az aks update --enable-oidc-issuer'.")


def validate_custom_headers(namespace):
    value = getattr(namespace, "aks_custom_headers", None)
    try:
        namespace.aks_custom_headers = parse_custom_headers(value)
    except ValueError as ex:
        raise UsageError(
            f"--aks-custom-headers: {ex}. Expected Key1=Value1,Key2=Value2, e.g. "
            "AKSHTTPCustomFeatures=Microsoft.ContainerService/IMDSRestrictionPreview") from ex
