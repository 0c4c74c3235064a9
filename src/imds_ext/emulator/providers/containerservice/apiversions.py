"""What an older api-version shows of a managed cluster, and what a PUT in it keeps.

The cluster is stored as the newest preview shows it. An api-version older than the fields a cluster has answers
only the fields it has (an object whose fields are all newer shows as {}), and a PUT in it keeps the fields it cannot
express, as the service does: test_aks_automatic_sku (2025-08-26), where az's monitoring code reads and writes the
cluster at 2023-01-01 (#43, #44) and the next read at 2025-09-02-preview (#45) still has the overlay network, the
image cleaner, the node resource group's lockdown and the Automatic kind. A key the client sends that its version
does not have is dropped, as the service's deserializer drops it.

Which fields a version has comes from the service's REST specification, as the generated SDK's models carry it
(tools/api_fields.py writes one module a version). An api-version without such a module shows every field: the
stored shape is the newest, and the recordings' other versions (2024 to 2026) differ from it in no field the
emulator models.
"""
from __future__ import annotations

import copy
from typing import Optional

from imds_ext.emulator.constants import POD_LINK_LOCAL_ACCESS, UNRESTRICTED, supports_pod_link_local_access
from imds_ext.emulator.providers.containerservice import api_2023_01_01, paths

FIELDS = {api_2023_01_01.API_VERSION: copy.deepcopy(api_2023_01_01.MANAGED_CLUSTER)}
# Where the service answers beyond its specification: 2023-01-01 shows the API server's VNet integration, which
# the version's REST specification leaves out (test_aks_automatic_sku #43, #44).
FIELDS["2023-01-01"]["properties"]["apiServerAccessProfile"].update(enableVnetIntegration=True, subnetId=True)
# A version without networkPluginMode shows Azure CNI Overlay as plain Azure CNI, which has no pod CIDRs, and its
# PUT keeps them (test_aks_automatic_sku #43-#45).
OVERLAY_ONLY = ("podCidr", "podCidrs")
# Values 2023-01-01 shows by their older names, (path, stored, shown; None: left out), and a PUT of the shown value
# (or without it) stores the value as it was: the Standard tier is "Paid" (test_aks_automatic_sku #43-#45,
# 2025-08-26), the Base SKU "Basic" and network policy "none" is not shown (test_aks_create_with_azuremonitormetrics
# #33-#35, 2025-07-23).
SHOWN = {"2023-01-01": (
    (("sku", "tier"), "Standard", "Paid"),
    (("sku", "name"), "Base", "Basic"),
    (("properties", "networkProfile", "networkPolicy"), "none", None),
)}


def fields(api_version: str) -> Optional[dict]:
    return FIELDS.get(api_version.lower())


def show(resource: dict, api_version: str) -> dict:
    """The cluster as `api_version` shows it (a copy): the fields it has, and podLinkLocalAccess only in the
    previews that have the field (Unrestricted when unset)."""
    out = _fields_of(resource, api_version)
    network = out.get("properties", {}).get("networkProfile")
    if isinstance(network, dict):
        if supports_pod_link_local_access(api_version):
            network.setdefault(POD_LINK_LOCAL_ACCESS, UNRESTRICTED)
        else:
            network.pop(POD_LINK_LOCAL_ACCESS, None)
    return out


def _fields_of(resource: dict, api_version: str) -> dict:
    tree = fields(api_version)
    out = copy.deepcopy(resource)
    if tree is None:
        return out
    if _overlay(resource) and "networkPluginMode" not in tree["properties"]["networkProfile"]:
        for key in OVERLAY_ONLY:
            out["properties"]["networkProfile"].pop(key, None)
    out = _project(out, tree)
    for path, stored, shown in SHOWN.get(api_version.lower(), ()):
        parent = paths.parent(out, path)
        if parent is not None and parent.get(path[-1]) == stored:
            if shown is None:
                del parent[path[-1]]
            else:
                parent[path[-1]] = shown
    return out


def _overlay(resource: Optional[dict]) -> bool:
    network = ((resource or {}).get("properties") or {}).get("networkProfile")
    return isinstance(network, dict) and str(network.get("networkPluginMode") or "").lower() == "overlay"


def keep_unexpressed(body, stored: Optional[dict], api_version: str):
    """A PUT body in `api_version` with what the stored cluster has beyond that version put back (a copy)."""
    tree = fields(api_version)
    if tree is None or not isinstance(body, dict):
        return body
    out = _project(copy.deepcopy(body), tree)
    if stored:
        _restore(out, stored, tree)
        network = (out.get("properties") or {}).get("networkProfile")
        if _overlay(stored) and isinstance(network, dict):
            for key in OVERLAY_ONLY:
                if key in stored["properties"]["networkProfile"]:
                    network.setdefault(key, copy.deepcopy(stored["properties"]["networkProfile"][key]))
    for path, value, shown in SHOWN.get(api_version.lower(), ()):
        parent, before = paths.parent(out, path), paths.parent(stored or {}, path)
        if parent is not None and before is not None and before.get(path[-1]) == value and \
                parent.get(path[-1]) == shown:
            parent[path[-1]] = value
    return out


def _project(value, tree):
    if tree is True:
        return value
    if isinstance(value, dict):
        if "*" in tree:
            return {k: _project(v, tree["*"]) for k, v in value.items()}
        return {k: _project(v, tree[k]) for k, v in value.items() if k in tree}
    if isinstance(value, list) and "[]" in tree:
        return [_project(v, tree["[]"]) for v in value]
    return value


def _restore(sent: dict, stored: dict, tree: dict) -> None:
    for key, value in stored.items():
        sub = tree.get("*", tree.get(key))
        if sub is None:
            sent[key] = copy.deepcopy(value)
        elif isinstance(sub, dict) and isinstance(sent.get(key), dict) and isinstance(value, dict):
            _restore(sent[key], value, sub)
        elif isinstance(sub, dict) and "[]" in sub and isinstance(sent.get(key), list) and isinstance(value, list):
            # Agent pools (and other named lists) are matched by name; an item the PUT leaves out is gone.
            old = {str(v.get("name", "")).lower(): v for v in value if isinstance(v, dict) and v.get("name")}
            for item in sent[key]:
                if isinstance(item, dict) and isinstance(sub["[]"], dict) and \
                        str(item.get("name", "")).lower() in old:
                    _restore(item, old[str(item["name"]).lower()], sub["[]"])
