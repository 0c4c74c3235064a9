"""Microsoft.Features (preview features) and resource-provider registration, with ARM's front door rule that an
unregistered namespace answers 409 MissingSubscriptionRegistration.

Both registrations move through a transitional state (Registering, Unregistering) over the configured
registration delay, as the service does (docs/arm-protocol.md, "Features and providers"). Each subscription has its
own: features keyed `subscription/namespace/name`, providers `subscription/namespace`.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Optional

from imds_ext.emulator.constants import (
    AKS_API_VERSIONS, CONTAINER_SERVICE, DEFAULT_FEATURES, REGISTERED_PROVIDERS, UNREGISTERED_PROVIDERS,
)
from imds_ext.emulator.errors import EmulatorError
from imds_ext.emulator.providers.resources import ResourcesBackend
from imds_ext.emulator.records import Record
from imds_ext.emulator.store import Store

FEATURE_TYPE = "Microsoft.Features/providers/features"
NOT_REGISTERED_STATES = ("NotRegistered", "Unregistered")


@dataclasses.dataclass
class Registration(Record):
    subscription: str
    namespace: str
    state: str
    target: Optional[str] = None  # the state it is moving to, and when it gets there
    due: Optional[float] = None

    def move(self, steady: tuple, transitional: str, target: str, at: Optional[float]) -> bool:
        """Towards `target` (at once when `at` is None, else through `transitional` until `at`); False when
        already there or on the way."""
        if self.state in steady:
            return False
        if at is None:
            self.state, self.target, self.due = target, None, None
        else:
            self.state, self.target, self.due = transitional, target, at
        return True

    def advance(self, now: float) -> bool:
        if self.due is None or self.due > now:
            return False
        self.state, self.target, self.due = self.target, None, None
        return True

    def set(self, state: str) -> None:
        self.state, self.target, self.due = state, None, None


@dataclasses.dataclass
class Feature(Registration):
    name: str = ""

    def render(self) -> dict:
        return {"id": f"/subscriptions/{self.subscription}/providers/Microsoft.Features/providers/"
                      f"{self.namespace}/features/{self.name}",
                "name": f"{self.namespace}/{self.name}", "type": FEATURE_TYPE, "properties": {"state": self.state}}


@dataclasses.dataclass
class Provider(Registration):
    def render(self) -> dict:
        types = []
        if self.namespace == CONTAINER_SERVICE:
            versions = sorted(AKS_API_VERSIONS, reverse=True)
            types = [{"resourceType": t, "locations": ["East US", "West Europe", "Central US EUAP"],
                      "apiVersions": versions,
                      "capabilities": "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, "
                                      "SupportsTags, SupportsLocation"}
                     for t in ("managedClusters", "managedClusters/agentPools")]
        return {"id": f"/subscriptions/{self.subscription}/providers/{self.namespace}",
                "namespace": self.namespace, "registrationState": self.state,
                "registrationPolicy": "RegistrationRequired", "resourceTypes": types}


def feature_key(sub: str, feature_id: str) -> str:
    """`feature_id` is `namespace/name`."""
    return f"{sub}/{feature_id}".lower()


def provider_key(sub: str, namespace: str) -> str:
    return f"{sub}/{namespace}".lower()


class FeaturesBackend:
    def __init__(self, store: Store, resources: ResourcesBackend, delay: Callable[[], float]):
        self.store = store
        self.resources = resources
        self.delay = delay
        self.features: Dict[str, Feature] = store.table("features", Feature)
        self.providers: Dict[str, Provider] = store.table("providers", Provider)
        store.on_advance(self._advance)
        resources.on_subscription_added(self.initial_state)

    def initial_state(self, sub: str) -> None:
        """The registrations a subscription starts with (every subscription the same)."""
        for feature_id, state in DEFAULT_FEATURES.items():
            namespace, name = feature_id.split("/", 1)
            self.features[feature_key(sub, feature_id)] = Feature(subscription=sub, namespace=namespace, name=name,
                                                                  state=state)
        for namespace in REGISTERED_PROVIDERS + UNREGISTERED_PROVIDERS:
            self.providers[provider_key(sub, namespace)] = Provider(
                subscription=sub, namespace=namespace,
                state="Registered" if namespace in REGISTERED_PROVIDERS else "NotRegistered")
        self.store.changed()

    def _advance(self, now: float) -> None:
        for rec in list(self.features.values()) + list(self.providers.values()):
            if rec.advance(now):
                self.store.changed()

    def _due(self) -> Optional[float]:
        return self.store.clock() + self.delay()

    # ---- providers ------------------------------------------------------------------------------
    def provider(self, sub: str, namespace: str) -> Provider:
        rec = self.providers.get(provider_key(self.resources.check_subscription(sub), namespace))
        if rec is None:
            raise EmulatorError(404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.")
        return rec

    def require_registered(self, sub: str, namespace: str) -> None:
        """ARM's front door: a namespace the subscription is not registered for answers 409."""
        with self.store.tx():
            state = self.provider(sub, namespace).state
        if state in NOT_REGISTERED_STATES:
            message = (f"The subscription is not registered to use namespace '{namespace}'. See "
                       "https://aka.ms/rps-not-found for how to register subscriptions.")
            raise EmulatorError(409, "MissingSubscriptionRegistration", message,
                                details=[{"code": "MissingSubscriptionRegistration", "target": namespace,
                                          "message": message}])

    def get_provider(self, sub: str, namespace: str) -> dict:
        with self.store.tx():
            return self.provider(sub, namespace).render()

    def list_providers(self, sub: str) -> list:
        with self.store.tx():
            sub = self.resources.check_subscription(sub)
            return [rec.render() for rec in self.providers.values() if rec.subscription == sub]

    def register_provider(self, sub: str, namespace: str, register: bool = True) -> dict:
        """Registration is immediate when the delay is 0, as a provider already known to the subscription."""
        with self.store.tx():
            rec = self.provider(sub, namespace)
            at = self._due() if self.delay() > 0 else None
            moved = (rec.move(("Registered", "Registering"), "Registering", "Registered", at) if register else
                     rec.move(("Unregistered", "NotRegistered", "Unregistering"), "Unregistering", "Unregistered", at))
            if moved:
                self.store.changed()
            return rec.render()

    def seed_provider(self, sub: str, namespace: str, state: str) -> None:
        """The namespace as the seed spells it (the service lists `microsoft.insights` in lower case), listed after
        the providers seeded before it, so that a seed can give a subscription's providers in the service's order."""
        with self.store.tx():
            sub = self.resources.check_subscription(sub)
            self.providers.pop(provider_key(sub, namespace), None)
            self.providers[provider_key(sub, namespace)] = Provider(subscription=sub, namespace=namespace, state=state)
            self.store.changed()

    # ---- features -------------------------------------------------------------------------------
    def feature(self, sub: str, namespace: str, name: str) -> Feature:
        rec = self.features.get(feature_key(self.resources.check_subscription(sub), f"{namespace}/{name}"))
        if rec is None:
            raise EmulatorError(404, "FeatureNotFound",
                                f"The feature '{name}' could not be found in namespace '{namespace}'.")
        return rec

    def feature_state(self, sub: str, feature_id: str) -> str:
        rec = self.features.get(feature_key(sub, feature_id))
        return rec.state if rec else "NotRegistered"

    def get_feature(self, sub: str, namespace: str, name: str) -> dict:
        with self.store.tx():
            return self.feature(sub, namespace, name).render()

    def list_features(self, sub: str, namespace: Optional[str] = None) -> list:
        with self.store.tx():
            sub = self.resources.check_subscription(sub)
            return [rec.render() for rec in self.features.values() if rec.subscription == sub
                    and (namespace is None or rec.namespace.lower() == namespace.lower())]

    def register_feature(self, sub: str, namespace: str, name: str, register: bool = True) -> dict:
        """Synchronous, as the service: the answer carries the transitional state (Registering/Unregistering)."""
        with self.store.tx():
            rec = self.feature(sub, namespace, name)
            at = self._due()
            moved = (rec.move(("Registered", "Registering", "Pending"), "Registering", "Registered", at) if register
                     else rec.move(("Unregistered", "NotRegistered", "Unregistering"), "Unregistering",
                                   "Unregistered", at))
            if moved:
                self.store.changed()
            return rec.render()

    def seed_feature(self, sub: str, feature_id: str, state: str) -> None:
        namespace, _, name = feature_id.partition("/")
        with self.store.tx():
            sub = self.resources.check_subscription(sub)
            self.features.setdefault(feature_key(sub, feature_id), Feature(
                subscription=sub, namespace=namespace, name=name, state=state)).set(state)
            self.store.changed()
