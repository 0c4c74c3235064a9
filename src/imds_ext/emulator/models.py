"""The emulator's back end: all state, all of the service's behaviour, no HTTP.

One re-entrant lock guards the state. Time-driven transitions (long-running operations, feature and
provider registration) are not run by background threads: every public call first applies the
transitions that are due (`_advance`), so what a client reads is always consistent with the clock.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Optional

from imds_ext.emulator import rules
from imds_ext.emulator.constants import (
    AKS_API_VERSIONS, CONTAINER_SERVICE, DEFAULT_FEATURES, DEFAULT_KUBERNETES_VERSION, DEFAULT_VM_SIZE,
    KUBERNETES_VERSIONS, LATEST_NODE_IMAGE, POD_LINK_LOCAL_ACCESS, PREVIOUS_NODE_IMAGE, REGISTERED_PROVIDERS,
    RESTRICTED, SUBSCRIPTION_DISPLAY_NAME, TENANT_DISPLAY_NAME, TENANT_DOMAIN, UNREGISTERED_PROVIDERS,
    UNRESTRICTED, WELL_KNOWN_SUBSCRIPTION_ID, WELL_KNOWN_TENANT_ID, supports_pod_link_local_access,
)
from imds_ext.emulator.errors import (
    AKS, EmulatorError, StateFileError, bad_request, resource_group_not_found, resource_not_found,
)

STATE_VERSION = 1
CLUSTER_TYPE = "Microsoft.ContainerService/ManagedClusters"
POOL_TYPE = "Microsoft.ContainerService/managedClusters/agentPools"
EXTENSION_TYPE = "Microsoft.KubernetesConfiguration/extensions"
FEATURE_TYPE = "Microsoft.Features/providers/features"
LATEST_PREVIEW = max(v for v in AKS_API_VERSIONS if v.endswith("-preview"))

_CLUSTER_READONLY = ("id", "name", "type", "eTag", "systemData")
_PROPS_READONLY = ("provisioningState", "powerState", "fqdn", "azurePortalFQDN", "privateFQDN",
                   "currentKubernetesVersion", "maxAgentPools", "resourceUID")
_POOL_READONLY = ("provisioningState", "nodeImageVersion", "currentOrchestratorVersion", "eTag")
_MAX_OPERATIONS = 2000


def utcnow_iso(ts: Optional[float] = None) -> str:
    return datetime.fromtimestamp(time.time() if ts is None else ts, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f0Z")


def _etag() -> str:
    return str(uuid.uuid4())


def _key(*parts: str) -> str:
    return "/".join(p.lower() for p in parts)


def default_network_profile() -> dict:
    return {"networkPlugin": "azure", "networkPluginMode": "overlay", "networkPolicy": "none",
            "networkDataplane": "azure", "loadBalancerSku": "standard", "podCidr": "10.244.0.0/16",
            "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer",
            "podCidrs": ["10.244.0.0/16"], "serviceCidrs": ["10.0.0.0/16"], "ipFamilies": ["IPv4"]}


def fresh_state() -> dict:
    features = {}
    for fid, state in DEFAULT_FEATURES.items():
        ns, name = fid.split("/", 1)
        features[fid.lower()] = {"namespace": ns, "name": name, "state": state}
    providers = {ns.lower(): {"namespace": ns, "state": "Registered"} for ns in REGISTERED_PROVIDERS}
    providers.update({ns.lower(): {"namespace": ns, "state": "NotRegistered"} for ns in UNREGISTERED_PROVIDERS})
    return {"version": STATE_VERSION, "resourceGroups": {}, "clusters": {}, "extensions": {},
            "features": features, "providers": providers, "operations": {}}


class Backend:
    """State and rules of the emulated slice of ARM. Methods raise EmulatorError for service errors."""

    def __init__(self, lro_delay: float = 0.0, registration_delay: float = 0.0,
                 state_file: Optional[str] = None, clock=time.time, retry_after: Optional[int] = None):
        self.lock = threading.RLock()
        self.retry_after = retry_after  # None: derived from lro_delay (see responses.retry_after)
        self.lro_delay = float(lro_delay)
        self.registration_delay = float(registration_delay)
        self._initial_config = (self.lro_delay, self.registration_delay, retry_after)
        self.state_file = state_file
        self.clock = clock
        self._dirty = False
        self._state = self._load() if state_file and os.path.exists(state_file) else fresh_state()

    # ---- persistence ----------------------------------------------------------------------------
    def _load(self) -> dict:
        path = self.state_file
        try:
            with open(path, encoding="utf-8") as f:
                state = json.load(f)
        except OSError as e:
            raise StateFileError(f"Cannot read the emulator state file '{path}': {e.strerror or e}.") from e
        except ValueError as e:
            raise StateFileError(f"The emulator state file '{path}' is not valid JSON ({e}). "
                                 "Fix or remove it; it was left untouched.") from e
        expected = set(fresh_state())
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION or not expected <= set(state):
            raise StateFileError(f"The emulator state file '{path}' is not an emulator state file of version "
                                 f"{STATE_VERSION} (missing keys or wrong version). It was left untouched.")
        return state

    def _persist(self) -> None:
        if not self.state_file:
            return
        directory = os.path.dirname(os.path.abspath(self.state_file))
        fd, tmp = tempfile.mkstemp(prefix=".emulator-state-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self._state, f, indent=1, sort_keys=True)
            os.replace(tmp, self.state_file)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def save(self) -> None:
        with self.lock:
            self._persist()

    @contextmanager
    def _tx(self):
        """Every public call runs in here: lock, apply due transitions, persist if anything changed."""
        with self.lock:
            self._advance()
            try:
                yield self._state
            finally:
                if self._dirty:
                    self._dirty = False
                    self._persist()

    def _changed(self) -> None:
        self._dirty = True

    # ---- admin ----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the start: default resources and the delays the emulator was started with."""
        with self.lock:
            self.lro_delay, self.registration_delay, self.retry_after = self._initial_config
            self._state = fresh_state()
            self._dirty = False
            self._persist()

    def configure(self, lro_delay: Optional[float] = None, registration_delay: Optional[float] = None,
                  retry_after=...) -> dict:
        """Change the delays; `retry_after` None means "derive from lro_delay", ... means unchanged."""
        with self.lock:
            if retry_after is not ...:
                self.retry_after = None if retry_after is None else max(0, int(retry_after))
            if lro_delay is not None:
                self.lro_delay = max(0.0, float(lro_delay))
            if registration_delay is not None:
                self.registration_delay = max(0.0, float(registration_delay))
            return {"lroDelaySeconds": self.lro_delay, "registrationDelaySeconds": self.registration_delay,
                    "retryAfterSeconds": self.retry_after}

    def snapshot(self) -> dict:
        with self._tx() as st:
            return copy.deepcopy(st)

    # ---- transitions ----------------------------------------------------------------------------
    def _advance(self) -> None:
        now = self.clock()
        st = self._state
        for op in list(st["operations"].values()):
            if op["status"] == "InProgress" and op["due"] <= now:
                self._complete(op, now)
        for item in list(st["features"].values()) + list(st["providers"].values()):
            if "due" in item and item["due"] <= now:
                item["state"] = item.pop("target")
                del item["due"]
                self._changed()

    def _start_operation(self, kind: str, title: str, cluster_key: str, location: str, api_version: str,
                         pool: Optional[str] = None, failure: Optional[dict] = None) -> dict:
        now = self.clock()
        op = {"id": str(uuid.uuid4()), "kind": kind, "title": title, "cluster": cluster_key, "pool": pool,
              "location": location, "apiVersion": api_version, "status": "InProgress", "start": now,
              "due": now + self.lro_delay, "failure": failure}
        ops = self._state["operations"]
        ops[op["id"]] = op
        if len(ops) > _MAX_OPERATIONS:
            done = sorted((o for o in ops.values() if o["status"] != "InProgress"), key=lambda o: o["start"])
            for old in done[: len(ops) - _MAX_OPERATIONS]:
                del ops[old["id"]]
        self._changed()
        return op

    def _complete(self, op: dict, now: float) -> None:
        op["end"] = now
        self._changed()
        rec = self._state["clusters"].get(op["cluster"])
        if rec is None:  # the cluster went away under the operation
            op["status"] = "Succeeded" if op["kind"] == "cluster.delete" else "Canceled"
            return
        props = rec["resource"]["properties"]
        pool = self._pool(rec, op["pool"]) if op["pool"] else None
        if op["failure"]:
            op["status"] = "Failed"
            if pool is not None:
                pool["provisioningState"] = "Failed"
            else:
                props["provisioningState"] = "Failed"
            return
        op["status"] = "Succeeded"
        kind = op["kind"]
        if kind == "cluster.delete":
            self._drop_cluster(op["cluster"])
        elif kind == "cluster.put":
            props["provisioningState"] = "Succeeded"
            for p in props.get("agentPoolProfiles", []):
                p["provisioningState"] = "Succeeded"
        elif kind == "pool.put":
            pool["provisioningState"] = "Succeeded"
        elif kind == "pool.delete":
            props["agentPoolProfiles"] = [p for p in props["agentPoolProfiles"] if p is not pool]
            rec["nodes"].pop(pool["name"].lower(), None)
        elif kind == "pool.upgrade":
            pool["provisioningState"] = "Succeeded"
            pool["nodeImageVersion"] = LATEST_NODE_IMAGE
            pool["eTag"] = _etag()
            # The nodes are reimaged: they now enforce the cluster's setting of this moment.
            rec["nodes"][pool["name"].lower()] = {"podLinkLocalAccess": rules.pod_link_local_access(rec["resource"])}

    def _busy(self, cluster_key: str, pool: Optional[str] = None) -> None:
        """409 if a running operation conflicts: any, for a cluster operation; for a pool operation, one on the
        cluster itself or on the same pool. Pools upgrade side by side, as `az aks upgrade --node-image-only`
        relies on when it starts every pool's upgrade without waiting."""
        for op in self._state["operations"].values():
            if op["cluster"] != cluster_key or op["status"] != "InProgress":
                continue
            if pool is None or not op["pool"] or op["pool"].lower() == pool.lower():
                rec = self._state["clusters"][cluster_key]
                on = (f"the agent pool {op['pool']}" if op["pool"]
                      else f"the managed cluster {rec['resource']['name']}")
                raise EmulatorError(
                    409, "OperationNotAllowed",
                    f"Operation is not allowed because there's an in progress {op['title']} operation "
                    f"(operation ID: {op['id']}) on {on} started on UTC {utcnow_iso(op['start'])[:19]}Z. "
                    "Please wait for it to finish before starting a new operation. You can also use "
                    "'az aks operation-abort' or 'az aks nodepool operation-abort' to abort the ongoing operation.",
                    AKS)

    # ---- subscriptions and tenants -----------------------------------------------------------------
    @staticmethod
    def _check_sub(sub: str) -> None:
        if sub.lower() != WELL_KNOWN_SUBSCRIPTION_ID:
            raise EmulatorError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")

    @staticmethod
    def subscription(sub: str = WELL_KNOWN_SUBSCRIPTION_ID) -> dict:
        Backend._check_sub(sub)
        return {"id": f"/subscriptions/{WELL_KNOWN_SUBSCRIPTION_ID}", "subscriptionId": WELL_KNOWN_SUBSCRIPTION_ID,
                "tenantId": WELL_KNOWN_TENANT_ID, "homeTenantId": WELL_KNOWN_TENANT_ID,
                "displayName": SUBSCRIPTION_DISPLAY_NAME, "state": "Enabled", "authorizationSource": "RoleBased",
                "managedByTenants": [],
                "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                         "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}}

    @staticmethod
    def tenants() -> list:
        return [{"id": f"/tenants/{WELL_KNOWN_TENANT_ID}", "tenantId": WELL_KNOWN_TENANT_ID,
                 "tenantCategory": "Home", "displayName": TENANT_DISPLAY_NAME, "defaultDomain": TENANT_DOMAIN,
                 "domains": [TENANT_DOMAIN]}]

    # ---- resource groups ------------------------------------------------------------------------
    def _rg(self, sub: str, rg: str) -> dict:
        self._check_sub(sub)
        rec = self._state["resourceGroups"].get(rg.lower())
        if rec is None:
            raise resource_group_not_found(rg)
        return rec

    @staticmethod
    def _render_rg(rec: dict) -> dict:
        out = {"id": f"/subscriptions/{WELL_KNOWN_SUBSCRIPTION_ID}/resourceGroups/{rec['name']}",
               "name": rec["name"], "type": "Microsoft.Resources/resourceGroups", "location": rec["location"],
               "properties": {"provisioningState": "Succeeded"}}
        for k in ("tags", "managedBy"):
            if rec.get(k) is not None:
                out[k] = rec[k]
        return out

    def put_resource_group(self, sub: str, rg: str, body: dict):
        self._check_sub(sub)
        location = (body or {}).get("location")
        if not location:
            raise EmulatorError(400, "LocationRequired", "The location property is required for this definition.")
        with self._tx() as st:
            existing = st["resourceGroups"].get(rg.lower())
            if existing and existing["location"].lower() != location.lower():
                raise EmulatorError(409, "InvalidResourceGroupLocation",
                                    f"Invalid resource group location '{location}'. The Resource group already "
                                    f"exists in location '{existing['location']}'.")
            rec = {"name": existing["name"] if existing else rg, "location": location,
                   "tags": body.get("tags"), "managedBy": body.get("managedBy")}
            st["resourceGroups"][rg.lower()] = rec
            self._changed()
            return (200 if existing else 201), self._render_rg(rec)

    def get_resource_group(self, sub: str, rg: str) -> dict:
        with self._tx():
            return self._render_rg(self._rg(sub, rg))

    def list_resource_groups(self, sub: str) -> list:
        self._check_sub(sub)
        with self._tx() as st:
            return [self._render_rg(r) for r in st["resourceGroups"].values()]

    def delete_resource_group(self, sub: str, rg: str) -> None:
        with self._tx() as st:
            self._rg(sub, rg)
            for key, rec in list(st["clusters"].items()):
                if rec["resourceGroup"].lower() == rg.lower():
                    self._drop_cluster(key)
            del st["resourceGroups"][rg.lower()]
            self._changed()

    # ---- providers ------------------------------------------------------------------------------
    def _provider(self, sub: str, ns: str) -> dict:
        self._check_sub(sub)
        rec = self._state["providers"].get(ns.lower())
        if rec is None:
            raise EmulatorError(404, "InvalidResourceNamespace", f"The resource namespace '{ns}' is invalid.")
        return rec

    def require_registered(self, sub: str, ns: str) -> None:
        """ARM's front door: a namespace the subscription is not registered for answers 409."""
        with self._tx():
            state = self._provider(sub, ns)["state"]
        if state in ("NotRegistered", "Unregistered"):
            message = (f"The subscription is not registered to use namespace '{ns}'. See "
                       "https://aka.ms/rps-not-found for how to register subscriptions.")
            raise EmulatorError(409, "MissingSubscriptionRegistration", message,
                                details=[{"code": "MissingSubscriptionRegistration", "target": ns,
                                          "message": message}])

    @staticmethod
    def _render_provider(rec: dict) -> dict:
        ns = rec["namespace"]
        types = []
        if ns == CONTAINER_SERVICE:
            versions = sorted(AKS_API_VERSIONS, reverse=True)
            types = [{"resourceType": t, "locations": ["East US", "West Europe", "Central US EUAP"],
                      "apiVersions": versions,
                      "capabilities": "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, "
                                      "SupportsTags, SupportsLocation"}
                     for t in ("managedClusters", "managedClusters/agentPools")]
        return {"id": f"/subscriptions/{WELL_KNOWN_SUBSCRIPTION_ID}/providers/{ns}", "namespace": ns,
                "registrationState": rec["state"], "registrationPolicy": "RegistrationRequired",
                "resourceTypes": types}

    def get_provider(self, sub: str, ns: str) -> dict:
        with self._tx():
            return self._render_provider(self._provider(sub, ns))

    def list_providers(self, sub: str) -> list:
        self._check_sub(sub)
        with self._tx() as st:
            return [self._render_provider(r) for r in st["providers"].values()]

    def _transition(self, rec: dict, steady: tuple, transitional: str, target: str, immediate: bool) -> None:
        """Move a feature or provider towards `target` through `transitional` over the registration delay."""
        if rec["state"] in steady:
            return
        rec.pop("due", None)
        if immediate and self.registration_delay <= 0:
            rec["state"] = target
            rec.pop("target", None)
        else:
            rec.update(state=transitional, target=target, due=self.clock() + self.registration_delay)
        self._changed()

    def register_provider(self, sub: str, ns: str, register: bool = True) -> dict:
        with self._tx():
            rec = self._provider(sub, ns)
            if register:
                self._transition(rec, ("Registered", "Registering"), "Registering", "Registered", True)
            else:
                self._transition(rec, ("Unregistered", "NotRegistered", "Unregistering"), "Unregistering",
                                 "Unregistered", True)
            return self._render_provider(rec)

    # ---- features -------------------------------------------------------------------------------
    @staticmethod
    def _render_feature(rec: dict) -> dict:
        ns, name = rec["namespace"], rec["name"]
        return {"id": f"/subscriptions/{WELL_KNOWN_SUBSCRIPTION_ID}/providers/Microsoft.Features/providers/"
                      f"{ns}/features/{name}",
                "name": f"{ns}/{name}", "type": FEATURE_TYPE, "properties": {"state": rec["state"]}}

    def _feature(self, sub: str, ns: str, name: str) -> dict:
        self._check_sub(sub)
        rec = self._state["features"].get(_key(ns, name))
        if rec is None:
            raise EmulatorError(404, "FeatureNotFound", f"The feature '{name}' could not be found in namespace "
                                                        f"'{ns}'.")
        return rec

    def _feature_state(self, feature_id: str) -> str:
        rec = self._state["features"].get(feature_id.lower())
        return rec["state"] if rec else "NotRegistered"

    def get_feature(self, sub: str, ns: str, name: str) -> dict:
        with self._tx():
            return self._render_feature(self._feature(sub, ns, name))

    def list_features(self, sub: str, ns: Optional[str] = None) -> list:
        self._check_sub(sub)
        with self._tx() as st:
            return [self._render_feature(r) for r in st["features"].values()
                    if ns is None or r["namespace"].lower() == ns.lower()]

    def register_feature(self, sub: str, ns: str, name: str, register: bool = True) -> dict:
        """Synchronous, as the service: the answer carries the transitional state (Registering/Unregistering)."""
        with self._tx():
            rec = self._feature(sub, ns, name)
            if register:
                self._transition(rec, ("Registered", "Registering", "Pending"), "Registering", "Registered", False)
            else:
                self._transition(rec, ("Unregistered", "NotRegistered", "Unregistering"), "Unregistering",
                                 "Unregistered", False)
            return self._render_feature(rec)

    # ---- managed clusters -----------------------------------------------------------------------
    @staticmethod
    def _cluster_id(rg: str, name: str) -> str:
        return (f"/subscriptions/{WELL_KNOWN_SUBSCRIPTION_ID}/resourcegroups/{rg}/providers/"
                f"{CONTAINER_SERVICE}/managedClusters/{name}")

    def _cluster(self, sub: str, rg: str, name: str) -> dict:
        self._rg(sub, rg)
        rec = self._state["clusters"].get(_key(rg, name))
        if rec is None:
            raise resource_not_found("Microsoft.ContainerService/managedClusters", name, rg)
        return rec

    @staticmethod
    def _pool(rec: dict, pool: str) -> Optional[dict]:
        for p in rec["resource"]["properties"].get("agentPoolProfiles", []):
            if p.get("name", "").lower() == pool.lower():
                return p
        return None

    def _extensions_of(self, cluster_key: str) -> list:
        prefix = cluster_key + "/"
        return [e for k, e in self._state["extensions"].items() if k.startswith(prefix)]

    def _drop_cluster(self, key: str) -> None:
        self._state["clusters"].pop(key, None)
        for k in [k for k in self._state["extensions"] if k.startswith(key + "/")]:
            del self._state["extensions"][k]
        self._changed()

    @staticmethod
    def render_cluster(resource: dict, api_version: str) -> dict:
        out = copy.deepcopy(resource)
        np = out.get("properties", {}).get("networkProfile")
        if isinstance(np, dict):
            if supports_pod_link_local_access(api_version):
                np.setdefault(POD_LINK_LOCAL_ACCESS, UNRESTRICTED)
            else:
                np.pop(POD_LINK_LOCAL_ACCESS, None)
        return out

    def get_cluster(self, sub: str, rg: str, name: str, api_version: str) -> dict:
        with self._tx():
            return self.render_cluster(self._cluster(sub, rg, name)["resource"], api_version)

    def list_clusters(self, sub: str, api_version: str, rg: Optional[str] = None) -> list:
        with self._tx() as st:
            if rg is not None:
                self._rg(sub, rg)
            else:
                self._check_sub(sub)
            return [self.render_cluster(r["resource"], api_version) for r in st["clusters"].values()
                    if rg is None or r["resourceGroup"].lower() == rg.lower()]

    @staticmethod
    def _check_preconditions(current_etag: Optional[str], if_match: Optional[str], if_none_match: Optional[str],
                             what: str, name: str) -> None:
        """The AKS eTag table (ARM_PROTOCOL_FACTS.md §3). `current_etag` is None when the resource is absent."""
        if_match = (if_match or "").strip().strip('"') or None
        if_none_match = (if_none_match or "").strip().strip('"') or None
        if if_none_match not in (None, "*"):
            raise bad_request("BadRequest", "If-None-Match header must be empty or '*'.", target="If-None-Match")
        if if_match and if_none_match == "*":
            raise bad_request("BadRequest", "If-Match must be empty when If-None-Match is '*'.", target="If-Match")

        def failed(message):
            return EmulatorError(412, "PreconditionFailed", message, AKS)

        if if_none_match == "*" and current_etag is not None:
            raise failed(f"Operation failed because the {what} '{name}' already exists and If-None-Match '*' "
                         "was specified.")
        if if_match and current_etag is None:
            raise failed(f"Operation failed because the {what} '{name}' does not exist and If-Match "
                         f"'{if_match}' was specified.")
        if if_match and if_match != "*" and if_match != current_etag:
            raise failed(f"Operation failed because the eTag '{if_match}' does not match the current eTag "
                         f"'{current_etag}' of {what} '{name}'.")

    @staticmethod
    def _validate_cluster_body(body, existing: Optional[dict]) -> None:
        if not isinstance(body, dict):
            raise bad_request("InvalidParameter", "The request body must be a JSON object.")
        location = body.get("location")
        if not location:
            raise bad_request("LocationRequired", "The location property is required for this definition.",
                              target="location")
        if existing and existing["location"].lower() != str(location).lower():
            raise bad_request("InvalidParameter", f"Changing property 'location' is not allowed (current "
                              f"'{existing['location']}', requested '{location}').", target="location")
        props = body.get("properties")
        if props is not None and not isinstance(props, dict):
            raise bad_request("InvalidParameter", "The value of parameter properties is invalid.", target="properties")
        pools = (props or {}).get("agentPoolProfiles")
        if existing is None and not pools:
            raise bad_request("InvalidParameter", "The value of parameter agentPoolProfiles is invalid: a managed "
                              "cluster needs at least one agent pool (a System pool).",
                              target="properties.agentPoolProfiles")
        if pools is not None:
            if not isinstance(pools, list) or not all(isinstance(p, dict) for p in pools):
                raise bad_request("InvalidParameter", "agentPoolProfiles must be a list of objects.",
                                  target="properties.agentPoolProfiles")
            seen = set()
            for p in pools:
                Backend._validate_pool_name(p.get("name"))
                if p["name"].lower() in seen:
                    raise bad_request("InvalidParameter", f"Duplicate agent pool name '{p['name']}'.",
                                      target="properties.agentPoolProfiles.name")
                seen.add(p["name"].lower())
        value = ((props or {}).get("networkProfile") or {}).get(POD_LINK_LOCAL_ACCESS)
        if value is not None and value not in (RESTRICTED, UNRESTRICTED):
            raise bad_request("InvalidParameter", f"The value '{value}' of networkProfile.podLinkLocalAccess is "
                              f"invalid. Allowed values: '{RESTRICTED}', '{UNRESTRICTED}'.",
                              target="properties.networkProfile.podLinkLocalAccess")

    @staticmethod
    def _validate_pool_name(name) -> None:
        if not isinstance(name, str) or not name or len(name) > 12 or not name.isalnum() or not name[0].isalpha() \
                or name != name.lower():
            raise bad_request("InvalidParameter", f"The agent pool name '{name}' is invalid: it must start with a "
                              "lowercase letter and contain only lowercase letters and numbers, 1 to 12 characters.",
                              target="agentPoolProfile.name")

    @staticmethod
    def _fill_pool(pool: dict, old: Optional[dict], k8s_version: str, state: str, seeding: bool) -> dict:
        if not seeding:
            for key in _POOL_READONLY:
                pool.pop(key, None)
        defaults = {"count": 3, "vmSize": DEFAULT_VM_SIZE, "osDiskSizeGB": 128, "type": "VirtualMachineScaleSets",
                    "mode": "System", "osType": "Linux", "osSKU": "Ubuntu", "orchestratorVersion": k8s_version,
                    "maxPods": 250}
        for key, value in defaults.items():
            if not pool.get(key):
                pool[key] = value
        pool.setdefault("powerState", {"code": "Running"})
        pool["currentOrchestratorVersion"] = pool["orchestratorVersion"]
        pool["provisioningState"] = state
        if not (seeding and pool.get("nodeImageVersion")):
            pool["nodeImageVersion"] = (old or {}).get("nodeImageVersion") or (
                PREVIOUS_NODE_IMAGE if seeding else LATEST_NODE_IMAGE)
        pool["eTag"] = _etag()
        return pool

    def _build_cluster(self, rg: str, name: str, body: dict, api_version: str, existing: Optional[dict],
                       seeding: bool = False) -> dict:
        """The stored cluster for a PUT body: every given field kept, read-only fields server-set."""
        new = copy.deepcopy(body)
        for key in _CLUSTER_READONLY:
            new.pop(key, None)
        props = new.setdefault("properties", {})
        old_res = existing["resource"] if existing else None
        old_props = old_res["properties"] if old_res else {}
        for key in _PROPS_READONLY:
            props.pop(key, None)
        k8s = props.setdefault("kubernetesVersion", old_props.get("kubernetesVersion", DEFAULT_KUBERNETES_VERSION))
        props["currentKubernetesVersion"] = k8s
        state = "Succeeded" if seeding else ("Updating" if existing else "Creating")

        # Agent pools: omitted on update means unchanged.
        old_pools = {p["name"].lower(): p for p in old_props.get("agentPoolProfiles", [])}
        if "agentPoolProfiles" not in props and existing:
            props["agentPoolProfiles"] = copy.deepcopy(old_props.get("agentPoolProfiles", []))
        for pool in props["agentPoolProfiles"]:
            self._fill_pool(pool, old_pools.get(pool["name"].lower()), k8s, state, seeding)

        # Network profile and podLinkLocalAccess: only a preview api-version that has the field may change it.
        old_np = old_props.get("networkProfile") or {}
        np = props.get("networkProfile")
        if not isinstance(np, dict) or not np:
            np = copy.deepcopy(old_np) if existing else default_network_profile()
            props["networkProfile"] = np
        old_value = old_np.get(POD_LINK_LOCAL_ACCESS, UNRESTRICTED)
        requested = np.pop(POD_LINK_LOCAL_ACCESS, None)
        if requested is not None and (seeding or supports_pod_link_local_access(api_version)):
            np[POD_LINK_LOCAL_ACCESS] = requested
        else:
            np[POD_LINK_LOCAL_ACCESS] = old_value

        # OIDC issuer: once on, it stays on.
        oidc = props.get("oidcIssuerProfile")
        old_oidc = old_props.get("oidcIssuerProfile") or {}
        if old_oidc.get("enabled") is True:
            if isinstance(oidc, dict) and oidc.get("enabled") is False and not seeding:
                raise bad_request("OIDCIssuerFeatureCannotBeDisabled",
                                  "OIDC issuer feature cannot be disabled once it has been enabled.",
                                  target="properties.oidcIssuerProfile.enabled")
            oidc = props["oidcIssuerProfile"] = dict(oidc or {}, enabled=True)
        if isinstance(oidc, dict):
            oidc.pop("issuerURL", None)
            if oidc.get("enabled") is True:
                oidc["issuerURL"] = old_oidc.get("issuerURL") or (
                    f"https://{new['location']}.oic.prod-aks.azure.com/{WELL_KNOWN_TENANT_ID}/{uuid.uuid4()}/")

        # Server-set fields.
        dns_prefix = props.setdefault("dnsPrefix", old_props.get("dnsPrefix") or f"{name[:10]}-{rg[:16]}-000000")
        suffix = hashlib.sha256(_key(rg, name).encode()).hexdigest()[:8]
        location = new["location"]
        props["fqdn"] = old_props.get("fqdn") or f"{dns_prefix}-{suffix}.hcp.{location}.azmk8s.io"
        props["azurePortalFQDN"] = old_props.get("azurePortalFQDN") or (
            f"{dns_prefix}-{suffix}.portal.hcp.{location}.azmk8s.io")
        props["nodeResourceGroup"] = old_props.get("nodeResourceGroup") or props.get("nodeResourceGroup") or (
            f"MC_{rg}_{name}_{location}")
        props["provisioningState"] = state
        props["powerState"] = {"code": "Running"}
        props["maxAgentPools"] = 100
        props["resourceUID"] = old_props.get("resourceUID") or uuid.uuid4().hex[:24]
        identity = new.get("identity")
        if isinstance(identity, dict) and str(identity.get("type", "")).lower() == "systemassigned":
            old_identity = (old_res or {}).get("identity") or {}
            identity["principalId"] = old_identity.get("principalId") or str(uuid.uuid4())
            identity["tenantId"] = WELL_KNOWN_TENANT_ID
        if isinstance(identity, dict) and "assigned" in str(identity.get("type", "")).lower():
            # Managed-identity clusters get a kubelet identity in the node resource group, as AKS creates one
            # (az's own `aks update` reads it).
            kubelet = (old_props.get("identityProfile") or {}).get("kubeletidentity") or {
                "resourceId": f"/subscriptions/{WELL_KNOWN_SUBSCRIPTION_ID}/resourcegroups/"
                              f"{props['nodeResourceGroup']}/providers/Microsoft.ManagedIdentity/"
                              f"userAssignedIdentities/{name}-agentpool",
                "clientId": str(uuid.uuid4()), "objectId": str(uuid.uuid4())}
            profile = props.get("identityProfile")
            props["identityProfile"] = dict(profile if isinstance(profile, dict) else {})
            props["identityProfile"].setdefault("kubeletidentity", kubelet)
        head = {"id": self._cluster_id(existing["resourceGroup"] if existing else rg,
                                        old_res["name"] if old_res else name),
                "location": location, "name": old_res["name"] if old_res else name, "type": CLUSTER_TYPE}
        new = {**head, **{k: v for k, v in new.items() if k not in head}}
        new["eTag"] = _etag()
        return new

    def _enforce_rules(self, new: dict, existing: Optional[dict], key: str, custom_features: str) -> None:
        if not rules.is_restricted(new):
            return
        turning_on = existing is None or not rules.is_restricted(existing["resource"])
        if turning_on and not rules.feature_allowed(self._feature_state(rules.FEATURE_ID), custom_features):
            raise rules.feature_refusal()
        blockers = rules.cluster_blockers(new, self._extensions_of(key))
        if blockers:
            raise rules.refusal(blockers, "Enabling IMDS restriction" if turning_on
                                else "This change to an IMDS-restricted cluster")

    def put_cluster(self, sub: str, rg: str, name: str, body: dict, api_version: str, *,
                    if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                    custom_features: str = "", failure: Optional[dict] = None):
        """Create or update. Returns (status, rendered cluster, operation)."""
        with self._tx() as st:
            rg_rec = self._rg(sub, rg)
            key = _key(rg, name)
            existing = st["clusters"].get(key)
            self._check_preconditions(existing and existing["resource"].get("eTag"), if_match, if_none_match,
                                      "managed cluster", name)
            if existing:
                self._busy(key)
            self._validate_cluster_body(body, existing and existing["resource"])
            new = self._build_cluster(rg_rec["name"], name, body, api_version, existing)
            self._enforce_rules(new, existing, key, custom_features)
            setting = rules.pod_link_local_access(new)
            nodes = dict(existing["nodes"]) if existing else {}
            pool_names = {p["name"].lower() for p in new["properties"]["agentPoolProfiles"]}
            nodes = {k: v for k, v in nodes.items() if k in pool_names}
            for pool_name in pool_names - set(nodes):  # new pools' nodes enforce the setting of their birth
                nodes[pool_name] = {"podLinkLocalAccess": setting}
            st["clusters"][key] = {"resourceGroup": existing["resourceGroup"] if existing else rg_rec["name"],
                                   "resource": new, "nodes": nodes}
            op = self._start_operation("cluster.put", "update managed cluster" if existing else
                                       "create managed cluster", key, new["location"], api_version, failure=failure)
            return (200 if existing else 201), self.render_cluster(new, api_version), op

    def delete_cluster(self, sub: str, rg: str, name: str, *, if_match: Optional[str] = None,
                       failure: Optional[dict] = None):
        """Returns the operation, or None when there was nothing to delete (204)."""
        with self._tx() as st:
            self._rg(sub, rg)
            key = _key(rg, name)
            rec = st["clusters"].get(key)
            if rec is None:
                return None
            self._check_preconditions(rec["resource"].get("eTag"), if_match, None, "managed cluster", name)
            self._busy(key)
            rec["resource"]["properties"]["provisioningState"] = "Deleting"
            return self._start_operation("cluster.delete", "delete managed cluster", key,
                                         rec["resource"]["location"], LATEST_PREVIEW, failure=failure)

    # ---- agent pools ----------------------------------------------------------------------------
    def _render_pool(self, rec: dict, pool: dict) -> dict:
        props = {k: copy.deepcopy(v) for k, v in pool.items() if k not in ("name", "eTag")}
        out = {"id": rec["resource"]["id"] + f"/agentPools/{pool['name']}", "name": pool["name"], "type": POOL_TYPE,
               "properties": props}
        if pool.get("eTag"):
            out["properties"]["eTag"] = pool["eTag"]
        return out

    def _get_pool(self, rec: dict, rg: str, cluster: str, pool: str) -> dict:
        p = self._pool(rec, pool)
        if p is None:
            raise resource_not_found("Microsoft.ContainerService/managedClusters/agentPools", f"{cluster}/{pool}", rg)
        return p

    def list_pools(self, sub: str, rg: str, cluster: str) -> list:
        with self._tx():
            rec = self._cluster(sub, rg, cluster)
            return [self._render_pool(rec, p) for p in rec["resource"]["properties"].get("agentPoolProfiles", [])]

    def get_pool(self, sub: str, rg: str, cluster: str, pool: str) -> dict:
        with self._tx():
            rec = self._cluster(sub, rg, cluster)
            return self._render_pool(rec, self._get_pool(rec, rg, cluster, pool))

    def put_pool(self, sub: str, rg: str, cluster: str, pool: str, body: dict, api_version: str, *,
                 if_match: Optional[str] = None, if_none_match: Optional[str] = None,
                 failure: Optional[dict] = None):
        with self._tx():
            rec = self._cluster(sub, rg, cluster)
            key = _key(rg, cluster)
            old = self._pool(rec, pool)
            self._check_preconditions(old and old.get("eTag"), if_match, if_none_match, "agent pool", pool)
            self._busy(key, pool)
            self._validate_pool_name(pool)
            if not isinstance(body, dict) or not isinstance(body.get("properties", {}), dict):
                raise bad_request("InvalidParameter", "The request body must be a JSON object with 'properties'.")
            new = dict(copy.deepcopy(body.get("properties") or {}), name=old["name"] if old else pool)
            k8s = rec["resource"]["properties"].get("kubernetesVersion", DEFAULT_KUBERNETES_VERSION)
            self._fill_pool(new, old, k8s, "Updating" if old else "Creating", False)
            if rules.is_restricted(rec["resource"]):
                blockers = rules.pool_blockers([new])
                if blockers:
                    raise rules.refusal(blockers, "This node pool on an IMDS-restricted cluster")
            pools = rec["resource"]["properties"]["agentPoolProfiles"]
            if old:
                pools[pools.index(old)] = new
            else:
                pools.append(new)
                rec["nodes"][pool.lower()] = {"podLinkLocalAccess": rules.pod_link_local_access(rec["resource"])}
            op = self._start_operation("pool.put", "update node pool" if old else "create node pool", key,
                                       rec["resource"]["location"], api_version, pool=new["name"], failure=failure)
            return (200 if old else 201), self._render_pool(rec, new), op

    def delete_pool(self, sub: str, rg: str, cluster: str, pool: str, *, if_match: Optional[str] = None,
                    failure: Optional[dict] = None):
        with self._tx():
            rec = self._cluster(sub, rg, cluster)
            p = self._pool(rec, pool)
            if p is None:
                return None
            self._check_preconditions(p.get("eTag"), if_match, None, "agent pool", pool)
            self._busy(_key(rg, cluster), pool)
            p["provisioningState"] = "Deleting"
            return self._start_operation("pool.delete", "delete node pool", _key(rg, cluster),
                                         rec["resource"]["location"], LATEST_PREVIEW, pool=p["name"], failure=failure)

    def upgrade_node_image(self, sub: str, rg: str, cluster: str, pool: str, api_version: str,
                           failure: Optional[dict] = None):
        with self._tx():
            rec = self._cluster(sub, rg, cluster)
            p = self._get_pool(rec, rg, cluster, pool)
            self._busy(_key(rg, cluster), pool)
            p["provisioningState"] = "UpgradingNodeImageVersion"
            p["eTag"] = _etag()
            op = self._start_operation("pool.upgrade", "upgrade node image version", _key(rg, cluster),
                                       rec["resource"]["location"], api_version, pool=p["name"], failure=failure)
            return self._render_pool(rec, p), op

    # ---- operations -----------------------------------------------------------------------------
    def get_operation(self, sub: str, op_id: str) -> dict:
        with self._tx() as st:
            self._check_sub(sub)
            op = st["operations"].get(op_id.lower())
            if op is None:
                raise EmulatorError(404, "NotFound", f"The operation '{op_id}' could not be found.")
            return copy.deepcopy(op)

    @staticmethod
    def operation_status(op: dict) -> dict:
        body = {"name": op["id"], "status": op["status"], "startTime": utcnow_iso(op["start"])}
        if op["status"] != "InProgress":
            body["endTime"] = utcnow_iso(op["end"])
        if op["status"] == "Failed":
            failure = op["failure"] or {}
            body["error"] = {"code": failure.get("code", "InternalOperationError"),
                             "message": failure.get("message", "The operation failed."), "details": []}
        return body

    def operation_result(self, op: dict):
        """(status, body) for the `operationresults` URL of a finished operation."""
        with self._tx() as st:
            rec = st["clusters"].get(op["cluster"])
            if op["kind"].endswith(".delete") or rec is None:
                return 204, None
            if op["pool"]:
                pool = self._pool(rec, op["pool"])
                return (200, self._render_pool(rec, pool)) if pool else (204, None)
            return 200, self.render_cluster(rec["resource"], op["apiVersion"])

    # ---- extensions -----------------------------------------------------------------------------
    def _render_extension(self, rec: dict, name: str, ext: dict) -> dict:
        return {"id": rec["resource"]["id"] + f"/providers/Microsoft.KubernetesConfiguration/extensions/{name}",
                "name": name, "type": EXTENSION_TYPE, **{k: v for k, v in ext.items() if k != "name"}}

    def list_extensions(self, sub: str, rg: str, cluster: str) -> list:
        with self._tx():
            rec = self._cluster(sub, rg, cluster)
            return [self._render_extension(rec, e["name"], e) for e in self._extensions_of(_key(rg, cluster))]

    def get_extension(self, sub: str, rg: str, cluster: str, name: str) -> dict:
        with self._tx() as st:
            rec = self._cluster(sub, rg, cluster)
            ext = st["extensions"].get(_key(rg, cluster, name))
            if ext is None:
                raise resource_not_found(f"{CONTAINER_SERVICE}/managedClusters/{cluster}/providers/"
                                         f"Microsoft.KubernetesConfiguration/extensions", name, rg)
            return self._render_extension(rec, ext["name"], ext)

    def put_extension(self, sub: str, rg: str, cluster: str, name: str, body: dict, seeding: bool = False):
        with self._tx() as st:
            rec = self._cluster(sub, rg, cluster)
            props = (body or {}).get("properties") if isinstance(body, dict) else None
            if not isinstance(props, dict) or not props.get("extensionType"):
                raise EmulatorError(400, "InvalidRequestContent",
                                    "The request content is invalid: properties.extensionType is required.",
                                    target="properties.extensionType")
            key = _key(rg, cluster, name)
            existing = st["extensions"].get(key)
            ext = {"name": existing["name"] if existing else name, **copy.deepcopy(body)}
            ext["properties"]["provisioningState"] = "Succeeded"
            if not seeding and rules.is_restricted(rec["resource"]):
                blockers = rules.extension_blockers([ext])
                if blockers:
                    raise rules.refusal(blockers, "This cluster extension on an IMDS-restricted cluster")
            st["extensions"][key] = ext
            self._changed()
            return (200 if existing else 201), self._render_extension(rec, ext["name"], ext)

    def delete_extension(self, sub: str, rg: str, cluster: str, name: str) -> bool:
        with self._tx() as st:
            self._cluster(sub, rg, cluster)
            gone = st["extensions"].pop(_key(rg, cluster, name), None)
            if gone is not None:
                self._changed()
            return gone is not None

    # ---- admin views and seeding ----------------------------------------------------------------
    def nodes(self, sub: str, rg: str, cluster: str) -> dict:
        with self._tx():
            rec = self._cluster(sub, rg, cluster)
            pools = {}
            for p in rec["resource"]["properties"].get("agentPoolProfiles", []):
                enforced = rec["nodes"].get(p["name"].lower(), {}).get("podLinkLocalAccess", UNRESTRICTED)
                pools[p["name"]] = {"podLinkLocalAccess": enforced, "nodeImageVersion": p.get("nodeImageVersion"),
                                    "provisioningState": p.get("provisioningState")}
            return {"cluster": rec["resource"]["name"],
                    "podLinkLocalAccess": rules.pod_link_local_access(rec["resource"]), "pools": pools}

    def seed(self, doc: dict) -> dict:
        """Load resources as given, bypassing the service's rules (to build clusters the rules would refuse)."""
        if not isinstance(doc, dict):
            raise EmulatorError(400, "InvalidSeed", "The seed document must be a JSON object.")
        counts = {"resourceGroups": 0, "clusters": 0, "extensions": 0, "features": 0, "providers": 0}
        with self._tx() as st:
            for fid, state in (doc.get("features") or {}).items():
                ns, _, name = fid.partition("/")
                rec = st["features"].setdefault(fid.lower(), {"namespace": ns, "name": name})
                rec.pop("due", None), rec.pop("target", None)
                rec["state"] = state
                counts["features"] += 1
            for ns, state in (doc.get("providers") or {}).items():
                rec = st["providers"].setdefault(ns.lower(), {"namespace": ns})
                rec.pop("due", None), rec.pop("target", None)
                rec["state"] = state
                counts["providers"] += 1
            for rg in doc.get("resourceGroups") or []:
                st["resourceGroups"][rg["name"].lower()] = {
                    "name": rg["name"], "location": rg.get("location", "eastus"), "tags": rg.get("tags"),
                    "managedBy": None}
                counts["resourceGroups"] += 1
            for item in doc.get("clusters") or []:
                rg, name, body = item["resourceGroup"], item["name"], item["cluster"]
                self._validate_cluster_body(body, None)
                st["resourceGroups"].setdefault(rg.lower(), {"name": rg, "location": body["location"], "tags": None,
                                                             "managedBy": None})
                key = _key(rg, name)
                new = self._build_cluster(st["resourceGroups"][rg.lower()]["name"], name, body, LATEST_PREVIEW,
                                          None, seeding=True)
                setting = rules.pod_link_local_access(new)
                given = {k.lower(): v for k, v in (item.get("nodes") or {}).items()}
                nodes = {p["name"].lower(): {"podLinkLocalAccess": given.get(p["name"].lower(), {}).get(
                    "podLinkLocalAccess", setting)} for p in new["properties"]["agentPoolProfiles"]}
                self._drop_cluster(key)
                st["clusters"][key] = {"resourceGroup": st["resourceGroups"][rg.lower()]["name"], "resource": new,
                                       "nodes": nodes}
                counts["clusters"] += 1
            self._changed()
        for ext in doc.get("extensions") or []:
            self.put_extension(WELL_KNOWN_SUBSCRIPTION_ID, ext["resourceGroup"], ext["cluster"], ext["name"],
                               {"properties": ext.get("properties") or {"extensionType": ext["extensionType"]}},
                               seeding=True)
            counts["extensions"] += 1
        return counts

    @staticmethod
    def kubernetes_versions() -> dict:
        values = []
        for v in KUBERNETES_VERSIONS:
            item = {"version": v.rsplit(".", 1)[0], "capabilities": {"supportPlan": ["KubernetesOfficial"]},
                    "patchVersions": {v: {"upgrades": [u for u in KUBERNETES_VERSIONS if u > v]}}}
            if v == DEFAULT_KUBERNETES_VERSION:
                item["isDefault"] = True
            values.append(item)
        return {"values": values}
