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
from typing import Optional

from imds_ext.core import constants
from imds_ext.core.errors import ConfigurationError

ENV_ARM_ENDPOINT = "AZIMDS_ARM_ENDPOINT"
ENV_SUBSCRIPTION = "AZURE_SUBSCRIPTION_ID"
ENV_AKS_API_VERSION = "AZIMDS_AKS_API_VERSION"
ENV_AZURE_CONFIG_DIR = "AZURE_CONFIG_DIR"


def aks_api_version() -> str:
    """A preview api-version is what carries networkProfile.podLinkLocalAccess; the override lets users move to
    a newer preview when the service retires ours."""
    return os.environ.get(ENV_AKS_API_VERSION) or constants.AKS_API_VERSION


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


_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _azure_cli_subscriptions() -> list:
    """The subscriptions the Azure CLI knows (its login profile), if there is one."""
    config_dir = os.environ.get(ENV_AZURE_CONFIG_DIR) or os.path.join(os.path.expanduser("~"), ".azure")
    try:
        with open(os.path.join(config_dir, "azureProfile.json"), encoding="utf-8-sig") as f:
            return json.load(f).get("subscriptions", [])
    except (OSError, ValueError):
        return []


def _subscription_id(value: str) -> str:
    """An ID as given; a name looked up in the Azure CLI's profile, as `az --subscription NAME` does."""
    if _GUID.match(value):
        return value
    matches = [s.get("id") for s in _azure_cli_subscriptions() if (s.get("name") or "").lower() == value.lower()]
    if len(matches) != 1:
        raise ConfigurationError(
            f"Subscription '{value}' is not an ID and {'is ambiguous in' if matches else 'is not in'} the Azure "
            "CLI's profile. Pass the subscription ID.")
    return matches[0]


def resolve_settings(subscription: Optional[str] = None) -> ArmSettings:
    """Standalone settings: --subscription, then AZURE_SUBSCRIPTION_ID, then the Azure CLI's default."""
    endpoint = os.environ.get(ENV_ARM_ENDPOINT) or constants.ARM_ENDPOINT
    sub = subscription or os.environ.get(ENV_SUBSCRIPTION) or next(
        (s.get("id") for s in _azure_cli_subscriptions() if s.get("isDefault")), None)
    if not sub:
        raise ConfigurationError(
            "No subscription given. Pass --subscription, set AZURE_SUBSCRIPTION_ID, "
            "or choose one with 'az account set --subscription <id>'.")
    return ArmSettings(endpoint=endpoint.rstrip("/"), subscription_id=_subscription_id(sub))
