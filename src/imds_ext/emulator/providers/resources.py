"""Microsoft.Resources: the subscription and tenant of the well-known identity, and resource groups."""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional

from imds_ext.emulator.constants import (
    SUBSCRIPTION_DISPLAY_NAME, TENANT_DISPLAY_NAME, TENANT_DOMAIN, WELL_KNOWN_SUBSCRIPTION_ID, WELL_KNOWN_TENANT_ID,
)
from imds_ext.emulator import validation
from imds_ext.emulator.errors import EmulatorError, resource_group_not_found
from imds_ext.emulator.records import Record
from imds_ext.emulator.store import Store

GROUP_TYPE = "Microsoft.Resources/resourceGroups"
_GROUP_BODY = validation.schema({
    "type": "object", "required": ["location"],
    "properties": {"location": {"type": "string", "minLength": 1, "maxLength": 100},
                   "tags": {"type": ["object", "null"], "additionalProperties": {"type": "string", "maxLength": 256}},
                   "managedBy": {"type": ["string", "null"]}}})


def _invalid(message: str, target):
    return EmulatorError(400, "InvalidRequestContent", message, target=target)


@dataclasses.dataclass
class ResourceGroup(Record):
    name: str  # as first created: ARM keeps the casing of the creator
    location: str
    tags: Optional[dict] = None
    managed_by: Optional[str] = None

    def render(self) -> dict:
        out = {"id": f"/subscriptions/{WELL_KNOWN_SUBSCRIPTION_ID}/resourceGroups/{self.name}", "name": self.name,
               "type": GROUP_TYPE, "location": self.location, "properties": {"provisioningState": "Succeeded"}}
        if self.tags is not None:
            out["tags"] = self.tags
        if self.managed_by is not None:
            out["managedBy"] = self.managed_by
        return out


class ResourcesBackend:
    def __init__(self, store: Store):
        self.store = store
        self.groups: Dict[str, ResourceGroup] = store.table("resourceGroups", ResourceGroup)
        self._on_group_deleted: List[Callable[[str], None]] = []

    def on_group_deleted(self, callback: Callable[[str], None]) -> None:
        """`callback(group_name)` runs inside the delete, so the resources in the group go with it."""
        self._on_group_deleted.append(callback)

    # ---- subscriptions and tenants --------------------------------------------------------------
    @staticmethod
    def check_subscription(sub: str) -> None:
        if sub.lower() != WELL_KNOWN_SUBSCRIPTION_ID:
            raise EmulatorError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")

    def subscription(self, sub: str = WELL_KNOWN_SUBSCRIPTION_ID) -> dict:
        self.check_subscription(sub)
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
    def group(self, sub: str, name: str) -> ResourceGroup:
        """The group, or ARM's 404 (callers hold the transaction)."""
        self.check_subscription(sub)
        rec = self.groups.get(name.lower())
        if rec is None:
            raise resource_group_not_found(name)
        return rec

    def put_group(self, sub: str, name: str, body) -> tuple:
        self.check_subscription(sub)
        location = body.get("location") if isinstance(body, dict) else None
        if not location:
            raise EmulatorError(400, "LocationRequired", "The location property is required for this definition.")
        validation.check(_GROUP_BODY, body, _invalid)
        validation.check_name(name, validation.RESOURCE_GROUP_NAME, "resource group",
                              "1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'",
                              code="InvalidResourceGroupName")
        with self.store.tx():
            existing = self.groups.get(name.lower())
            if existing and existing.location.lower() != location.lower():
                raise EmulatorError(409, "InvalidResourceGroupLocation",
                                    f"Invalid resource group location '{location}'. The Resource group already "
                                    f"exists in location '{existing.location}'.")
            rec = ResourceGroup(name=existing.name if existing else name, location=location, tags=body.get("tags"),
                                managed_by=body.get("managedBy"))
            self.groups[name.lower()] = rec
            self.store.changed()
            return (200 if existing else 201), rec.render()

    def seed_group(self, name: str, location: str, tags: Optional[dict] = None) -> ResourceGroup:
        with self.store.tx():
            rec = self.groups[name.lower()] = ResourceGroup(name=name, location=location, tags=tags)
            self.store.changed()
            return rec

    def ensure_group(self, name: str, location: str) -> ResourceGroup:
        """The group, created when missing (seeding a cluster into a group nobody declared)."""
        with self.store.tx():
            return self.groups.get(name.lower()) or self.seed_group(name, location)

    def get_group(self, sub: str, name: str) -> dict:
        with self.store.tx():
            return self.group(sub, name).render()

    def list_groups(self, sub: str) -> list:
        self.check_subscription(sub)
        with self.store.tx():
            return [rec.render() for rec in self.groups.values()]

    def delete_group(self, sub: str, name: str) -> None:
        with self.store.tx():
            rec = self.group(sub, name)
            for callback in self._on_group_deleted:
                callback(rec.name)
            del self.groups[name.lower()]
            self.store.changed()
