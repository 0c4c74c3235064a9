"""The admin API's seed document: resources loaded as given, bypassing the service's rules (to build the clusters
the rules would refuse, and the states a test starts from). Its shape is in docs/emulator.md."""
from __future__ import annotations

from imds_ext.emulator import validation
from imds_ext.emulator.constants import RESTRICTED, UNRESTRICTED, WELL_KNOWN_SUBSCRIPTION_ID
from imds_ext.emulator.errors import EmulatorError

_STRING = {"type": "string", "minLength": 1}
_STATES = {"type": "object", "additionalProperties": _STRING}
SEED = validation.schema({
    "type": "object", "additionalProperties": False,
    "properties": {
        "features": _STATES,
        "providers": _STATES,
        "resourceGroups": {"type": "array", "items": {
            "type": "object", "required": ["name"],
            "properties": {"name": _STRING, "location": _STRING, "tags": {"type": ["object", "null"]}}}},
        "clusters": {"type": "array", "items": {
            "type": "object", "required": ["resourceGroup", "name", "cluster"],
            "properties": {"resourceGroup": _STRING, "name": _STRING, "cluster": {"type": "object"},
                           "nodes": {"type": "object", "additionalProperties": {
                               "type": "object", "required": ["podLinkLocalAccess"],
                               "properties": {"podLinkLocalAccess": {"enum": [RESTRICTED, UNRESTRICTED]}}}}}}},
        "kubernetes": {"type": "array", "items": {
            "type": "object", "required": ["resourceGroup", "cluster", "objects"],
            "properties": {"resourceGroup": _STRING, "cluster": _STRING, "objects": {"type": "array", "items": {
                "type": "object", "required": ["kind", "metadata"],
                "properties": {"kind": _STRING, "apiVersion": _STRING, "metadata": {
                    "type": "object", "required": ["name"], "properties": {"name": _STRING}}}}}}}},
        "extensions": {"type": "array", "items": {
            "type": "object", "required": ["resourceGroup", "cluster", "name"],
            "anyOf": [{"required": ["extensionType"]}, {"required": ["properties"]}],
            "properties": {"resourceGroup": _STRING, "cluster": _STRING, "name": _STRING, "extensionType": _STRING,
                           "properties": {"type": "object"}}}},
    },
})


def _items(doc: dict, key: str, kind: type):
    return doc.get(key) or kind()


def seed(backend, doc) -> dict:
    """Load `doc` into `backend`; the counts of what was loaded."""
    validation.check(SEED, doc, lambda message, target: EmulatorError(
        400, "InvalidSeed", f"{message} See docs/emulator.md for the seed document's shape.", target=target))
    counts = {"resourceGroups": 0, "clusters": 0, "extensions": 0, "features": 0, "providers": 0, "kubernetes": 0}
    try:
        with backend.store.tx():
            for feature_id, state in _items(doc, "features", dict).items():
                backend.features.seed_feature(feature_id, state)
                counts["features"] += 1
            for namespace, state in _items(doc, "providers", dict).items():
                backend.features.seed_provider(namespace, state)
                counts["providers"] += 1
            for group in _items(doc, "resourceGroups", list):
                backend.resources.seed_group(group["name"], group.get("location", "eastus"), group.get("tags"))
                counts["resourceGroups"] += 1
            for item in _items(doc, "clusters", list):
                enforced = {pool: node["podLinkLocalAccess"] for pool, node in (item.get("nodes") or {}).items()}
                backend.container_service.seed_cluster(item["resourceGroup"], item["name"], item["cluster"],
                                                       enforced)
                counts["clusters"] += 1
            for ext in _items(doc, "extensions", list):
                backend.extensions.put_extension(
                    WELL_KNOWN_SUBSCRIPTION_ID, ext["resourceGroup"], ext["cluster"], ext["name"],
                    {"properties": ext.get("properties") or {"extensionType": ext["extensionType"]}}, seeding=True)
                counts["extensions"] += 1
            for item in _items(doc, "kubernetes", list):
                counts["kubernetes"] += backend.kubernetes.seed(item["resourceGroup"], item["cluster"],
                                                                item["objects"])
    except EmulatorError as e:  # a cluster body the service itself would refuse
        raise EmulatorError(400, "InvalidSeed", f"The seed document has a resource the emulator cannot load: "
                            f"{e.message}", target=e.target) from None
    return counts
