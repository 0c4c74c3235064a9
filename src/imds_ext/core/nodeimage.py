"""Node-image-only upgrades: every pool at once, each failure kept apart, and the record of what is still due.

A pool's nodes enforce the IMDS setting only once reimaged. The pools upgrade concurrently (each SDK poller polls
on its own thread); a pool that fails, or whose request never got through, does not stop the others. What is
still due afterwards is written to the cluster's record (marker.py), so that running the same command again
finishes the job.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError

from imds_ext.core import marker
from imds_ext.core.clients import ArmWork
from imds_ext.core.errors import ConcurrentModification, ImdsExtError, ResourceNotFound, service_message
from imds_ext.core.polling import BackoffPolling, wait_all

MAX_ETAG_ATTEMPTS = 3  # conditional writes (the PUT, the record's tags PATCH) are tried this many times


class NodeImageUpgrades(ArmWork):

    def start(self, resource_group: str, name: str, pools: List[str], no_wait: bool = False):
        """Start the upgrade of `pools`: ({pool: poller}, {pool: why it could not start})."""
        pollers, failures = {}, {}
        for pool in pools:
            try:
                pollers[pool] = self._aks.agent_pools.begin_upgrade_node_image_version(
                    resource_group, name, pool, polling=False if no_wait else BackoffPolling())
            except AzureError as ex:  # a refusal, or a request that never got through: the other pools go on
                failures[pool] = service_message(ex)
        return pollers, failures

    def run(self, resource_group: str, name: str, pools: List[str],
            sizes: Optional[Dict[str, int]] = None) -> Dict[str, str]:
        """Upgrade `pools` and wait for all of them; {pool: why it failed} for those that did not succeed. `sizes`
        ({pool: node count}) go into each pool's label, for the progress."""
        pollers, failures = self.start(resource_group, name, pools)
        if pollers:
            sizes = sizes or {}
            wait_all(self.ui, f"Upgrading the node image of {len(pollers)} pool(s): {', '.join(pollers)}",
                     list(pollers.values()), labels=[f"{pool} ({sizes[pool]} node{'s' if sizes[pool] != 1 else ''})"
                                                     if pool in sizes else pool for pool in pollers],
                     keys=list(pollers))
        for pool, poller in pollers.items():
            try:
                poller.result()
            except AzureError as ex:
                failures[pool] = service_message(ex)
        return {pool: failures[pool] for pool in pools if pool in failures}

    def record(self, resource_group: str, name: str, setting: str, pools: List[str],
               read: Optional[Callable[[], dict]] = None) -> None:
        """Rewrite the cluster's record: `pools` still due for `setting`, or no record when there are none.

        The tags PATCH replaces every tag, so it is sent If-Match the eTag of the tags it was computed from: a tag
        someone adds meanwhile (a colleague's `az aks update --tags`) gets a 412, and the tags are read again (by
        `read`, which waits for an operation in flight) and the record recomputed, never lost."""
        read = read or (lambda: self._aks.managed_clusters.get(resource_group, name))
        for attempt in range(1, MAX_ETAG_ATTEMPTS + 1):
            cluster = read()
            tags = cluster.get("tags") or {}
            new = marker.with_record(tags, setting, pools) if pools else marker.without_record(tags)
            if new == tags:
                return
            etag = cluster.get("eTag")
            try:
                poller = self._aks.managed_clusters.begin_update_tags(
                    resource_group, name, {"tags": new}, etag=etag,
                    match_condition=MatchConditions.IfNotModified if etag else None, polling=BackoffPolling())
            except HttpResponseError as ex:
                if ex.status_code != 412:
                    raise
                self.ui.warn(f"The tags of cluster '{name}' changed while imds-ext was rewriting its record of the "
                             f"reimage due (attempt {attempt} of {MAX_ETAG_ATTEMPTS}); reading them again.")
                continue
            self.ui.wait(f"Recording the state of the node-image upgrade on cluster '{name}'", [poller])
            poller.result()
            return
        raise ConcurrentModification(
            f"The tags of cluster '{name}' kept changing under us ({MAX_ETAG_ATTEMPTS} ETag mismatches); none was "
            "overwritten. Try again once other changes have finished.")

    def upgrade_pool(self, resource_group: str, cluster: str, pool: str, no_wait: bool = False,
                     started: Callable[[], None] = lambda: None):
        """`aks nodepool upgrade --node-image-only`: one pool, waited for unless `no_wait`; `started` is told once
        the service has accepted the upgrade."""
        try:
            poller = self._aks.agent_pools.begin_upgrade_node_image_version(
                resource_group, cluster, pool, polling=False if no_wait else BackoffPolling())
        except ResourceNotFoundError as ex:
            raise ResourceNotFound(service_message(ex)) from ex
        started()
        if no_wait:
            return None
        self.ui.wait(f"Upgrading the node image of pool '{pool}'", [poller])
        poller.result()
        return self._aks.agent_pools.get(resource_group, cluster, pool)


def failure_message(failures: Dict[str, str], retry: str) -> str:
    reasons = "; ".join(f"{pool}: {why.rstrip('.')}" for pool, why in failures.items())
    return f"Node image upgrade failed for {reasons}. The other pools are done. Run '{retry}' to retry the failed ones."


class NodeImageUpgradeFailed(ImdsExtError):
    """Some pools were not reimaged; the message names them and the command that retries them."""
