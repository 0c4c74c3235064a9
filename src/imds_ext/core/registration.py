"""Preview-feature and resource-provider registration, as `az feature` / `az provider` do it."""
from __future__ import annotations

import time
from typing import Callable, List, Optional

from azure.core.exceptions import ResourceNotFoundError

from imds_ext.core.clients import ArmClients
from imds_ext.core.errors import ImdsExtError, ResourceNotFound
from imds_ext.core.interaction import Interaction, Quiet

DEFAULT_WAIT_SECONDS = 1800.0


class RegistrationPoller:
    """A registration's state, read every `interval` seconds until it is `target` or `timeout` has passed, as a
    poller the `Interaction` waits on (done, wait, result, status), so that the wait shows as every other wait does.

    Registrations are not ARM long-running operations (the POST answers 200 at once), so azure-core's LRO pollers
    do not apply; this mirrors `az provider register --wait`, with a deadline."""

    def __init__(self, read_state: Callable[[], str], target: str, timeout: float, interval: float, what: str):
        self._read, self._target, self._timeout, self._interval, self._what = (read_state, target, timeout,
                                                                                interval, what)
        self._deadline = time.monotonic() + timeout
        self._next = 0.0
        self._state: Optional[str] = None
        self._ended = False

    def _poll(self) -> None:
        now = time.monotonic()
        if self._ended or now < self._next:
            return
        self._state = self._read()
        self._next = now + self._interval
        self._ended = self._state == self._target or now >= self._deadline

    def done(self) -> bool:
        self._poll()
        return self._ended

    def wait(self, timeout: Optional[float] = None) -> None:
        end = None if timeout is None else time.monotonic() + timeout
        while not self.done():
            pause = self._next - time.monotonic()
            if end is not None:
                if time.monotonic() >= end:
                    return
                pause = min(pause, end - time.monotonic())
            time.sleep(max(0.0, pause))

    def status(self) -> str:
        return self._state or ""

    def result(self, timeout: Optional[float] = None) -> str:
        self.wait(timeout)
        if self._state != self._target:
            raise ImdsExtError(f"{self._what} is still '{self._state}' after {self._timeout:.0f}s; check again "
                               "later.")
        return self._state


class Registrations:
    def __init__(self, clients: ArmClients, poll_interval: float = 2.0, ui: Optional[Interaction] = None):
        self.clients = clients
        self.poll_interval = poll_interval
        self.ui = ui if ui is not None else Quiet()

    def _wait_for(self, read_state: Callable[[], str], target: str, timeout: float, what: str) -> None:
        """Until the registration reaches `target`, shown as a wait (on a terminal, the spinner and the elapsed
        time; in CI a log line)."""
        poller = RegistrationPoller(read_state, target, timeout, self.poll_interval, what)
        self.ui.wait(f"Waiting for {what[0].lower()}{what[1:]} to be {target}", [poller])
        poller.result()

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
            self._wait_for(lambda: self.show_feature(namespace, name).properties.state, target, timeout,
                           f"Feature '{namespace}/{name}'")
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
        self._wait_for(lambda: self.show_provider(namespace).registration_state, target, timeout,
                       f"Resource provider '{namespace}'")
        return True
