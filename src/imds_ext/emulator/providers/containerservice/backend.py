"""Microsoft.ContainerService: managed clusters, agent pools, node-image upgrades, their operations, and the
service's IMDS-restriction rules (rules.py) applied to every change. Clusters are keyed `subscription/group/name`
(records.cluster_key): each subscription has its own."""
from __future__ import annotations

import copy
import secrets
import zlib
from typing import Callable, Dict, List, Optional

from imds_ext.emulator import conditions
from imds_ext.emulator.constants import AKS_API_VERSIONS, LATEST_NODE_IMAGE, LATEST_WINDOWS_NODE_IMAGE
from imds_ext.emulator.errors import AKS, EmulatorError, bad_request, resource_not_found
from imds_ext.emulator.operations import CANCELED, Operation, OperationEngine, operation_not_found, utc_iso
from imds_ext.emulator.providers.containerservice import apiversions, bodies, defaults, kubeconfig, rules
from imds_ext.emulator.providers.containerservice.versions import KubernetesVersions
from imds_ext.emulator.providers.containerservice.records import ManagedCluster, cluster_key
from imds_ext.emulator.providers.containerservice.namespaces import ManagedNamespaces
from imds_ext.emulator.providers.containerservice.safeguards import DeploymentSafeguards
from imds_ext.emulator.providers.features import FeaturesBackend
from imds_ext.emulator.providers.resources import ResourcesBackend
from imds_ext.emulator.store import Store

CLUSTERS_TYPE = "Microsoft.ContainerService/managedClusters"
POOLS_TYPE = "Microsoft.ContainerService/managedClusters/agentPools"
LATEST_PREVIEW = max(v for v in AKS_API_VERSIONS if v.endswith("-preview"))


class ContainerServiceBackend:
    def __init__(self, store: Store, operations: OperationEngine, resources: ResourcesBackend,
                 features: FeaturesBackend, versions: Callable[[], KubernetesVersions] = KubernetesVersions):
        self.store = store
        self.versions = versions  # the region's Kubernetes versions (configurable, to replay another era)
        self.operations = operations
        self.features = features
        self.resources = resources
        self.clusters: Dict[str, ManagedCluster] = store.table("clusters", ManagedCluster)
        # The cluster's extensions, for the rules (Microsoft.KubernetesConfiguration plugs itself in here).
        self.extensions_of: Callable[[str], List[dict]] = lambda key: []
        self._on_cluster_dropped: List[Callable[[str], None]] = []
        resources.on_group_deleted(self._drop_group)
        for kind, on_success in (("cluster.put", self._put_done), ("cluster.delete", self._delete_done),
                                 ("pool.put", self._pool_put_done), ("pool.delete", self._pool_delete_done),
                                 ("pool.upgrade", self._pool_upgrade_done), ("abort", self._abort_done)):
            operations.handle(kind, on_success, self._failed)
        self.safeguards = DeploymentSafeguards(store, operations, self)  # each cluster's, gone with it
        self.namespaces = ManagedNamespaces(store, operations, self)  # likewise
        resources.on_listing(self._generic)

    def _generic(self, sub: str) -> List[dict]:
        """The subscription's clusters and managed namespaces, as ARM's generic resource list shows them."""
        return [rec.generic() for rec in self.clusters.values() if rec.subscription == sub] + \
            self.namespaces.generic(sub)

    def on_cluster_dropped(self, callback: Callable[[str], None]) -> None:
        """`callback(cluster_key)` runs when a cluster is gone, so its child resources go with it."""
        self._on_cluster_dropped.append(callback)

    # ---- lookups (callers hold the transaction) ---------------------------------------------------
    def cluster(self, sub: str, rg: str, name: str) -> ManagedCluster:
        group = self.resources.group(sub, rg)
        rec = self.clusters.get(cluster_key(group.subscription, rg, name))
        if rec is None:
            raise resource_not_found(CLUSTERS_TYPE, name, rg)
        return rec

    @staticmethod
    def _pool(rec: ManagedCluster, rg: str, pool: str) -> dict:
        found = rec.pool(pool)
        if found is None:
            raise resource_not_found(POOLS_TYPE, f"{rec.name}/{pool}", rg)
        return found

    def _busy(self, key: str, pool: Optional[str] = None) -> None:
        """409 if a running operation conflicts: any, for a cluster operation; for a pool operation, one on the
        cluster itself or on the same pool. Pools upgrade side by side, as `az aks upgrade --node-image-only`
        relies on when it starts every pool's upgrade without waiting."""
        for op in self.operations.running(key):
            if pool is None or not op.child or op.child.lower() == pool.lower():
                on = (f"the agent pool {op.child}" if op.child
                      else f"the managed cluster {self.clusters[key].name}")
                raise EmulatorError(
                    409, "OperationNotAllowed",
                    f"Operation is not allowed because there's an in progress {op.title} operation "
                    f"(operation ID: {op.id}) on {on} started on UTC {utc_iso(op.start)[:19]}Z. "
                    "Please wait for it to finish before starting a new operation. You can also use "
                    "'az aks operation-abort' or 'az aks nodepool operation-abort' to abort the ongoing operation.",
                    AKS)

    def _drop(self, key: str) -> None:
        self.clusters.pop(key, None)
        for callback in self._on_cluster_dropped:
            callback(key)
        self.store.changed()

    def _drop_group(self, sub: str, group: str) -> None:
        for key, rec in list(self.clusters.items()):
            if rec.subscription == sub and rec.resource_group.lower() == group.lower():
                self._drop(key)

    def _start(self, rec: ManagedCluster, kind: str, title: str, api_version: str, child: Optional[str] = None,
               failure: Optional[dict] = None) -> Operation:
        """An operation on the cluster (or one of its pools, `child`), in the cluster's subscription."""
        return self.operations.start(kind, title, rec.key, rec.location, api_version, child=child, failure=failure,
                                     subscription=rec.subscription)

    # ---- operation completions (registered with the engine) ---------------------------------------
    def _target(self, op: Operation):
        rec = self.clusters.get(op.resource)
        return rec, (rec.pool(op.child) if rec is not None and op.child else None)

    def _failed(self, op: Operation) -> Optional[str]:
        rec, pool = self._target(op)
        if rec is None:
            return CANCELED
        if pool is not None:
            pool["provisioningState"] = "Failed"
        else:  # the cluster and the pools the operation held: none is left in a state that refuses what follows
            rec.properties["provisioningState"] = "Failed"
            for held in rec.pools:
                if held.get("provisioningState") in ("Creating", "Updating", "Scaling", "Upgrading"):
                    held["provisioningState"] = "Failed"
        return None

    def _put_done(self, op: Operation) -> Optional[str]:
        rec, _ = self._target(op)
        if rec is None:
            return CANCELED
        rec.properties["provisioningState"] = "Succeeded"
        for pool in rec.pools:
            pool["provisioningState"] = "Succeeded"
            self._built(pool)
        defaults.effective_outbound_ips(rec.subscription, rec.properties)
        bodies.kubelet_identity(rec.resource, rec.subscription)
        bodies.user_assigned_identities(rec.resource)
        bodies.private_link_ids(rec.resource)
        bodies.addon_identities(rec.resource, rec.subscription)
        bodies.web_app_routing_identity(rec.resource, rec.subscription)
        return None

    def _delete_done(self, op: Operation) -> Optional[str]:
        self._drop(op.resource)
        return None

    def _pool_put_done(self, op: Operation) -> Optional[str]:
        rec, pool = self._target(op)
        if pool is None:
            return CANCELED
        pool["provisioningState"] = "Succeeded"
        self._built(pool)
        return None

    @staticmethod
    def _built(pool: dict) -> None:
        defaults.pool_built(pool)
        if str(pool.get("mode")).lower() == "managedsystem":
            pool.setdefault("nodeImageVersion", LATEST_NODE_IMAGE)

    def _abort_done(self, op: Operation) -> Optional[str]:
        """The aborted operation is over: the cluster (or the pool) and the pools it held are Canceled
        (test_aks_abort, 2024-02-01: an aborted create reads Canceled, cluster and pool)."""
        rec, pool = self._target(op)
        if rec is None:
            return None
        held = [pool] if pool is not None else rec.pools
        if pool is None:
            rec.properties["provisioningState"] = "Canceled"
        for profile in held:
            if profile.get("provisioningState") not in ("Succeeded", "Failed"):
                profile["provisioningState"] = "Canceled"
        return None

    def _pool_delete_done(self, op: Operation) -> Optional[str]:
        rec, pool = self._target(op)
        if pool is not None:
            rec.pools.remove(pool)
            rec.enforced.pop(pool["name"].lower(), None)
        return None

    def _pool_upgrade_done(self, op: Operation) -> Optional[str]:
        rec, pool = self._target(op)
        if pool is None:
            return CANCELED
        pool["provisioningState"] = "Succeeded"
        pool["nodeImageVersion"] = LATEST_WINDOWS_NODE_IMAGE if pool.get("osType") == "Windows" else LATEST_NODE_IMAGE
        pool["eTag"] = conditions.new_etag()
        rec.reimaged(pool["name"])
        return None

    # ---- managed clusters -----------------------------------------------------------------------
    def get_cluster(self, sub: str, rg: str, name: str, api_version: str) -> dict:
        with self.store.tx():
            return self.cluster(sub, rg, name).render(api_version)

    def list_clusters(self, sub: str, api_version: str, rg: Optional[str] = None) -> list:
        with self.store.tx():
            sub = self.resources.group(sub, rg).subscription if rg is not None else \
                self.resources.check_subscription(sub)
            return [rec.render(api_version) for rec in self.clusters.values()
                    if rec.subscription == sub and (rg is None or rec.resource_group.lower() == rg.lower())]

    def _enforce_rules(self, new: dict, existing: Optional[ManagedCluster], sub: str, key: str,
                       custom_features: str) -> None:
        if not rules.is_restricted(new):
            return
        turning_on = existing is None or not rules.is_restricted(existing.resource)
        # The feature registration of the cluster's own subscription.
        if turning_on and not rules.feature_allowed(self.features.feature_state(sub, rules.FEATURE_ID),
                                                    custom_features):
            raise rules.feature_refusal()
        blockers = rules.cluster_blockers(new, self.extensions_of(key))
        if blockers:
            raise rules.refusal(blockers, "Enabling IMDS restriction" if turning_on
                                else "This change to an IMDS-restricted cluster")

    def put_cluster(self, sub: str, rg: str, name: str, body, api_version: str, *,
                    if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                    custom_features: str = "", failure: Optional[dict] = None):
        """Create or update. Returns (status, rendered cluster, operation)."""
        with self.store.tx():
            group = self.resources.group(sub, rg)
            sub = group.subscription
            key = cluster_key(sub, rg, name)
            existing = self.clusters.get(key)
            if existing is None:
                bodies.validate_cluster_name(name)
            conditions.check(existing and existing.resource.get("eTag"), if_match, if_none_match,
                             "managed cluster", name)
            if existing:
                self._busy(key)
            body = apiversions.keep_unexpressed(body, existing and existing.resource, api_version)
            bodies.validate_cluster(body, existing and existing.resource)
            new = bodies.build_cluster(sub, existing.resource_group if existing else group.name, name, body,
                                       api_version, existing and existing.resource, self.versions())
            self._enforce_rules(new, existing, sub, key, custom_features)
            pools = {p["name"].lower() for p in new["properties"]["agentPoolProfiles"]}
            enforced = {k: v for k, v in (existing.enforced if existing else {}).items() if k in pools}
            now = self.store.clock()
            rec = ManagedCluster(subscription=sub, resource_group=existing.resource_group if existing else group.name,
                                 resource=new, enforced=enforced, created=existing.created if existing else now,
                                 changed=now)
            for pool in pools - set(enforced):  # new pools' nodes enforce the setting of their birth
                rec.reimaged(pool)
            self.clusters[key] = rec
            op = self._start(rec, "cluster.put", "update managed cluster" if existing else "create managed cluster",
                             api_version, failure=failure)
            answer = rec.render(api_version)
            # A cluster PUT's answer shows each pool's nodeLabels, {} when it has none, where reads leave them out
            # (all 47 cluster PUT answers of the 2024-2025 recordings, e.g. test_aks_abort; no GET has it).
            for pool in answer["properties"]["agentPoolProfiles"]:
                pool.setdefault("nodeLabels", {})
            # Nor does it show an add-on's identity (none of the corpus's 9 PUT answers with such add-ons).
            for addon in (answer["properties"].get("addonProfiles") or {}).values():
                if isinstance(addon, dict):
                    addon.pop("identity", None)
            return (200 if existing else 201), answer, op

    def update_tags(self, sub: str, rg: str, name: str, body, api_version: str, *,
                    if_match: Optional[str] = None, failure: Optional[dict] = None):
        """PATCH of a cluster's tags (the AKS `updateTags` operation): only the tags change; If-Match as on a PUT.
        (cluster, op)."""
        bodies.validate_tags_patch(body)
        with self.store.tx():
            rec = self.cluster(sub, rg, name)
            conditions.check(rec.resource.get("eTag"), if_match, None, "managed cluster", name)
            self._busy(rec.key)
            rec.resource["tags"] = dict(body["tags"])
            rec.resource["eTag"] = conditions.new_etag()
            rec.changed = self.store.clock()
            rec.properties["provisioningState"] = "Updating"
            op = self._start(rec, "cluster.put", "update managed cluster", api_version, failure=failure)
            return rec.render(api_version), op

    def delete_cluster(self, sub: str, rg: str, name: str, *, if_match: Optional[str] = None,
                       failure: Optional[dict] = None) -> Optional[Operation]:
        """The operation, or None when there was nothing to delete (204)."""
        with self.store.tx():
            key = cluster_key(self.resources.group(sub, rg).subscription, rg, name)
            rec = self.clusters.get(key)
            if rec is None:
                return None
            conditions.check(rec.resource.get("eTag"), if_match, None, "managed cluster", name)
            self._busy(key)
            rec.properties["provisioningState"] = "Deleting"
            return self._start(rec, "cluster.delete", "delete managed cluster", LATEST_PREVIEW, failure=failure)

    def seed_cluster(self, sub: str, rg: str, name: str, body, enforced: Optional[Dict[str, str]] = None) -> None:
        """A cluster as given, bypassing the rules; `enforced` says what pools' nodes enforce (default: the
        setting)."""
        with self.store.tx():
            sub = self.resources.check_subscription(sub)
            bodies.validate_cluster(body, None)
            group = self.resources.ensure_group(sub, rg, body["location"])
            resource = bodies.build_cluster(sub, group.name, name, body, LATEST_PREVIEW, None, self.versions(),
                                            seeding=True)
            defaults.effective_outbound_ips(sub, resource["properties"])  # a seeded cluster is built already
            now = self.store.clock()
            rec = ManagedCluster(subscription=sub, resource_group=group.name, resource=resource, enforced={},
                                 created=now, changed=now)
            given = {k.lower(): v for k, v in (enforced or {}).items()}
            for pool in rec.pools:
                rec.reimaged(pool["name"])
                if pool["name"].lower() in given:
                    rec.enforced[pool["name"].lower()] = given[pool["name"].lower()]
            self._drop(rec.key)
            self.clusters[rec.key] = rec
            self.store.changed()

    def node_report(self, sub: str, rg: str, name: str) -> dict:
        with self.store.tx():
            return self.cluster(sub, rg, name).node_report()

    # ---- agent pools ----------------------------------------------------------------------------
    def list_pools(self, sub: str, rg: str, cluster: str, skip_token: Optional[str] = None):
        """(pools, the skip token of the next page or None). The service pages every pool list: the first page
        holds all the pools and links to a next one, which is empty and the last (every pool list since 2024,
        test_aks_create_with_fips to test_aks_nodepool_add_with_ossku_flatcar, 2025-09-25; 2023's had no link)."""
        with self.store.tx():
            rec = self.cluster(sub, rg, cluster)
            if skip_token is not None:
                return [], None
            return [rec.render_pool(p) for p in rec.pools], str(zlib.crc32(rec.key.encode()) % 10_000_000)

    def get_pool(self, sub: str, rg: str, cluster: str, pool: str) -> dict:
        with self.store.tx():
            rec = self.cluster(sub, rg, cluster)
            return rec.render_pool(self._pool(rec, rg, pool))

    def put_pool(self, sub: str, rg: str, cluster: str, pool: str, body, api_version: str, *,
                 if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                 failure: Optional[dict] = None):
        with self.store.tx():
            rec = self.cluster(sub, rg, cluster)
            key = rec.key
            old = rec.pool(pool)
            conditions.check(old and old.get("eTag"), if_match, if_none_match, "agent pool", pool)
            self._busy(key, pool)
            bodies.validate_pool_name(pool)
            bodies.validate_pool_body(body)
            new = dict(copy.deepcopy(body.get("properties") or {}), name=old["name"] if old else pool)
            bodies.fill_pool(new, old, rec.properties["kubernetesVersion"], rec.properties["currentKubernetesVersion"],
                             "Updating" if old else "Creating", False, rec.properties["networkProfile"],
                             self.versions())
            if old and new.get("count") != old.get("count", new.get("count")):
                # A new node count is answered `Scaling` (test_aks_create_with_custom_headers, `az aks nodepool
                # scale`). A pool PUT with a new version is in no recording (test_aks_upgrade_nodepool's `az aks
                # nodepool upgrade` found the pool upgraded already): `Updating`.
                new["provisioningState"] = "Scaling"
            if rules.is_restricted(rec.resource):
                blockers = rules.pool_blockers([new])
                if blockers:
                    raise rules.refusal(blockers, "This node pool on an IMDS-restricted cluster")
            if old:
                rec.pools[rec.pools.index(old)] = new
            else:
                rec.pools.append(new)
                rec.reimaged(pool)
            op = self._start(rec, "pool.put", "update node pool" if old else "create node pool", api_version,
                             child=new["name"], failure=failure)
            return (200 if old else 201), rec.render_pool(new), op

    def delete_pool(self, sub: str, rg: str, cluster: str, pool: str, *, if_match: Optional[str] = None,
                    failure: Optional[dict] = None) -> Optional[Operation]:
        with self.store.tx():
            rec = self.cluster(sub, rg, cluster)
            found = rec.pool(pool)
            if found is None:
                return None
            conditions.check(found.get("eTag"), if_match, None, "agent pool", pool)
            system = [p for p in rec.pools if p.get("mode") == "System" and p.get("provisioningState") != "Deleting"]
            if found.get("mode") == "System" and system == [found]:
                raise bad_request("OperationNotAllowed", f"Cannot delete the agent pool '{found['name']}': it is the "
                                  "last System node pool of the cluster, and a cluster needs at least one.",
                                  target="agentPoolProfile.mode")
            self._busy(rec.key, pool)
            found["provisioningState"] = "Deleting"
            self.store.changed()
            return self._start(rec, "pool.delete", "delete node pool", LATEST_PREVIEW, child=found["name"],
                               failure=failure)

    def upgrade_node_image(self, sub: str, rg: str, cluster: str, pool: str, api_version: str,
                           failure: Optional[dict] = None):
        with self.store.tx():
            rec = self.cluster(sub, rg, cluster)
            found = self._pool(rec, rg, pool)
            self._busy(rec.key, pool)
            found["provisioningState"] = "UpgradingNodeImageVersion"
            found["eTag"] = conditions.new_etag()
            op = self._start(rec, "pool.upgrade", "upgrade node image version", api_version, child=found["name"],
                             failure=failure)
            return rec.render_pool(found), op

    # ---- credentials ----------------------------------------------------------------------------
    def abort(self, sub: str, rg: str, cluster: str, pool: Optional[str], api_version: str,
              failure: Optional[dict] = None):
        """`az aks operation-abort` (`az aks nodepool operation-abort` with `pool`): the running operation of the
        cluster (or of the pool) ends Canceled at once, without what it would have done; the abort is an operation
        of its own, which leaves them Canceled. Answered with the resource as it is (test_aks_abort: the abort of a
        create answers Creating, and the cluster reads Canceled once the abort has succeeded). Nothing to abort is a
        409 OperationNotAllowed (the code is ours: no recording shows the service's)."""
        with self.store.tx():
            rec = self.cluster(sub, rg, cluster)
            found = self._pool(rec, rg, pool) if pool else None
            running = [op for op in self.operations.running(rec.key) if op.kind != "abort" and (
                found is None or (op.child or "").lower() == found["name"].lower())]
            if not running:
                on = f"agent pool '{found['name']}'" if found else f"managed cluster '{rec.name}'"
                raise EmulatorError(409, "OperationNotAllowed", f"There is no operation in progress on the {on} to "
                                    "abort.", AKS)
            answer = rec.render_pool(found) if found else rec.render(api_version)
            for op in running:
                self.operations.cancel(op)
            # The abort itself took 5 s in the recording; the emulator's operations run faster: it is due at once.
            op = self.operations.start("abort", "abort operation", rec.key, rec.location, api_version,
                                       child=found and found["name"], failure=failure, subscription=rec.subscription,
                                       delay=0.0)
            return answer, op

    def credentials(self, sub: str, rg: str, name: str, admin: bool, base: str, ca_pem: str) -> dict:
        """The kubeconfig of a user (Microsoft Entra when the cluster has it) or of the local admin account."""
        with self.store.tx():
            rec = self.cluster(sub, rg, name)
            entra = bool((rec.properties.get("aadProfile") or {}).get("managed"))
            if admin and rec.properties.get("disableLocalAccounts"):
                raise bad_request("BadRequest", "Getting static credential is not allowed because this cluster is "
                                  "set to disable local accounts.")
            kind = "clusterAdmin" if admin else "clusterUser"
            if kind not in rec.tokens:  # static tokens of the local accounts, made once per cluster
                rec.tokens[kind] = secrets.token_hex(32)
                self.store.changed()
            server = f"{base}/kubernetes/{rec.subscription}/{rec.resource_group}/{rec.name}"
            config = kubeconfig.kubeconfig(rec.resource, server, ca_pem, kind, rec.tokens[kind], entra and not admin)
            return kubeconfig.credential_results(kind, config)

    # ---- operations and versions ----------------------------------------------------------------
    def operation(self, sub: str, op_id: str) -> Operation:
        """An operation of the subscription; another subscription's is not found, as one that never was."""
        sub = self.resources.check_subscription(sub)
        op = self.operations.get(op_id)
        if op.subscription != sub:
            raise operation_not_found(op_id)
        return op

    def cluster_operation(self, sub: str, rg: str, name: str, op_id: str) -> dict:
        """An operation of a cluster as `az aks operation show` reads it; `latest` is the most recent one."""
        with self.store.tx():
            rec = self.cluster(sub, rg, name)
            ops = sorted((o for o in self.operations.rows.values() if o.resource == rec.key), key=lambda o: o.start)
            found = ops[-1] if op_id.lower() == "latest" and ops else next(
                (o for o in ops if o.id == op_id.lower()), None)
            if found is None:
                raise EmulatorError(404, "NotFound", f"The operation '{op_id}' of managed cluster '{name}' could "
                                    "not be found.", AKS)
            return {"id": f"{rec.resource['id']}/operations/{found.id}", **found.status_body()}

    def operation_progress(self, op: Operation) -> Optional[dict]:
        """The body of the `operationresults` URL of a running operation: the progress of a Deployment Safeguards
        operation (safeguards.py), none for the others."""
        return self.safeguards.progress(op) if self.safeguards.owns(op) else None

    def operation_result(self, op: Operation):
        """(status, body) for the `operationresults` URL of a finished operation."""
        for child in (self.safeguards, self.namespaces):
            if child.owns(op):
                return child.result(op)
        with self.store.tx():
            rec, pool = self._target(op)
            if op.kind.endswith(".delete") or op.kind == "abort" or rec is None:
                return 204, None
            if op.child:
                return (200, rec.render_pool(pool)) if pool else (204, None)
            return 200, apiversions.show(rec.resource, op.api_version)

    def kubernetes_versions(self) -> dict:
        return self.versions().document()

    def cluster_upgrade_profile(self, sub: str, rg: str, name: str) -> dict:
        with self.store.tx():
            rec = self.cluster(sub, rg, name)
            return self.versions().cluster_upgrade_profile(rec.resource["id"],
                                                           rec.properties["currentKubernetesVersion"])

    def pool_upgrade_profile(self, sub: str, rg: str, cluster: str, pool: str) -> dict:
        with self.store.tx():
            rec = self.cluster(sub, rg, cluster)
            found = self._pool(rec, rg, pool)
            return self.versions().pool_upgrade_profile(f"{rec.resource['id']}/agentPools/{found['name']}",
                                                        found["currentOrchestratorVersion"],
                                                        found.get("osType") or "Linux",
                                                        rec.properties["currentKubernetesVersion"])
