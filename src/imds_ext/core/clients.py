"""The Azure SDK clients of one command: one credential, one set of settings, built when first used."""
from __future__ import annotations

import dataclasses
import os
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional
from urllib.parse import urlsplit

from imds_ext.core.errors import ConfigurationError
from imds_ext.core.settings import ArmSettings

if TYPE_CHECKING:
    from imds_ext.core.interaction import Interaction


NOT_LOGGED_IN = ("No Azure credential is available: run 'az login', or set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
                 "AZURE_CLIENT_SECRET (a service principal); a managed or workload identity is used where there is "
                 "one. Run with --debug to see each credential tried.")


# The environment variables that name a credential of their own (a service principal, a workload identity, a
# user): when one is set, its failure is that credential's, and azure-identity's words about it are kept.
_ENVIRONMENT_CREDENTIALS = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE",
                            "AZURE_USERNAME")


def _not_logged_in(ex):
    """The error to raise for the chain's failure `ex`."""
    from azure.core.exceptions import ClientAuthenticationError

    if any(os.environ.get(name) for name in _ENVIRONMENT_CREDENTIALS):
        return ex
    error = ClientAuthenticationError(message=NOT_LOGGED_IN)
    error.__cause__ = ex
    return error


def default_credential(instance_discovery: bool = True):
    """azure-identity's chain: environment service principal, workload identity, managed identity, Azure CLI.

    Interactive browser login is left out: this tool must never block on a prompt in CI.
    `instance_discovery=False` (az's `core.instance_discovery=false`) trusts an authority host that
    login.microsoftonline.com does not know: Azure Stack, ADFS, the local emulator.
    """
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import DefaultAzureCredential

    class Chain(DefaultAzureCredential):
        """Not logged in (the chain failed and the environment names no credential of its own): one sentence;
        each credential's answer stays the error's cause, shown under --debug."""

        def get_token(self, *scopes, **kwargs):
            try:
                return super().get_token(*scopes, **kwargs)
            except ClientAuthenticationError as ex:
                raise _not_logged_in(ex)  # noqa: B904  (its cause is set)

        def get_token_info(self, *scopes, **kwargs):
            try:
                return super().get_token_info(*scopes, **kwargs)
            except ClientAuthenticationError as ex:
                raise _not_logged_in(ex)  # noqa: B904  (its cause is set)

    try:
        return Chain(exclude_interactive_browser_credential=True, disable_instance_discovery=not instance_discovery)
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


class Writes:
    """Whether any request of a command's clients may have changed something (anything but a read)."""

    def __init__(self):
        self.sent = False


def _may_change(request) -> bool:
    method = request.method.upper()
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    # ARM's POST actions that only read (listClusterUserCredential, listKeys) are named list*.
    return not (method == "POST" and urlsplit(request.url).path.rsplit("/", 1)[-1].lower().startswith("list"))


class ArmAnswers:
    """An azure-core per-call policy (duck-typed, so this module loads without azure-core): notes a request that may
    change something; a connection that breaks before the answer says `reads_only` (nothing this command sent could
    have changed anything); a 2xx answer that is not a JSON object (ARM always answers with one) is a DecodeError
    naming the request, not a crash in whatever reads it."""

    def __init__(self, writes: Writes):
        self.writes = writes
        self.next = None

    def send(self, request):
        from azure.core.exceptions import DecodeError, ServiceResponseError

        http_request = request.http_request
        if _may_change(http_request):
            self.writes.sent = True
        try:
            response = self.next.send(request)
        except ServiceResponseError as ex:
            ex.reads_only = not self.writes.sent
            raise
        answer = response.http_response
        if 200 <= answer.status_code < 300:
            try:
                body = answer.body().lstrip()
            except Exception:  # noqa: BLE001  (a streamed answer not read: not ours to check)
                body = b"{"
            if body and not body.startswith(b"{"):
                preview = body[:40].decode("utf-8", "replace")
                raise DecodeError(message=f"The answer to {http_request.method} "
                                          f"{http_request.url.split('?')[0]} is not a JSON object (it begins "
                                          f"'{preview}'); Azure Resource Manager always answers with one.",
                                  response=answer)
        return response


class ArmClients:
    """Lazily built Azure SDK clients sharing one credential and one set of settings."""

    def __init__(self, settings: ArmSettings, credential: Any = None, memo: Optional[Memo] = None,
                 writes: Optional[Writes] = None, **client_kwargs: Any):
        self.settings = settings
        self.credential = credential if credential is not None else default_credential()
        self.memo = memo if memo is not None else Memo()
        self.writes = writes if writes is not None else Writes()
        self._client_kwargs = client_kwargs
        self._options = dict(
            base_url=settings.endpoint,
            credential_scopes=[settings.scope],
            **client_kwargs,
        )
        self._cache: dict = {}

    @property
    def _kwargs(self) -> dict:
        """One SDK client's options: a policy is linked into one pipeline, so each client gets its own."""
        policies = [*self._options.get("per_call_policies", ()), ArmAnswers(self.writes)]
        return {**self._options, "per_call_policies": policies}

    def for_subscription(self, subscription_id: str, memo: Optional[Memo] = None, **client_kwargs: Any
                         ) -> "ArmClients":
        """Clients of another subscription (or a second set for the same one: each has its own connections)
        over the same credential, settings, client options (plus `client_kwargs`) and record of writes."""
        return ArmClients(dataclasses.replace(self.settings, subscription_id=subscription_id), self.credential,
                          memo, self.writes, **{**self._client_kwargs, **client_kwargs})

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
