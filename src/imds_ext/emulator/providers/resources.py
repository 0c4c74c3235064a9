"""Microsoft.Resources: the subscriptions and tenant of the well-known identity, resource groups, and the generic
list of a subscription's (or a group's) resources.

The well-known subscription always exists; the seed document declares more. All are visible to the well-known
principal, and each has its own resource groups (keyed `subscription/group`). The tracked resources of the other
rooms (clusters, managed namespaces) reach the generic list through `on_listing`."""
from __future__ import annotations

import dataclasses
import re
from typing import Callable, Dict, Iterable, List, Optional, Tuple

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
    "properties": {"location": validation.LOCATION,
                   "tags": {"type": ["object", "null"], "additionalProperties": {"type": "string", "maxLength": 256}},
                   "managedBy": {"type": ["string", "null"]}}})


def _invalid(message: str, target):
    return EmulatorError(400, "InvalidRequestContent", message, target=target)


def group_key(sub: str, name: str) -> str:
    return f"{sub}/{name}".lower()


@dataclasses.dataclass
class Subscription(Record):
    subscription_id: str  # lower case: ids are compared case-insensitively and rendered as declared, lowered
    display_name: str

    def render(self) -> dict:
        return {"id": f"/subscriptions/{self.subscription_id}", "subscriptionId": self.subscription_id,
                "tenantId": WELL_KNOWN_TENANT_ID, "homeTenantId": WELL_KNOWN_TENANT_ID,
                "displayName": self.display_name, "state": "Enabled", "authorizationSource": "RoleBased",
                "managedByTenants": [],
                "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                         "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}}


@dataclasses.dataclass
class ResourceGroup(Record):
    subscription: str
    name: str  # as first created: ARM keeps the casing of the creator
    location: str
    tags: Optional[dict] = None
    managed_by: Optional[str] = None

    def render(self) -> dict:
        out = {"id": f"/subscriptions/{self.subscription}/resourceGroups/{self.name}", "name": self.name,
               "type": GROUP_TYPE, "location": self.location, "properties": {"provisioningState": "Succeeded"}}
        if self.tags is not None:
            out["tags"] = self.tags
        if self.managed_by is not None:
            out["managedBy"] = self.managed_by
        return out


class ResourcesBackend:
    def __init__(self, store: Store):
        self.store = store
        self.subscriptions: Dict[str, Subscription] = store.table("subscriptions", Subscription)
        self.groups: Dict[str, ResourceGroup] = store.table("resourceGroups", ResourceGroup)
        self._on_group_deleted: List[Callable[[str, str], None]] = []
        self._on_subscription_added: List[Callable[[str], None]] = []
        self._listers: List[Callable[[str], Iterable[dict]]] = []

    def on_group_deleted(self, callback: Callable[[str, str], None]) -> None:
        """`callback(subscription, group_name)` runs inside the delete, so the resources in the group go with it."""
        self._on_group_deleted.append(callback)

    def on_subscription_added(self, callback: Callable[[str], None]) -> None:
        """`callback(subscription)` runs when a subscription is created, so that it starts with the registrations
        every subscription has (Microsoft.Features plugs itself in here)."""
        self._on_subscription_added.append(callback)

    def on_listing(self, lister: Callable[[str], Iterable[dict]]) -> None:
        """`lister(subscription)` gives a room's tracked resources as the generic list shows them (id, name, type,
        location, tags, ..., and createdTime, changedTime, provisioningState for `$expand`); it runs inside the
        list's transaction."""
        self._listers.append(lister)

    def initial_state(self) -> None:
        """The start state: the well-known subscription alone."""
        self.add_subscription(WELL_KNOWN_SUBSCRIPTION_ID, SUBSCRIPTION_DISPLAY_NAME)

    # ---- subscriptions and tenants --------------------------------------------------------------
    def check_subscription(self, sub: str) -> str:
        """The subscription's id as stored (lower case), or ARM's 404."""
        with self.store.lock:  # a read: no transitions to run, nothing to save
            if sub.lower() not in self.subscriptions:
                raise EmulatorError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        return sub.lower()

    def add_subscription(self, sub: str, display_name: Optional[str] = None) -> bool:
        """Declare a subscription (the seed document); False when it existed (its display name may change)."""
        with self.store.tx():
            existing = self.subscriptions.get(sub.lower())
            if existing is not None:
                if display_name:
                    existing.display_name = display_name
                    self.store.changed()
                return False
            self.subscriptions[sub.lower()] = Subscription(
                subscription_id=sub.lower(), display_name=display_name or f"Emulated Subscription {sub.lower()}")
            for callback in self._on_subscription_added:
                callback(sub.lower())
            self.store.changed()
            return True

    def subscription(self, sub: str = WELL_KNOWN_SUBSCRIPTION_ID) -> dict:
        with self.store.tx():
            return self.subscriptions[self.check_subscription(sub)].render()

    def list_subscriptions(self) -> list:
        with self.store.tx():
            return [rec.render() for rec in self.subscriptions.values()]

    @staticmethod
    def tenants() -> list:
        return [{"id": f"/tenants/{WELL_KNOWN_TENANT_ID}", "tenantId": WELL_KNOWN_TENANT_ID,
                 "tenantCategory": "Home", "displayName": TENANT_DISPLAY_NAME, "defaultDomain": TENANT_DOMAIN,
                 "domains": [TENANT_DOMAIN]}]

    # ---- resource groups ------------------------------------------------------------------------
    def group(self, sub: str, name: str) -> ResourceGroup:
        """The group, or ARM's 404 (callers hold the transaction)."""
        rec = self.groups.get(group_key(self.check_subscription(sub), name))
        if rec is None:
            raise resource_group_not_found(name)
        return rec

    def put_group(self, sub: str, name: str, body) -> tuple:
        sub = self.check_subscription(sub)
        location = body.get("location") if isinstance(body, dict) else None
        if not location:
            raise EmulatorError(400, "LocationRequired", "The location property is required for this definition.")
        validation.check(_GROUP_BODY, body, _invalid)
        validation.check_name(name, validation.RESOURCE_GROUP_NAME, "resource group",
                              "1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'",
                              code="InvalidResourceGroupName")
        with self.store.tx():
            existing = self.groups.get(group_key(sub, name))
            if existing and existing.location.lower() != location.lower():
                raise EmulatorError(409, "InvalidResourceGroupLocation",
                                    f"Invalid resource group location '{location}'. The Resource group already "
                                    f"exists in location '{existing.location}'.")
            rec = ResourceGroup(subscription=sub, name=existing.name if existing else name, location=location,
                                tags=body.get("tags"), managed_by=body.get("managedBy"))
            self.groups[group_key(sub, name)] = rec
            self.store.changed()
            return (200 if existing else 201), rec.render()

    def seed_group(self, sub: str, name: str, location: str, tags: Optional[dict] = None) -> ResourceGroup:
        with self.store.tx():
            sub = self.check_subscription(sub)
            rec = self.groups[group_key(sub, name)] = ResourceGroup(subscription=sub, name=name, location=location,
                                                                    tags=tags)
            self.store.changed()
            return rec

    def ensure_group(self, sub: str, name: str, location: str) -> ResourceGroup:
        """The group, created when missing (seeding a cluster into a group nobody declared)."""
        with self.store.tx():
            return self.groups.get(group_key(sub, name)) or self.seed_group(sub, name, location)

    def get_group(self, sub: str, name: str) -> dict:
        with self.store.tx():
            return self.group(sub, name).render()

    def list_groups(self, sub: str) -> list:
        with self.store.tx():
            sub = self.check_subscription(sub)
            return [rec.render() for rec in self.groups.values() if rec.subscription == sub]

    def delete_group(self, sub: str, name: str) -> None:
        with self.store.tx():
            rec = self.group(sub, name)
            for callback in self._on_group_deleted:
                callback(rec.subscription, rec.name)
            del self.groups[group_key(rec.subscription, rec.name)]
            self.store.changed()

    # ---- the generic resource list ----------------------------------------------------------------
    def list_resources(self, sub: str, group: Optional[str], filter_text: Optional[str], expand: Optional[str],
                       top: Optional[int], skip_token: Optional[str]):
        """(a page of the resources, the skip token of the next page or None). The page holds `top` resources (all
        of them without `$top`); a skip token the emulator did not make reads as the list's end (the service's own,
        in a replayed recording, page over partitions the emulator does not have)."""
        terms = parse_filter(filter_text)
        wanted = {e.strip().lower() for e in (expand or "").split(",") if e.strip()}
        unknown = wanted - {e.lower() for e in EXPANDABLE}
        if unknown:
            raise EmulatorError(400, "InvalidExpandQueryString", f"The $expand '{expand}' is not supported: it may "
                                f"name {', '.join(EXPANDABLE)}.")
        if top is not None and not 1 <= top <= MAX_TOP:
            raise EmulatorError(400, "InvalidTopInQueryString", f"The $top {top} is out of range: 1 to {MAX_TOP}.")
        with self.store.tx():
            sub = self.check_subscription(sub)
            if group is not None:
                group = self.group(sub, group).name
                terms = [*terms, ("resourcegroup", group)]
            found = sorted((r for lister in self._listers for r in lister(sub) if _matches(r, terms)),
                           key=lambda r: r["id"].lower())
        start = 0
        if skip_token is not None:
            start = int(skip_token[1:]) if re.fullmatch(r"o\d{1,9}", skip_token) else len(found)
        end = len(found) if top is None else start + top
        page = [{k: v for k, v in r.items() if k not in EXPANDABLE or k.lower() in wanted} for r in found[start:end]]
        return page, (f"o{end}" if end < len(found) else None)


# ---- the generic resource list (GET /subscriptions/{s}[/resourceGroups/{g}]/resources) -------------------------
# The `$filter` terms ARM's resource list takes that the emulator evaluates: `field eq 'value'` joined by `and`
# (ARM's reference for Resources - List; `az resource list` sends these). A filter beyond them is refused, not
# ignored: a list that silently ignored it would show resources the caller filtered out.
FILTER_FIELDS = {"resourcetype": "type", "resourcegroup": None, "name": "name", "location": "location",
                 "tagname": None, "tagvalue": None}
EXPANDABLE = ("createdTime", "changedTime", "provisioningState")
_TERM = re.compile(r"\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*", re.I)
MAX_TOP = 1000


def _bad_filter(text: str, why: str) -> EmulatorError:
    return EmulatorError(400, "InvalidFilterInQueryString", f"The $filter '{text}' is not supported: {why}. The "
                         "emulator evaluates resourceType, resourceGroup, name, location, tagName and tagValue "
                         "with 'eq', joined by 'and'.")


def parse_filter(text: Optional[str]) -> List[Tuple[str, str]]:
    """[(field, value)], fields lower case, from a `$filter`; ARM's 400 for what the emulator cannot evaluate."""
    if not text or not text.strip():
        return []
    terms = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.I):
        m = _TERM.fullmatch(part)
        if m is None or m.group(1).lower() not in FILTER_FIELDS:
            raise _bad_filter(text, f"'{part.strip()}' is not a term it evaluates")
        terms.append((m.group(1).lower(), m.group(2).replace("''", "'")))
    fields = [f for f, _ in terms]
    if "tagvalue" in fields and "tagname" not in fields:
        raise _bad_filter(text, "tagValue needs a tagName")
    return terms


def _group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    return parts[4] if len(parts) > 4 and parts[3].lower() == "resourcegroups" else ""


def _matches(resource: dict, terms: List[Tuple[str, str]]) -> bool:
    tags = resource.get("tags") or {}
    tag = next((v for f, v in terms if f == "tagname"), None)
    for field, value in terms:
        if field == "resourcegroup":
            if _group_of(resource["id"]).lower() != value.lower():
                return False
        elif field == "tagname":
            if not any(k.lower() == value.lower() for k in tags):
                return False
        elif field == "tagvalue":
            if not any(k.lower() == tag.lower() and v == value for k, v in tags.items()):
                return False
        elif str(resource.get(FILTER_FIELDS[field], "")).lower() != value.lower():
            return False
    return True
