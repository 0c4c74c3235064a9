"""The stored managed cluster, and how clusters, agent pools and node states render on the wire.

The cluster is kept as the body the service would return (agent pools inside `agentPoolProfiles`, as AKS keeps
them), so every field a client sent, known or not, round-trips. What the nodes of each pool enforce is kept
beside it: ARM does not show it, and it changes only when the nodes are reimaged.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Dict, List, Optional

from imds_ext.emulator.constants import CONTAINER_SERVICE, UNRESTRICTED
from imds_ext.emulator.providers.containerservice import apiversions, rules
from imds_ext.emulator.operations import utc_iso
from imds_ext.emulator.records import Record

CLUSTER_TYPE = "Microsoft.ContainerService/ManagedClusters"
POOL_TYPE = "Microsoft.ContainerService/managedClusters/agentPools"


def cluster_key(sub: str, resource_group: str, name: str) -> str:
    """A cluster's key, also the key its extensions, Kubernetes objects and operations refer to it by."""
    return f"{sub}/{resource_group}/{name}".lower()


def cluster_id(sub: str, resource_group: str, name: str) -> str:
    return (f"/subscriptions/{sub}/resourcegroups/{resource_group}/providers/"
            f"{CONTAINER_SERVICE}/managedClusters/{name}")


@dataclasses.dataclass
class ManagedCluster(Record):
    subscription: str  # lower case, as every stored subscription id
    resource_group: str
    resource: dict  # the cluster as the service returns it at the newest preview api-version
    enforced: Dict[str, str]  # pool name (lower case) -> podLinkLocalAccess its nodes enforce
    tokens: Dict[str, str] = dataclasses.field(default_factory=dict)  # static tokens of the local accounts
    created: Optional[float] = None  # when it was created and last written (the generic list's createdTime and
    changed: Optional[float] = None  # changedTime); None in a state file from before they were kept

    @property
    def key(self) -> str:
        return cluster_key(self.subscription, self.resource_group, self.name)

    @property
    def name(self) -> str:
        return self.resource["name"]

    @property
    def location(self) -> str:
        return self.resource["location"]

    @property
    def properties(self) -> dict:
        return self.resource["properties"]

    @property
    def pools(self) -> List[dict]:
        return self.properties.setdefault("agentPoolProfiles", [])

    def pool(self, name: str) -> Optional[dict]:
        return next((p for p in self.pools if p.get("name", "").lower() == name.lower()), None)

    def reimaged(self, pool_name: str) -> None:
        """The pool's nodes were (re)built: from now on they enforce the cluster's setting of this moment."""
        self.enforced[pool_name.lower()] = rules.pod_link_local_access(self.resource)

    def render(self, api_version: str) -> dict:
        return apiversions.show(self.resource, api_version)

    def generic(self) -> dict:
        """The cluster as ARM's generic resource list shows it: the envelope without its properties."""
        r = self.resource
        out = {"id": r["id"], "name": r["name"], "type": CLUSTER_TYPE, "location": r["location"],
               **{k: copy.deepcopy(r[k]) for k in ("tags", "sku", "kind", "identity") if r.get(k)},
               "provisioningState": self.properties.get("provisioningState")}
        for key, when in (("createdTime", self.created), ("changedTime", self.changed)):
            if when is not None:
                out[key] = utc_iso(when)
        return out

    def render_pool(self, pool: dict) -> dict:
        props = {k: copy.deepcopy(v) for k, v in pool.items() if k not in ("name", "eTag")}
        if pool.get("eTag"):
            props["eTag"] = pool["eTag"]
        out = {"id": f"{self.resource['id']}/agentPools/{pool['name']}", "name": pool["name"], "type": POOL_TYPE,
               "properties": props}
        if str(pool.get("mode")).lower() == "machines":
            del out["type"]  # the service answers a Machines pool without it (test_aks_nodepool_create_machines_pool)
        return out

    def node_report(self) -> dict:
        """What only the emulator can tell: the setting, and what each pool's nodes enforce."""
        pools = {p["name"]: {"podLinkLocalAccess": self.enforced.get(p["name"].lower(), UNRESTRICTED),
                             "nodeImageVersion": p.get("nodeImageVersion"),
                             "provisioningState": p.get("provisioningState")} for p in self.pools}
        return {"cluster": self.name, "podLinkLocalAccess": rules.pod_link_local_access(self.resource),
                "pools": pools}
