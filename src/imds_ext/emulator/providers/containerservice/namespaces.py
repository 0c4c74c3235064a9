"""Managed namespaces: `{cluster}/managedNamespaces/{name}`, a tracked child resource of a managed cluster (constants.
AKS_NAMESPACE_API_VERSIONS), with its long-running PUT and DELETE, as test_aks_managed_namespace (2025-10-29, `az aks
namespace add/show/list/get-credentials/update/delete` at 2025-09-02-preview) answers:

- a PUT answers 201 `Creating` (a create) or 200 `Updating`, with an eTag, Azure-AsyncOperation and Location; once
  its operation succeeds the resource reads `Succeeded` under a new eTag;
- the properties are those sent, but for empty `labels` and `annotations`, which the answer leaves out; the service
  adds `portalFqdn` (the cluster's `azurePortalFQDN`), and ARM adds `systemData`;
- a list holds the cluster's namespaces on a first page that links to a second, empty one (both lists of #23-#24,
  #43), as the service's pool lists do;
- `listCredential` answers the cluster user's kubeconfig (#37: the cluster's own, no namespace in its context);
- a DELETE answers 202 with Azure-AsyncOperation and Location.

What a managed namespace makes inside the cluster (the Kubernetes namespace, its quota and network policies) is not
modelled: no public source names those objects.
"""
from __future__ import annotations

import copy
import dataclasses
import re
from typing import List, Optional

from imds_ext.emulator import conditions, validation
from imds_ext.emulator.constants import WELL_KNOWN_CLIENT_ID
from imds_ext.emulator.errors import EmulatorError, bad_request, resource_not_found
from imds_ext.emulator.operations import Operation, utc_iso
from imds_ext.emulator.providers.containerservice.children import ClusterChildren
from imds_ext.emulator.records import Record

NAMESPACE_TYPE = "Microsoft.ContainerService/managedClusters/managedNamespaces"
POLICY_RULES = ("AllowAll", "DenyAll", "AllowSameNamespace")
QUOTAS = ("cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit")
ADOPTION_POLICIES = ("Never", "IfIdentical", "Always")
DELETE_POLICIES = ("Keep", "Delete")
_STRINGS = {"type": ["object", "null"], "additionalProperties": {"type": "string"}}
BODY = validation.schema({
    "type": "object",
    "required": ["properties"],
    "properties": {
        "location": {"type": ["string", "null"]},
        "tags": _STRINGS,
        "properties": {
            "type": "object",
            "properties": {
                "labels": _STRINGS,
                "annotations": _STRINGS,
                "defaultResourceQuota": {"type": ["object", "null"], "additionalProperties": False, "properties": {
                    k: {"type": ["string", "null"]} for k in QUOTAS}},
                "defaultNetworkPolicy": {"type": ["object", "null"], "additionalProperties": False, "properties": {
                    k: {"enum": [*POLICY_RULES, None]} for k in ("ingress", "egress")}},
                "adoptionPolicy": {"enum": [*ADOPTION_POLICIES, None]},
                "deletePolicy": {"enum": [*DELETE_POLICIES, None]},
            },
        },
    },
})
_SENT = ("labels", "annotations", "defaultResourceQuota", "defaultNetworkPolicy", "adoptionPolicy", "deletePolicy")
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")  # a Kubernetes namespace: a DNS label


@dataclasses.dataclass
class ManagedNamespace(Record):
    cluster: str  # the cluster's key (records.cluster_key)
    cluster_id: str  # the cluster's resource id, which the namespace's id extends
    cluster_name: str
    name: str
    location: str
    properties: dict  # what was sent (empty collections left out), provisioningState
    etag: str
    created: float
    changed: float
    tags: Optional[dict] = None

    @property
    def key(self) -> str:
        return f"{self.cluster}/managednamespaces/{self.name}"

    def system_data(self) -> dict:
        # ARM's record of who wrote it: the emulator has one principal, the well-known application.
        return {"createdBy": WELL_KNOWN_CLIENT_ID, "createdByType": "Application", "createdAt": utc_iso(self.created),
                "lastModifiedBy": WELL_KNOWN_CLIENT_ID, "lastModifiedByType": "Application",
                "lastModifiedAt": utc_iso(self.changed)}

    def render(self, portal_fqdn: Optional[str]) -> dict:
        props = copy.deepcopy(self.properties)
        if portal_fqdn:
            props["portalFqdn"] = portal_fqdn
        out = {"id": f"{self.cluster_id}/managedNamespaces/{self.name}", "name": self.name, "type": NAMESPACE_TYPE,
               "eTag": self.etag, "location": self.location, "systemData": self.system_data(), "properties": props}
        if self.tags:
            out["tags"] = copy.deepcopy(self.tags)
        return out

    def generic(self) -> dict:
        """The resource as ARM's generic list shows it (resources.py): its full name is the cluster's and its own."""
        out = {"id": f"{self.cluster_id}/managedNamespaces/{self.name}", "name": f"{self.cluster_name}/{self.name}",
               "type": NAMESPACE_TYPE, "location": self.location, "createdTime": utc_iso(self.created),
               "changedTime": utc_iso(self.changed), "provisioningState": self.properties["provisioningState"],
               "systemData": self.system_data()}
        if self.tags:
            out["tags"] = copy.deepcopy(self.tags)
        return out


def _invalid(message: str, target: Optional[str]) -> EmulatorError:
    return bad_request("InvalidParameter", message, target=target or "properties")


class ManagedNamespaces(ClusterChildren):
    """The managed namespaces of each cluster."""

    TABLE, RECORD, NOUN = "managedNamespaces", ManagedNamespace, "managed namespace"
    PUT, DELETE = "namespace.put", "namespace.delete"

    def answer(self, found: ManagedNamespace) -> dict:
        cluster = self.clusters.clusters.get(found.cluster)
        return found.render(cluster.properties.get("azurePortalFQDN") if cluster else None)

    def _found(self, sub: str, rg: str, cluster: str, name: str) -> ManagedNamespace:
        rec = self.clusters.cluster(sub, rg, cluster)
        found = self.rows.get(f"{rec.key}/managednamespaces/{name.lower()}")
        if found is None:
            raise resource_not_found(f"Microsoft.ContainerService/managedClusters/{rec.name}/managedNamespaces", name,
                                     rg)
        return found

    # ---- the API ------------------------------------------------------------------------------
    def get(self, sub: str, rg: str, cluster: str, name: str) -> dict:
        with self.store.tx():
            found = self._found(sub, rg, cluster, name)
            return self.answer(found)

    def list(self, sub: str, rg: str, cluster: str, skip_token: Optional[str] = None):
        """(namespaces, the skip token of the next page or None): all on the first page, then an empty last one."""
        with self.store.tx():
            rec = self.clusters.cluster(sub, rg, cluster)
            if skip_token is not None:
                return [], None
            found = sorted((n for n in self.rows.values() if n.cluster == rec.key), key=lambda n: n.name)
            return [self.answer(n) for n in found], f"{rec.name}-namespaces"

    def generic(self, sub: str) -> List[dict]:
        """Every managed namespace of the subscription, as ARM's generic resource list shows it."""
        prefix = f"{sub.lower()}/"
        return [n.generic() for n in self.rows.values() if n.cluster.startswith(prefix)]

    def credentials(self, sub: str, rg: str, cluster: str, name: str, base: str, ca_pem: str) -> dict:
        with self.store.tx():
            self._found(sub, rg, cluster, name)  # a namespace that is not there has no credential
            return self.clusters.credentials(sub, rg, cluster, admin=False, base=base, ca_pem=ca_pem)

    def put(self, sub: str, rg: str, cluster: str, name: str, body, api_version: str, *,
            if_match: Optional[str] = None, if_none_match: Optional[str] = None, failure: Optional[dict] = None):
        """(200 or 201, the resource as answered, the operation)."""
        with self.store.tx():
            rec = self.clusters.cluster(sub, rg, cluster)
            key = f"{rec.key}/managednamespaces/{name.lower()}"
            existing = self.rows.get(key)
            conditions.check(existing and existing.etag, if_match, if_none_match, "managed namespace", name)
            validation.check_name(name, NAME, "managed namespace", "a Kubernetes namespace name is at most 63 "
                                  "lower-case letters, digits and '-', starting and ending with a letter or digit")
            validation.check(BODY, body, _invalid)
            self._busy(key)
            sent = body["properties"] or {}
            props = {k: copy.deepcopy(sent[k]) for k in _SENT if sent.get(k) not in (None, {}, "")}
            props["provisioningState"] = "Updating" if existing else "Creating"
            now = self.store.clock()
            self.rows[key] = new = ManagedNamespace(
                cluster=rec.key, cluster_id=rec.resource["id"], cluster_name=rec.name,
                name=existing.name if existing else name, location=body.get("location") or rec.location,
                properties=props, etag=conditions.new_etag(), created=existing.created if existing else now,
                changed=now, tags=copy.deepcopy(body.get("tags")) or None)
            op = self.operations.start(self.PUT, "update managed namespace" if existing else "create managed namespace",
                                       key, rec.location, api_version, failure=failure, subscription=rec.subscription)
            return (200 if existing else 201), self.answer(new), op

    def delete(self, sub: str, rg: str, cluster: str, name: str, api_version: str, *,
               if_match: Optional[str] = None, failure: Optional[dict] = None) -> Optional[Operation]:
        """The operation, or None when there is no such namespace (204)."""
        with self.store.tx():
            rec = self.clusters.cluster(sub, rg, cluster)
            found = self.rows.get(f"{rec.key}/managednamespaces/{name.lower()}")
            if found is None:
                return None
            return self._start_delete(found, rec, api_version, if_match, failure, name)
