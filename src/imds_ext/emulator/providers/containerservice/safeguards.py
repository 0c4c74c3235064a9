"""Deployment Safeguards: `{cluster}/providers/Microsoft.ContainerService/deploymentSafeguards/default`, an extension
resource of a managed cluster (api-version 2025-05-02-preview), with its long-running PUT and DELETE, as
test_aks_deployment_safeguards_basic (2025-11-05) and test_aks_deployment_safeguards_with_pss (2025-11-06) answer:

- a PUT answers 201 `Creating` (a create) or 200 `Updating`, with an eTag and Azure-AsyncOperation only; once its
  operation succeeds the resource reads `Succeeded` under a new eTag;
- `podSecurityStandardsLevel` is `Privileged` unless sent; `excludedNamespaces` only when sent (a PUT replaces
  them); `systemExcludedNamespaces` is the service's own list, whatever was sent;
- a DELETE answers 202 with a Location only; its `operationresults` answer 202 with the operation's progress (and
  the Location) while it runs, then 204 (with the Location);
- the list holds the one resource, or none.

Kept one record per cluster, keyed by the cluster's key; a cluster's safeguards go with it (children.py).
"""
from __future__ import annotations

import copy
import dataclasses
import uuid
from typing import Optional

from imds_ext.emulator import conditions, validation
from imds_ext.emulator.errors import EmulatorError, bad_request, resource_not_found
from imds_ext.emulator.operations import IN_PROGRESS, Operation, utc_iso
from imds_ext.emulator.providers.containerservice.children import ClusterChildren
from imds_ext.emulator.records import Record

SAFEGUARDS_TYPE = "Microsoft.ContainerService/deploymentSafeguards"
NAME = "default"
LEVELS = ("Warn", "Enforce")
POD_SECURITY_LEVELS = ("Privileged", "Baseline", "Restricted")
DEFAULT_POD_SECURITY_LEVEL = "Privileged"  # a PUT of level alone reads Privileged (both recordings)
# What the service always excludes, in its order (every answer of both recordings).
SYSTEM_EXCLUDED_NAMESPACES = (
    "aks-command", "kube-system", "calico-system", "tigera-system", "gatekeeper-system", "azappconfig-system",
    "azureml", "dapr-system", "dataprotection-microsoft", "flux-system", "acstor", "sc-system",
    "azure-extensions-usage-system", "app-routing-system", "aks-periscope", "aks-istio-system", "aks-istio-ingress",
    "aks-istio-egress")
LEASE_SECONDS = 6 * 3600  # a running operation's result names a lease of six hours from its start (both deletes)
_ETAGS = uuid.UUID("5a6e9a4d-0000-4000-8000-00000000d5a6")  # the namespace of operations' progress eTags

BODY = validation.schema({
    "type": "object",
    "required": ["properties"],
    "properties": {
        "properties": {
            "type": "object",
            "required": ["level"],
            "properties": {
                "level": {"enum": list(LEVELS)},
                "podSecurityStandardsLevel": {"enum": [*POD_SECURITY_LEVELS, None]},
                "excludedNamespaces": {"type": ["array", "null"], "items": {"type": "string"}},
            },
        },
    },
})


@dataclasses.dataclass
class Safeguards(Record):
    cluster: str  # the cluster's key (records.cluster_key)
    cluster_id: str  # the cluster's resource id, which the safeguards' id extends
    properties: dict  # level, podSecurityStandardsLevel, excludedNamespaces (if sent), provisioningState
    etag: str

    @property
    def key(self) -> str:
        return f"{self.cluster}/deploymentsafeguards/{NAME}"

    def render(self) -> dict:
        props = {k: copy.deepcopy(v) for k, v in self.properties.items()}
        props["systemExcludedNamespaces"] = list(SYSTEM_EXCLUDED_NAMESPACES)
        return {"eTag": self.etag, "id": f"{self.cluster_id}/providers/{SAFEGUARDS_TYPE}/{NAME}", "name": NAME,
                "properties": dict(sorted(props.items())), "type": SAFEGUARDS_TYPE}


def _invalid(message: str, target: Optional[str]) -> EmulatorError:
    return bad_request("InvalidParameter", message, target=target or "properties")


class DeploymentSafeguards(ClusterChildren):
    """The Deployment Safeguards of each cluster."""

    TABLE, RECORD, NOUN = "deploymentSafeguards", Safeguards, "deployment safeguards"
    PUT, DELETE = "safeguards.put", "safeguards.delete"

    def _found(self, sub: str, rg: str, cluster: str) -> Safeguards:
        rec = self.clusters.cluster(sub, rg, cluster)
        found = self.rows.get(f"{rec.key}/deploymentsafeguards/{NAME}")
        if found is None:
            raise resource_not_found(f"Microsoft.ContainerService/managedClusters/{rec.name}/providers/"
                                     f"{SAFEGUARDS_TYPE}", NAME, rg)
        return found

    # ---- the API ------------------------------------------------------------------------------
    def get(self, sub: str, rg: str, cluster: str) -> dict:
        with self.store.tx():
            return self._found(sub, rg, cluster).render()

    def list(self, sub: str, rg: str, cluster: str) -> list:
        with self.store.tx():
            rec = self.clusters.cluster(sub, rg, cluster)
            return [s.render() for s in self.rows.values() if s.cluster == rec.key]

    def put(self, sub: str, rg: str, cluster: str, body, api_version: str, *, if_match: Optional[str] = None,
            if_none_match: Optional[str] = None, failure: Optional[dict] = None):
        """(200 or 201, the resource as answered, the operation)."""
        with self.store.tx():
            rec = self.clusters.cluster(sub, rg, cluster)
            key = f"{rec.key}/deploymentsafeguards/{NAME}"
            existing = self.rows.get(key)
            conditions.check(existing and existing.etag, if_match, if_none_match, "deployment safeguards", NAME)
            validation.check(BODY, body, _invalid)
            self._busy(key)
            sent = body["properties"]
            props = {"level": sent["level"],
                     "podSecurityStandardsLevel": sent.get("podSecurityStandardsLevel") or DEFAULT_POD_SECURITY_LEVEL,
                     "provisioningState": "Updating" if existing else "Creating"}
            if sent.get("excludedNamespaces") is not None:
                props["excludedNamespaces"] = list(sent["excludedNamespaces"])
            self.rows[key] = new = Safeguards(cluster=rec.key, cluster_id=rec.resource["id"], properties=props,
                                              etag=conditions.new_etag())
            op = self.operations.start(self.PUT, "update deployment safeguards" if existing else
                                       "create deployment safeguards", key, rec.location, api_version,
                                       failure=failure, subscription=rec.subscription)
            return (200 if existing else 201), new.render(), op

    def delete(self, sub: str, rg: str, cluster: str, api_version: str, *, if_match: Optional[str] = None,
               failure: Optional[dict] = None) -> Optional[Operation]:
        """The operation, or None when there are no safeguards to delete (204)."""
        with self.store.tx():
            rec = self.clusters.cluster(sub, rg, cluster)
            found = self.rows.get(f"{rec.key}/deploymentsafeguards/{NAME}")
            if found is None:
                return None
            return self._start_delete(found, rec, api_version, if_match, failure, NAME)

    @staticmethod
    def progress(op: Operation) -> Optional[dict]:
        """The body of the `operationresults` URL while the operation runs (both recordings' deletes)."""
        if op.status != IN_PROGRESS:
            return None
        return {"name": op.id, "status": op.status, "startTime": utc_iso(op.start), "progress": {"currentStep": ""},
                "leasedUntil": utc_iso(op.start + LEASE_SECONDS), "etag": str(uuid.uuid5(_ETAGS, op.id))}
