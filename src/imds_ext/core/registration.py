"""Preview-feature and resource-provider registration, as `az feature` / `az provider` do it."""
from __future__ import annotations

import time
from typing import Callable, List, Optional

from azure.core.exceptions import ResourceNotFoundError

from imds_ext.core.clients import ArmClients
from imds_ext.core.errors import ImdsExtError, ResourceNotFound

DEFAULT_WAIT_SECONDS = 1800.0


def _wait_for(read_state: Callable[[], str], target: str, timeout: float, interval: float, what: str) -> None:
    """Poll a registration state until it reaches `target`.

    Registrations are not ARM long-running operations (the POST answers 200 at once), so azure-core's
    LRO pollers do not apply; this mirrors `az provider register --wait`, with a deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        state = read_state()
        if state == target:
            return
        if time.monotonic() >= deadline:
            raise ImdsExtError(f"{what} is still '{state}' after {timeout:.0f}s; check again later.")
        time.sleep(interval)


class Registrations:
    def __init__(self, clients: ArmClients, poll_interval: float = 2.0):
        self.clients = clients
        self.poll_interval = poll_interval

    # -- features ----------------------------------------------------------------------------------
    @property
    def _features(self):
        return self.clients.features.features

    def show_feature(self, namespace: str, name: str):
        try:
            return self._features.get(namespace, name)
        except ResourceNotFoundError as ex:
            raise ResourceNotFound(f"Feature '{namespace}/{name}' was not found. List the features of the "
                                   f"namespace with 'feature list --namespace {namespace}'.") from ex

    def list_features(self, namespace: Optional[str] = None) -> List:
        pages = self._features.list(namespace) if namespace else self._features.list_all()
        return list(pages)

    def register_feature(self, namespace: str, name: str, wait: bool = False, timeout=DEFAULT_WAIT_SECONDS):
        return self._set_feature(namespace, name, "register", "Registered", wait, timeout)

    def unregister_feature(self, namespace: str, name: str, wait: bool = False, timeout=DEFAULT_WAIT_SECONDS):
        return self._set_feature(namespace, name, "unregister", "Unregistered", wait, timeout)

    def _set_feature(self, namespace, name, verb, target, wait, timeout):
        try:
            result = getattr(self._features, verb)(namespace, name)
        except ResourceNotFoundError as ex:
            raise ResourceNotFound(f"Feature '{namespace}/{name}' was not found.") from ex
        if wait and result.properties.state != target:
            _wait_for(lambda: self.show_feature(namespace, name).properties.state, target, timeout,
                      self.poll_interval, f"Feature '{namespace}/{name}'")
            result = self.show_feature(namespace, name)
        return result

    # -- providers ---------------------------------------------------------------------------------
    @property
    def _providers(self):
        return self.clients.resources.providers

    def show_provider(self, namespace: str):
        try:
            return self._providers.get(namespace)
        except ResourceNotFoundError as ex:
            raise ResourceNotFound(f"Resource provider '{namespace}' was not found.") from ex

    def register_provider(self, namespace: str, wait: bool = False, timeout=DEFAULT_WAIT_SECONDS) -> bool:
        """Register; True when the provider is Registered at the end."""
        return self._set_provider(namespace, "register", "Registered", wait, timeout)

    def unregister_provider(self, namespace: str, wait: bool = False, timeout=DEFAULT_WAIT_SECONDS) -> bool:
        return self._set_provider(namespace, "unregister", "Unregistered", wait, timeout)

    def _set_provider(self, namespace, verb, target, wait, timeout) -> bool:
        try:
            result = getattr(self._providers, verb)(namespace)
        except ResourceNotFoundError as ex:
            raise ResourceNotFound(f"Resource provider '{namespace}' was not found.") from ex
        if result.registration_state == target:
            return True
        if not wait:
            return False
        _wait_for(lambda: self.show_provider(namespace).registration_state, target, timeout,
                  self.poll_interval, f"Resource provider '{namespace}'")
        return True
