"""The fleet view (`aks imds-restriction list`): every selected cluster, read-only, with its setting, its effective
state, whether it can be enabled and its blockers.

The clusters are selected exactly as a rollout selects them (discovery.py: the same subscriptions, groups and
tags, the same request budget and concurrency), and judged by the same rules as the rollout's plan of an enable
(fleet.classify over preflight.py) and `show` (reads.reimage_due over marker.py). What it reads beyond the listing:
for the clusters that do not carry the setting, the subscription's registrations (once per subscription) and the
cluster's extensions. Nothing is written.
"""
from __future__ import annotations

import functools
from typing import List, Optional

from azure.core.exceptions import AzureError

from imds_ext.core import constants, fleet
from imds_ext.core.discovery import Discovery, Selection, Target, concurrently
from imds_ext.core.cluster import pod_link_local_access, provisioning_state
from imds_ext.core.errors import ImdsExtError, service_message
from imds_ext.core.reads import reimage_due

# A cluster's effective state.
ENFORCED = "enforced"  # podLinkLocalAccess None and, by imds-ext's record, no reimage due: the nodes enforce it
REIMAGE_DUE = "reimageDue"  # the record names Linux pools still to reimage for the setting: those nodes do not
OPEN = "open"  # podLinkLocalAccess IMDS or absent, nothing due: pods reach IMDS
UNKNOWN = "unknown"  # what the row needs could not be read (`reason`)


def effective_state(cluster) -> tuple:
    """(state, pools still due) from the cluster as listed."""
    due = reimage_due(cluster)
    if due:
        return REIMAGE_DUE, due
    restricted = pod_link_local_access(cluster) == constants.RESTRICTED
    return (ENFORCED if restricted else OPEN), []


class Inventory(Discovery):
    """Rows of `aks imds-restriction list`; a discovery whose errors need not say that nothing was changed."""

    unchanged = ""

    def rows(self, selection: Selection) -> List[dict]:
        targets = self.discover(selection)
        return concurrently([functools.partial(self.row, t) for t in targets])

    def row(self, target: Target) -> dict:
        cluster = target.cluster
        state, due = effective_state(cluster)
        reason, can_enable, blockers, warnings = None, None, [], []
        try:
            env = self.environment(target) if fleet.needs_environment(cluster, True) else None
        except (AzureError, ImdsExtError) as ex:  # this cluster's row says so; the others go on
            state, reason, blockers = UNKNOWN, service_message(ex), [fleet.read_failed(ex)]
        else:  # judged as a rollout's plan of an enable judges it
            action, blockers, warnings = fleet.classify(cluster, env, True, target.resource_group, target.name)
            can_enable = action != fleet.BLOCKED
        return {
            "id": target.id, "subscription": target.subscription, "resourceGroup": target.resource_group,
            "name": target.name, "location": cluster.get("location"),
            "provisioningState": provisioning_state(cluster) or None,
            "podLinkLocalAccess": target.setting, "state": state, "reimageDue": due,
            "nextCommand": self._next_command(target) if due else None,
            "canEnable": can_enable,
            "blockers": [b.to_dict() for b in blockers], "warnings": [w.to_dict() for w in warnings],
            "reason": reason,
        }

    def _next_command(self, target: Target) -> Optional[str]:
        """What finishes the job on a cluster whose reimage is due (in its own subscription)."""
        return (f"{self.ui.cli_name} aks upgrade -g {target.resource_group} -n {target.name} --node-image-only "
                f"--yes --subscription {target.subscription}")
