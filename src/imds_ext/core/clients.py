"""The Azure SDK clients of one command: one credential, one set of settings, built when first used."""
from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from imds_ext.core.errors import ConfigurationError
from imds_ext.core.settings import ArmSettings

if TYPE_CHECKING:
    from imds_ext.core.interaction import Interaction


def default_credential(instance_discovery: bool = True):
    """azure-identity's chain: environment service principal, workload identity, managed identity, Azure CLI.

    Interactive browser login is left out: this tool must never block on a prompt in CI.
    `instance_discovery=False` (az's `core.instance_discovery=false`) trusts an authority host that
    login.microsoftonline.com does not know: Azure Stack, ADFS, the local emulator.
    """
    from azure.identity import DefaultAzureCredential

    try:
        return DefaultAzureCredential(exclude_interactive_browser_credential=True,
                                      disable_instance_discovery=not instance_discovery)
    except ValueError as ex:  # a malformed AZURE_TENANT_ID or AZURE_AUTHORITY_HOST, found before any request
        raise ConfigurationError(f"The credential settings in the environment are not valid: {ex} Check "
                                 "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_AUTHORITY_HOST.") from ex


class Memo:
    """Reads that do not change while a command runs (a subscription's feature and provider registrations, a
    cluster's extensions), made once and shared by every flow of the command, thread-safely: a fleet rollout
    reads them once per subscription, not once per cluster."""

    def __init__(self):
        self._lock = threading.Lock()
        self._keys: Dict[Any, threading.Lock] = {}
        self._values: Dict[Any, Any] = {}

    def get(self, key, read: Callable[[], Any]):
        with self._lock:
            key_lock = self._keys.setdefault(key, threading.Lock())
        with key_lock:  # concurrent askers of one key wait for the first read instead of repeating it
            if key not in self._values:
                self._values[key] = read()
            return self._values[key]


class ArmClients:
    """Lazily built Azure SDK clients sharing one credential and one set of settings."""

    def __init__(self, settings: ArmSettings, credential: Any = None, memo: Optional[Memo] = None,
                 **client_kwargs: Any):
        self.settings = settings
        self.credential = credential if credential is not None else default_credential()
        self.memo = memo if memo is not None else Memo()
        self._client_kwargs = client_kwargs
        self._kwargs = dict(
            base_url=settings.endpoint,
            credential_scopes=[settings.scope],
            **client_kwargs,
        )
        self._cache: dict = {}

    def for_subscription(self, subscription_id: str, memo: Optional[Memo] = None, **client_kwargs: Any
                         ) -> "ArmClients":
        """Clients of another subscription (or a second set for the same one: each has its own connections)
        over the same credential, settings and client options (plus `client_kwargs`)."""
        return ArmClients(dataclasses.replace(self.settings, subscription_id=subscription_id), self.credential,
                          memo, **{**self._client_kwargs, **client_kwargs})

    def _get(self, key, factory):
        if key not in self._cache:
            self._cache[key] = factory()
        return self._cache[key]

    @property
    def container_service(self):
        from azure.mgmt.containerservice import ContainerServiceClient

        return self._get("aks", lambda: ContainerServiceClient(
            self.credential, self.settings.subscription_id, api_version=self.settings.aks_api_version,
            **self._kwargs))

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

    @property
    def subscriptions(self):
        try:  # azure-mgmt-resource >= 24 moved it into its own package
            from azure.mgmt.resource.subscriptions import SubscriptionClient
        except ImportError:
            from azure.mgmt.resource import SubscriptionClient

        return self._get("subscriptions", lambda: SubscriptionClient(self.credential, **self._kwargs))

    def close(self):
        for client in self._cache.values():
            client.close()
        self._cache.clear()


class ArmWork:
    """What each part of the flow (reads, node-image upgrades, the service) holds: the ARM clients and the way
    to talk to the user."""

    def __init__(self, clients: ArmClients, ui: "Interaction"):
        self.clients = clients
        self.ui = ui

    @property
    def _aks(self):
        return self.clients.container_service
