"""Settings, read in one place: where ARM is, which subscription, which AKS api-version.

The same code path serves real Azure and the local emulator: only the endpoint, the authority and the
CA bundle differ, and those come from the environment (AZIMDS_ARM_ENDPOINT, AZURE_AUTHORITY_HOST,
REQUESTS_CA_BUNDLE), which azure-identity and requests already honour.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Optional
from urllib.parse import urlsplit

from imds_ext.core import constants
from imds_ext.core.errors import ConfigurationError

ENV_ARM_ENDPOINT = "AZIMDS_ARM_ENDPOINT"
ENV_SUBSCRIPTION = "AZURE_SUBSCRIPTION_ID"
ENV_AKS_API_VERSION = "AZIMDS_AKS_API_VERSION"
ENV_AZURE_CONFIG_DIR = "AZURE_CONFIG_DIR"
ENV_KUBECONFIG = "KUBECONFIG"
ENV_READS_PER_SECOND = "AZIMDS_ARM_READS_PER_SECOND"
ENV_WRITES_PER_SECOND = "AZIMDS_ARM_WRITES_PER_SECOND"
# A fleet rollout's pace per subscription: ARM allows 25 reads and 10 writes per second per principal and
# subscription (docs/fleet.md); a fifth is left to whatever else runs under the same identity.
DEFAULT_READS_PER_SECOND = 20.0
DEFAULT_WRITES_PER_SECOND = 8.0


# The first AKS api-version that carries networkProfile.podLinkLocalAccess (docs/aks-imds-restriction.md).
POD_LINK_LOCAL_ACCESS_SINCE = date(2024, 4, 2)
_API_VERSION = re.compile(r"(\d{4})-(\d{2})-(\d{2})(-preview)?")


def aks_api_version() -> str:
    """A preview api-version is what carries networkProfile.podLinkLocalAccess; the override lets users move to
    a newer preview when the service retires ours. Any other value is refused here, before any request: with a GA
    api-version a restricted cluster would look unrestricted and a change would silently not happen."""
    value = os.environ.get(ENV_AKS_API_VERSION) or constants.AKS_API_VERSION
    match = _API_VERSION.fullmatch(value.strip())
    try:
        day = match and date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        day = None
    if not day or not match.group(4) or day < POD_LINK_LOCAL_ACCESS_SINCE:
        raise ConfigurationError(
            f"{ENV_AKS_API_VERSION}='{value}' cannot manage IMDS restriction: only AKS preview api-versions from "
            f"2024-04-02-preview on carry networkProfile.podLinkLocalAccess (for example "
            f"{constants.AKS_API_VERSION}). Set one of those, or unset {ENV_AKS_API_VERSION}.")
    return value.strip()


def kubeconfig_paths() -> list:
    """The user's kubeconfig files, as kubectl finds them: $KUBECONFIG, a list of paths (':'-separated, ';' on
    Windows; empty entries skipped), else ~/.kube/config."""
    value = os.environ.get(ENV_KUBECONFIG)
    if value:
        paths = [p for p in value.split(os.pathsep) if p]
        if paths:
            return list(dict.fromkeys(paths))
    return [os.path.join(os.path.expanduser("~"), ".kube", "config")]


def arm_endpoint() -> str:
    """AZIMDS_ARM_ENDPOINT (or public Azure): an https URL, since tokens are only ever sent over TLS."""
    value = (os.environ.get(ENV_ARM_ENDPOINT) or constants.ARM_ENDPOINT).strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a port out of 0-65535 or not a number)
    except ValueError as ex:  # `https://[::1` (an unclosed IPv6 address), `https://host:99999`
        raise ConfigurationError(f"{ENV_ARM_ENDPOINT}='{value}' is not a valid URL ({ex}). Set it to the https:// URL "
                                 f"of Azure Resource Manager (for example {constants.ARM_ENDPOINT}).") from ex
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigurationError(f"{ENV_ARM_ENDPOINT}='{value}' is not an https:// URL of Azure Resource Manager "
                                 f"(for example {constants.ARM_ENDPOINT}); tokens are only sent over TLS.")
    return value.rstrip("/")


def request_rates() -> tuple:
    """(reads, writes) per second a fleet rollout allows itself per subscription; 0 means no limit."""
    rates = []
    for name, default in ((ENV_READS_PER_SECOND, DEFAULT_READS_PER_SECOND),
                          (ENV_WRITES_PER_SECOND, DEFAULT_WRITES_PER_SECOND)):
        value = os.environ.get(name)
        try:
            rate = default if value is None or not value.strip() else float(value)
        except ValueError:
            rate = -1.0
        if not 0 <= rate < float("inf"):
            raise ConfigurationError(f"{name}='{value}' is not a number of requests per second (0 or more; 0 means "
                                     f"no limit). Unset it for the default, {default:g}.")
        rates.append(rate)
    return tuple(rates)


@dataclass(frozen=True)
class ArmSettings:
    endpoint: str
    subscription_id: str
    audience: Optional[str] = None  # az's cloud says it; standalone, the endpoint is the audience
    aks_api_version: str = field(default_factory=aks_api_version)

    @property
    def scope(self) -> str:
        # The ARM endpoint is also a valid token audience (management.azure.com, the sovereign clouds and
        # the emulator alike).
        return (self.audience or self.endpoint).rstrip("/") + constants.ARM_SCOPE_SUFFIX


_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def is_subscription_id(value: str) -> bool:
    """A subscription ID (a GUID), as opposed to a subscription's name."""
    return bool(_GUID.fullmatch(value))


def _azure_cli_subscriptions() -> list:
    """The subscriptions the Azure CLI knows (its login profile), if there is one."""
    config_dir = os.environ.get(ENV_AZURE_CONFIG_DIR) or os.path.join(os.path.expanduser("~"), ".azure")
    try:
        with open(os.path.join(config_dir, "azureProfile.json"), encoding="utf-8-sig") as f:
            return json.load(f).get("subscriptions", [])
    except (OSError, ValueError):
        return []


def resolve_subscription(value: str) -> str:
    """An ID as given; a name looked up in the Azure CLI's profile, as `az --subscription NAME` does."""
    if is_subscription_id(value):
        return value
    matches = [s.get("id") for s in _azure_cli_subscriptions() if (s.get("name") or "").lower() == value.lower()]
    if len(matches) != 1:
        raise ConfigurationError(
            f"Subscription '{value}' is not an ID and {'is ambiguous in' if matches else 'is not in'} the Azure "
            "CLI's profile. Pass the subscription ID.")
    return matches[0]


def resolve_settings(subscription: Optional[str] = None) -> ArmSettings:
    """Standalone settings: --subscription, then AZURE_SUBSCRIPTION_ID, then the Azure CLI's default."""
    endpoint = arm_endpoint()
    sub = subscription or os.environ.get(ENV_SUBSCRIPTION) or next(
        (s.get("id") for s in _azure_cli_subscriptions() if s.get("isDefault")), None)
    if not sub:
        raise ConfigurationError(
            "No subscription given. Pass --subscription, set AZURE_SUBSCRIPTION_ID, "
            "or choose one with 'az account set --subscription <id>'.")
    return ArmSettings(endpoint=endpoint, subscription_id=resolve_subscription(sub))
