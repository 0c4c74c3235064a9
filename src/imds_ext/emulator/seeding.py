"""The admin API's seed document: resources loaded as given, bypassing the service's rules (to build the clusters
the rules would refuse, and the states a test starts from). Its shape is in docs/emulator.md."""
from __future__ import annotations

from imds_ext.emulator.constants import WELL_KNOWN_SUBSCRIPTION_ID
from imds_ext.emulator.errors import EmulatorError


def _items(doc: dict, key: str, kind: type):
    value = doc.get(key)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise EmulatorError(400, "InvalidSeed", f"'{key}' must be a JSON {'object' if kind is dict else 'array'}.")
    return value


def seed(backend, doc) -> dict:
    """Load `doc` into `backend`; the counts of what was loaded."""
    if not isinstance(doc, dict):
        raise EmulatorError(400, "InvalidSeed", "The seed document must be a JSON object.")
    counts = {"resourceGroups": 0, "clusters": 0, "extensions": 0, "features": 0, "providers": 0}
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
    except (KeyError, TypeError, AttributeError) as e:
        raise EmulatorError(400, "InvalidSeed", f"The seed document is malformed: {type(e).__name__} {e}. See "
                            "docs/emulator.md for its shape.") from None
    return counts
