"""The emulator's back end: the store, the operation engine and one back end per provider, wired together, and
the admin functions over all of them (reset, configure, snapshot, seed). No HTTP."""
from __future__ import annotations

import dataclasses
import math
import re
import time
from typing import List, Optional

from imds_ext.emulator import seeding
from imds_ext.emulator.errors import EmulatorError
from imds_ext.emulator.operations import OperationEngine
from imds_ext.emulator.providers.containerservice import ContainerServiceBackend
from imds_ext.emulator.providers.containerservice.versions import KubernetesVersions
from imds_ext.emulator.providers.features import FeaturesBackend
from imds_ext.emulator.providers.kubernetes import KubernetesBackend
from imds_ext.emulator.providers.kubernetesconfiguration import KubernetesConfigurationBackend
from imds_ext.emulator.providers.resources import ResourcesBackend
from imds_ext.emulator.store import Store

_MAX_DELAY_SECONDS = 24 * 3600.0
DELAY_RULE = f"a number of seconds from 0 to {_MAX_DELAY_SECONDS:.0f}"  # of every delay: admin config, start options


@dataclasses.dataclass
class Config:
    lro_delay: float = 0.0  # seconds a long-running operation takes
    registration_delay: float = 0.0  # seconds a feature or provider registration takes
    retry_after: Optional[int] = None  # Retry-After of long-running operations; None: derived from lro_delay
    kubernetes_versions: Optional[List[str]] = None  # the region's patch versions; None: the emulator's own
    default_kubernetes_version: Optional[str] = None  # the minor a create without a version gets; None: the newest
    omit_retry_after: bool = False  # the faithful mode: no Retry-After, as the service sends none

    def to_json(self) -> dict:
        return {"lroDelaySeconds": self.lro_delay, "registrationDelaySeconds": self.registration_delay,
                "retryAfterSeconds": self.retry_after, "kubernetesVersions": self.kubernetes_versions,
                "defaultKubernetesVersion": self.default_kubernetes_version, "omitRetryAfter": self.omit_retry_after}


def is_delay(value) -> bool:
    """Whether `value` is a delay the emulator takes: a finite number of seconds, 0 to a day (DELAY_RULE)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) \
        and 0 <= value <= _MAX_DELAY_SECONDS


def _seconds(name: str, value) -> float:
    """A delay from the admin API, or its 400."""
    if not is_delay(value):
        raise EmulatorError(400, "InvalidConfiguration", f"{name} must be {DELAY_RULE}, got {value!r}.")
    return float(value)


class Backend:
    def __init__(self, lro_delay: float = 0.0, registration_delay: float = 0.0, state_file: Optional[str] = None,
                 clock=time.time, retry_after: Optional[int] = None, omit_retry_after: bool = False):
        for name, value in (("lro_delay", lro_delay), ("registration_delay", registration_delay)):
            if not is_delay(value):  # NaN would make every long-running operation a 500
                raise ValueError(f"{name} must be {DELAY_RULE}, got {value!r}.")
        self._initial_config = Config(float(lro_delay), float(registration_delay), retry_after,
                                      omit_retry_after=omit_retry_after)
        self.config = dataclasses.replace(self._initial_config)
        self.store = Store(state_file, clock)
        self.operations = OperationEngine(self.store, lambda: self.config.lro_delay)
        self.resources = ResourcesBackend(self.store)
        self.features = FeaturesBackend(self.store, self.resources, lambda: self.config.registration_delay)
        self.container_service = ContainerServiceBackend(self.store, self.operations, self.resources, self.features,
                                                         self._versions)
        self.extensions = KubernetesConfigurationBackend(self.store, self.container_service)
        self.kubernetes = KubernetesBackend(self.store, self.container_service)
        # Loads (and checks) the state file: a corrupt one raises StateFileError before anything is served.
        if not self.store.load():
            self.resources.initial_state()  # the well-known subscription, with its registrations

    def _versions(self) -> KubernetesVersions:
        given = self.config.kubernetes_versions
        if not given:
            return KubernetesVersions()
        return KubernetesVersions(given, self.config.default_kubernetes_version or given[-1])

    def reset(self) -> None:
        """Back to the start: default resources and the delays the emulator was started with."""
        with self.store.lock:
            self.config = dataclasses.replace(self._initial_config)
            self.store.clear()
            self.resources.initial_state()
            self.store.persist()

    def configure(self, lro_delay=None, registration_delay=None, retry_after=..., kubernetes_versions=...,
                  omit_retry_after=None, default_kubernetes_version=...) -> dict:
        """Change the delays; `retry_after` None means "derive from lro_delay", ... means unchanged; likewise the
        region's Kubernetes versions (a list of patch versions, e.g. those of the era a recording comes from) and
        the default minor among them (None: the newest)."""
        with self.store.lock:
            if omit_retry_after is not None:
                if not isinstance(omit_retry_after, bool):
                    raise EmulatorError(400, "InvalidConfiguration", "omitRetryAfter must be true or false.")
                self.config.omit_retry_after = omit_retry_after
            if kubernetes_versions is not ...:
                if kubernetes_versions is not None and (
                        not isinstance(kubernetes_versions, list) or not kubernetes_versions or not all(
                            isinstance(v, str) and re.fullmatch(r"\d+\.\d+\.\d+", v) for v in kubernetes_versions)):
                    raise EmulatorError(400, "InvalidConfiguration", "kubernetesVersions must be a list of patch "
                                        "versions such as [\"1.32.5\", \"1.33.1\"], or null.")
                self.config.kubernetes_versions = kubernetes_versions
            if default_kubernetes_version is not ...:
                offered = {".".join(v.split(".")[:2]) for v in self.config.kubernetes_versions or ()}
                if default_kubernetes_version is not None and default_kubernetes_version not in offered:
                    raise EmulatorError(400, "InvalidConfiguration", "defaultKubernetesVersion must be the minor of "
                                        "one of kubernetesVersions (such as \"1.32\"), or null.")
                self.config.default_kubernetes_version = default_kubernetes_version
            if retry_after is not ...:
                self.config.retry_after = None if retry_after is None else int(_seconds("retryAfterSeconds",
                                                                                        retry_after))
            if lro_delay is not None:
                self.config.lro_delay = _seconds("lroDelaySeconds", lro_delay)
            if registration_delay is not None:
                self.config.registration_delay = _seconds("registrationDelaySeconds", registration_delay)
            return self.config.to_json()

    def snapshot(self) -> dict:
        with self.store.tx():
            return self.store.to_json()

    def seed(self, doc) -> dict:
        return seeding.seed(self, doc)

    def save(self) -> None:
        with self.store.lock:
            self.store.persist()
