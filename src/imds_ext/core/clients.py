"""Where ARM is, who we are, and the Azure SDK clients built from that.

The same code path serves real Azure and the local emulator: only the endpoint, the authority and the
CA bundle differ, and those come from the environment (AZIMDS_ARM_ENDPOINT, AZURE_AUTHORITY_HOST,
REQUESTS_CA_BUNDLE), which azure-identity and requests already honour.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Optional

from imds_ext.core import constants
from imds_ext.core.errors import ConfigurationError

ENV_ARM_ENDPOINT = "AZIMDS_ARM_ENDPOINT"
ENV_SUBSCRIPTION = "AZURE_SUBSCRIPTION_ID"
ENV_AKS_API_VERSION = "AZIMDS_AKS_API_VERSION"


@dataclass(frozen=True)
class ArmSettings:
    endpoint: str
    subscription_id: str
    audience: Optional[str] = None  # az's cloud says it; standalone, the endpoint is the audience

    @property
    def scope(self) -> str:
        # The ARM endpoint is also a valid token audience (management.azure.com, the sovereign clouds and
        # the emulator alike).
        return (self.audience or self.endpoint).rstrip("/") + constants.ARM_SCOPE_SUFFIX


_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _azure_cli_subscriptions() -> list:
    """The subscriptions the Azure CLI knows (its login profile), if there is one."""
    config_dir = os.environ.get("AZURE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".azure")
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
    endpoint = os.environ.get(ENV_ARM_ENDPOINT) or constants.ARM_ENDPOINT
    sub = subscription or os.environ.get(ENV_SUBSCRIPTION) or next(
        (s.get("id") for s in _azure_cli_subscriptions() if s.get("isDefault")), None)
    if not sub:
        raise ConfigurationError(
            "No subscription given. Pass --subscription, set AZURE_SUBSCRIPTION_ID, "
            "or choose one with 'az account set --subscription <id>'.")
    return ArmSettings(endpoint=endpoint.rstrip("/"), subscription_id=_subscription_id(sub))


def default_credential(instance_discovery: bool = True):
    """azure-identity's chain: environment service principal, workload identity, managed identity, Azure CLI.

    Interactive browser login is left out: this tool must never block on a prompt in CI.
    `instance_discovery=False` (az's `core.instance_discovery=false`) trusts an authority host that
    login.microsoftonline.com does not know: Azure Stack, ADFS, the local emulator.
    """
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True,
                                  disable_instance_discovery=not instance_discovery)


class ArmClients:
    """Lazily built Azure SDK clients sharing one credential and one set of settings."""

    def __init__(self, settings: ArmSettings, credential: Any = None, **client_kwargs: Any):
        self.settings = settings
        self.credential = credential if credential is not None else default_credential()
        self._kwargs = dict(
            base_url=settings.endpoint,
            credential_scopes=[settings.scope],
            **client_kwargs,
        )
        self._cache: dict = {}

    def _get(self, key, factory):
        if key not in self._cache:
            self._cache[key] = factory()
        return self._cache[key]

    @property
    def container_service(self):
        from azure.mgmt.containerservice import ContainerServiceClient

        # A preview api-version is what carries networkProfile.podLinkLocalAccess; the override lets users
        # move to a newer preview when the service retires ours.
        api_version = os.environ.get(ENV_AKS_API_VERSION) or constants.AKS_API_VERSION
        return self._get("aks", lambda: ContainerServiceClient(
            self.credential, self.settings.subscription_id, api_version=api_version, **self._kwargs))

    @property
    def features(self):
        from azure.mgmt.resource.features import FeatureClient

        return self._get("features", lambda: FeatureClient(
            self.credential, self.settings.subscription_id, **self._kwargs))

    @property
    def resources(self):
        try:  # azure-mgmt-resource >= 24 moved it into a sub-package
            from azure.mgmt.resource.resources import ResourceManagementClient
        except ImportError:
            from azure.mgmt.resource import ResourceManagementClient

        return self._get("resources", lambda: ResourceManagementClient(
            self.credential, self.settings.subscription_id, **self._kwargs))

    def close(self):
        for client in self._cache.values():
            client.close()
        self._cache.clear()
