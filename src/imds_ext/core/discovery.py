"""Which clusters a fleet command works on: the selection (subscriptions, resource groups, tags, or resource IDs),
listed concurrently within ARM's limits. The rollout (fleet.py) and `aks imds-restriction list` (inventory.py)
select through it, so they select alike."""
from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from imds_ext.core import constants, preflight
from imds_ext.core.budget import RequestBudget
from imds_ext.core.clients import ArmClients, Memo
from imds_ext.core.cluster import parse_cluster_id, pod_link_local_access
from imds_ext.core.errors import ConfigurationError, ResourceNotFound, service_message
from imds_ext.core.interaction import Interaction
from imds_ext.core.reads import ClusterReads
from imds_ext.core.settings import request_rates

PLANNED = "planned"  # a selected cluster's result before anything is done to it
_DISCOVERY_THREADS = 8  # concurrent list and read requests (below requests' 10 connections per client)


@dataclass(frozen=True)
class Selection:
    """Which clusters: explicit IDs, or those of the subscriptions (all visible ones with `all_subscriptions`)
    and resource groups given, carrying every tag given (a tag given without value: any value)."""

    subscriptions: Tuple[str, ...] = ()
    all_subscriptions: bool = False
    resource_groups: Tuple[str, ...] = ()
    tags: Tuple[Tuple[str, Optional[str]], ...] = ()
    ids: Tuple[str, ...] = ()

    def matches(self, cluster: Mapping) -> bool:
        have = {k.lower(): v for k, v in (cluster.get("tags") or {}).items()}
        return all(key.lower() in have and (value is None or have[key.lower()] == value) for key, value in self.tags)

    def to_dict(self) -> dict:
        return {"subscriptions": list(self.subscriptions), "allSubscriptions": self.all_subscriptions,
                "resourceGroups": list(self.resource_groups),
                "tags": {k: v for k, v in self.tags}, "ids": list(self.ids)}


@dataclass
class Target:
    """One cluster of the rollout: what the plan says, then how it ended."""

    subscription: str
    resource_group: str
    name: str
    cluster: Mapping = field(repr=False, default_factory=dict)  # as discovered
    action: str = ""
    blockers: List[preflight.Finding] = field(default_factory=list)
    warnings: List[preflight.Finding] = field(default_factory=list)
    result: str = PLANNED
    wave: Optional[str] = None
    error: Optional[str] = None
    seconds: Optional[float] = None
    setting: str = constants.UNRESTRICTED  # podLinkLocalAccess, as discovered then as left
    mechanism: Optional[str] = None  # --fallback network-policy: how IMDS is (to be) blocked by policy
    exempt: Optional[List[str]] = field(default=None, repr=False)  # ... and the exemptions its apply keeps
    # While its flow runs (what the progress shows): the step it is in, since when, and its pools' reimage.
    step: Optional[str] = None
    started_at: Optional[float] = field(default=None, repr=False)  # time.monotonic()
    pools_due: List[str] = field(default_factory=list, repr=False)
    pools_done: List[str] = field(default_factory=list, repr=False)

    @property
    def id(self) -> str:
        return self.cluster.get("id") or (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                                          f"/providers/Microsoft.ContainerService/managedClusters/{self.name}")

    @property
    def key(self) -> Tuple[str, str, str]:
        return self.subscription.lower(), self.resource_group.lower(), self.name.lower()

    def to_dict(self) -> dict:
        return {"id": self.id, "subscription": self.subscription, "resourceGroup": self.resource_group,
                "name": self.name, "podLinkLocalAccess": self.setting, "action": self.action, "result": self.result,
                "wave": self.wave, "mechanism": self.mechanism, "blockers": [b.to_dict() for b in self.blockers],
                "warnings": [w.to_dict() for w in self.warnings],
                "error": self.error, "seconds": None if self.seconds is None else round(self.seconds, 1)}


class Discovery:
    """The selected clusters of every subscription, within ARM's limits: each subscription's clients share one
    request budget (core/budget.py) and one memo of the reads that do not change while a command runs (its
    registrations, each cluster's extensions). The rollout and `aks imds-restriction list` (core/inventory.py)
    select through it, so they select alike."""

    # What errors of the selection add: a rollout says that nothing was changed yet.
    unchanged = " Nothing was changed."

    def __init__(self, clients: ArmClients, ui: Interaction):
        self.clients = clients
        self.ui = ui
        self._subs: Dict[str, ArmClients] = {}
        self._rates = request_rates()  # checked before any request
        self._lock = threading.Lock()

    def _clients(self, subscription: str) -> ArmClients:
        """The clients of a subscription. Its clusters' flows share their memo (registrations, extensions) and
        their request budget (ARM's limits are per subscription)."""
        with self._lock:
            if subscription not in self._subs:
                self._subs[subscription] = self.clients.for_subscription(
                    subscription, Memo(), per_retry_policies=[RequestBudget(*self._rates)])
            return self._subs[subscription]

    def close(self) -> None:
        for clients in self._subs.values():
            clients.close()

    def subscriptions(self, selection: Selection) -> List[str]:
        if selection.all_subscriptions:
            found = [s.subscription_id.lower() for s in self.clients.subscriptions.subscriptions.list()
                     if str(getattr(s.state, "value", s.state) or "Enabled").lower() == "enabled"]
            if not found:
                raise ConfigurationError("--all-subscriptions: the credential in use sees no enabled subscription.")
            return sorted(found)
        return list(dict.fromkeys(s.lower() for s in selection.subscriptions)) or [
            self.clients.settings.subscription_id.lower()]

    def discover(self, selection: Selection) -> List[Target]:
        """The selected clusters, sorted by subscription, group and name (the canary wave is the first ones)."""
        if selection.ids:
            results = concurrently([functools.partial(self._read_one, *parse_cluster_id(i))
                                     for i in dict.fromkeys(selection.ids)])
        else:
            places = [(sub, group) for sub in self.subscriptions(selection)
                      for group in (selection.resource_groups or (None,))]
            results = concurrently([functools.partial(self._list, sub, group, selection.all_subscriptions)
                                     for sub, group in places])
            found = {group.lower() for (_, group), result in zip(places, results, strict=True)
                     if group and not isinstance(result, _MissingGroup)}
            missing = [group for group in selection.resource_groups if group.lower() not in found]
            if missing:
                raise ResourceNotFound(f"Resource group(s) {', '.join(missing)} could not be found in the selected "
                                       f"subscription(s).{self.unchanged}")
        targets, seen = [], set()
        for result in results:
            for target in ([] if isinstance(result, _MissingGroup) else result):
                if target.key not in seen and selection.matches(target.cluster):
                    seen.add(target.key)
                    targets.append(target)
        return sorted(targets, key=lambda t: t.key)

    def _list(self, subscription: str, group: Optional[str], skip_unreadable: bool):
        clusters = self._clients(subscription).container_service.managed_clusters
        try:
            pages = clusters.list_by_resource_group(group) if group else clusters.list()
            return [self._target(subscription, mc) for mc in pages]
        except ResourceNotFoundError as ex:
            code = (getattr(getattr(ex, "error", None), "code", None) or "").lower()
            if group and code == "resourcegroupnotfound":
                return _MissingGroup(group)  # it may exist in another selected subscription
            raise ResourceNotFound(f"{service_message(ex)}{self.unchanged}") from ex
        except HttpResponseError as ex:
            if ex.status_code != 403 or not skip_unreadable:
                raise
            # Among every subscription the identity sees, some it may not read clusters in: say so, go on.
            self.ui.warn(f"Subscription {subscription} was skipped: its clusters could not be listed "
                         f"({service_message(ex)}).")
            return []

    def _read_one(self, subscription: str, group: str, name: str) -> List[Target]:
        reads = ClusterReads(self._clients(subscription), self.ui)
        return [self._target(subscription, reads.get_cluster(group, name))]

    @staticmethod
    def _target(subscription: str, mc) -> Target:
        _, group, name = parse_cluster_id(mc["id"])
        return Target(subscription, group, mc.get("name") or name, mc, setting=pod_link_local_access(mc))

    def environment(self, target: Target, headers: Optional[Dict[str, str]] = None,
                    enable_oidc_issuer: bool = False) -> preflight.Environment:
        """What preflight needs besides the cluster: the subscription's registrations (read once per subscription)
        and the cluster's extensions. Raises the read's error (see `read_failed`)."""
        reads = ClusterReads(self._clients(target.subscription), self.ui)
        # its fixes name the subscription unless it is the default one (a command copied as printed must work)
        reads.name_subscription = target.subscription.lower() != self.clients.settings.subscription_id.lower()
        return reads.environment(target.cluster, dict(headers or {}), enable_oidc_issuer)


@dataclass(frozen=True)
class _MissingGroup:
    group: str


def concurrently(jobs: List[Callable]) -> list:
    """Run the read jobs a few at a time; their results in order. The first error is raised once all have
    ended (a read error stops the plan: nothing has been changed yet)."""
    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=min(_DISCOVERY_THREADS, len(jobs)), thread_name_prefix="discover") as pool:
        futures = [pool.submit(job) for job in jobs]
        return [future.result() for future in futures]
