"""The admin API's seed document: resources loaded as given, bypassing the service's rules (to build the clusters
the rules would refuse, and the states a test starts from). Its shape is in docs/emulator.md.

`subscriptions` declares subscriptions besides the well-known one (each with its own registrations); every item
of `resourceGroups`, `clusters`, `extensions` and `kubernetes` may name one (`subscription`, default the well-known
one). The top-level `features` and `providers` are the well-known subscription's, as before there were others.
"""
from __future__ import annotations

from imds_ext.emulator import validation
from imds_ext.emulator.constants import RESTRICTED, UNRESTRICTED, WELL_KNOWN_SUBSCRIPTION_ID
from imds_ext.emulator.errors import EmulatorError

_STRING = {"type": "string", "minLength": 1}
_STATES = {"type": "object", "additionalProperties": _STRING}
_GUID = {"type": "string", "pattern": "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"}
_IN = {"subscription": _GUID}  # which subscription an item belongs to
# What a test says of a cluster's Kubernetes side (providers/kubernetes/workloads.py, ClusterFacts).
_FACTS = {"type": "object", "additionalProperties": False, "properties": {
    "nodes": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": False,
                                                         "properties": {"ready": {"type": "boolean"},
                                                                        "unschedulable": {"type": "boolean"},
                                                                        "full": {"type": "boolean"}}}},
    "extraNodes": {"type": "array", "items": {"type": "object", "required": ["name"], "additionalProperties": False,
                                              "properties": {"name": _STRING,
                                                             "kind": {"enum": ["autoprovisioned", "virtual"]}}}},
    "registries": {"type": ["array", "null"], "items": _STRING},  # null: every registry but registry.invalid
    "images": {"type": "object", "additionalProperties": {
        "type": "object", "additionalProperties": False,
        "properties": {"commands": {"type": "array", "items": _STRING}, "memoryMiB": {"type": "number"}}}},
    "podEgress": {"type": "boolean"},
    "podSecurity": {"enum": ["privileged", "baseline", "restricted"]},
    "userRules": {"type": ["array", "null"], "items": {"type": "object", "required": ["verbs", "resources"],
                                            "properties": {"verbs": {"type": "array", "items": _STRING},
                                                           "resources": {"type": "array", "items": _STRING}}}},
    "namespaceDeletionSeconds": {"type": "number", "minimum": 0}, "denyHostNetwork": {"type": "boolean"},
    "containerSeconds": {"type": "number", "minimum": 0}}}
SEED = validation.schema({
    "type": "object", "additionalProperties": False,
    "properties": {
        "subscriptions": {"type": "array", "items": {
            "type": "object", "required": ["subscriptionId"], "additionalProperties": False,
            "properties": {"subscriptionId": _GUID, "displayName": _STRING, "features": _STATES,
                           "providers": _STATES}}},
        "features": _STATES,
        "providers": _STATES,
        "resourceGroups": {"type": "array", "items": {
            "type": "object", "required": ["name"],
            "properties": {**_IN, "name": _STRING, "location": _STRING, "tags": {"type": ["object", "null"]}}}},
        "clusters": {"type": "array", "items": {
            "type": "object", "required": ["resourceGroup", "name", "cluster"],
            "properties": {**_IN, "resourceGroup": _STRING, "name": _STRING, "cluster": {"type": "object"},
                           "nodes": {"type": "object", "additionalProperties": {
                               "type": "object", "required": ["podLinkLocalAccess"],
                               "properties": {"podLinkLocalAccess": {"enum": [RESTRICTED, UNRESTRICTED]}}}}}}},
        "kubernetes": {"type": "array", "items": {
            "type": "object", "required": ["resourceGroup", "cluster"],
            "properties": {**_IN, "resourceGroup": _STRING, "cluster": _STRING, "facts": _FACTS, "objects": {
                "type": "array", "items": {
                    "type": "object", "required": ["kind", "metadata"],
                    "properties": {"kind": _STRING, "apiVersion": _STRING, "metadata": {
                        "type": "object", "required": ["name"], "properties": {"name": _STRING}}}}}}}},
        "extensions": {"type": "array", "items": {
            "type": "object", "required": ["resourceGroup", "cluster", "name"],
            "anyOf": [{"required": ["extensionType"]}, {"required": ["properties"]}],
            "properties": {**_IN, "resourceGroup": _STRING, "cluster": _STRING, "name": _STRING,
                           "extensionType": _STRING, "properties": {"type": "object"}}}},
    },
})
_IN_A_SUBSCRIPTION = ("resourceGroups", "clusters", "extensions", "kubernetes")


def _items(doc: dict, key: str, kind: type):
    return doc.get(key) or kind()


def _sub(item: dict) -> str:
    return item.get("subscription", WELL_KNOWN_SUBSCRIPTION_ID).lower()


def _check_subscriptions(backend, doc: dict) -> None:
    """Every subscription an item names is declared (in this document, or before it): checked before anything is
    loaded, so that a document naming an unknown one changes nothing."""
    declared = {s["subscriptionId"].lower() for s in _items(doc, "subscriptions", list)}
    declared |= {s["subscriptionId"] for s in backend.resources.list_subscriptions()}
    for key in _IN_A_SUBSCRIPTION:
        for index, item in enumerate(_items(doc, key, list)):
            if _sub(item) not in declared:
                raise EmulatorError(400, "InvalidSeed", f"The seed document's {key}[{index}] is in the subscription "
                                    f"'{item['subscription']}', which is not declared: add it to "
                                    "\"subscriptions\" (see docs/emulator.md).", target=f"{key}[{index}].subscription")


def seed(backend, doc) -> dict:
    """Load `doc` into `backend`; the counts of what was loaded."""
    validation.check(SEED, doc, lambda message, target: EmulatorError(
        400, "InvalidSeed", f"{message} See docs/emulator.md for the seed document's shape.", target=target))
    counts = {"subscriptions": 0, "resourceGroups": 0, "clusters": 0, "extensions": 0, "features": 0,
              "providers": 0, "kubernetes": 0}
    try:
        with backend.store.tx():
            _check_subscriptions(backend, doc)
            registrations = [(WELL_KNOWN_SUBSCRIPTION_ID, doc)]
            for declared in _items(doc, "subscriptions", list):
                # A new subscription starts with the registrations every subscription has; the given ones follow.
                backend.resources.add_subscription(declared["subscriptionId"], declared.get("displayName"))
                registrations.append((declared["subscriptionId"], declared))
                counts["subscriptions"] += 1
            for sub, states in registrations:
                for feature_id, state in _items(states, "features", dict).items():
                    backend.features.seed_feature(sub, feature_id, state)
                    counts["features"] += 1
                for namespace, state in _items(states, "providers", dict).items():
                    backend.features.seed_provider(sub, namespace, state)
                    counts["providers"] += 1
            for group in _items(doc, "resourceGroups", list):
                backend.resources.seed_group(_sub(group), group["name"], group.get("location", "eastus"),
                                             group.get("tags"))
                counts["resourceGroups"] += 1
            for item in _items(doc, "clusters", list):
                enforced = {pool: node["podLinkLocalAccess"] for pool, node in (item.get("nodes") or {}).items()}
                backend.container_service.seed_cluster(_sub(item), item["resourceGroup"], item["name"],
                                                       item["cluster"], enforced)
                counts["clusters"] += 1
            for ext in _items(doc, "extensions", list):
                backend.extensions.put_extension(
                    _sub(ext), ext["resourceGroup"], ext["cluster"], ext["name"],
                    {"properties": ext.get("properties") or {"extensionType": ext["extensionType"]}}, seeding=True)
                counts["extensions"] += 1
            for item in _items(doc, "kubernetes", list):
                counts["kubernetes"] += backend.kubernetes.seed(_sub(item), item["resourceGroup"], item["cluster"],
                                                                item.get("objects") or [], item.get("facts"))
    except EmulatorError as e:  # a cluster body the service itself would refuse
        if e.code == "InvalidSeed":
            raise
        raise EmulatorError(400, "InvalidSeed", f"The seed document has a resource the emulator cannot load: "
                            f"{e.message}", target=e.target) from None
    return counts
