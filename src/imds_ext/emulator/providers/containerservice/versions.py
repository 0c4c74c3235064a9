"""Kubernetes versions: which the service offers, what a version in a PUT resolves to, which upgrades it allows,
and the documents that list them (kubernetesVersions, upgrade profiles)."""
from __future__ import annotations

from typing import List, Optional, Tuple

from imds_ext.emulator.constants import (
    DEFAULT_KUBERNETES_VERSION, KUBERNETES_VERSIONS, LATEST_NODE_IMAGE, LATEST_WINDOWS_NODE_IMAGE,
)
from imds_ext.emulator.errors import bad_request


def _key(version: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


class KubernetesVersions:
    """The versions one region offers: patch versions, and the default minor."""

    def __init__(self, patches=KUBERNETES_VERSIONS, default: str = DEFAULT_KUBERNETES_VERSION):
        self.patches = tuple(sorted(patches, key=_key))
        self.minors = sorted({_minor(v) for v in self.patches}, key=_key)
        self.default_minor = _minor(default) if _minor(default) in self.minors else self.minors[-1]

    def latest_patch(self, minor: str) -> str:
        return max((v for v in self.patches if _minor(v) == minor), key=_key, default=minor)

    def resolve(self, requested: Optional[str], current: Optional[str] = None,
                what: str = "kubernetesVersion") -> Tuple[str, str]:
        """(the version as the resource shows it, the patch it runs) for a version in a PUT. "" or absent means:
        what runs now (an update), or the default minor (a create), as the service resolves it. Refuses a version
        the region does not offer, a downgrade, and an upgrade that skips a minor."""
        if not requested:
            if current:
                return current, current
            return self.default_minor, self.latest_patch(self.default_minor)
        if requested.count(".") == 1:
            if requested not in self.minors:
                raise self._unsupported(requested, what)
            patch = current if current and _minor(current) == requested else self.latest_patch(requested)
        else:
            if requested not in self.patches:
                raise self._unsupported(requested, what)
            patch = requested
        if current and current != patch:
            if _key(patch) < _key(current):
                raise bad_request("NotAllowedDowngrade", f"Downgrading {what} from {current} to {patch} is not "
                                  "allowed.", target=f"properties.{what}")
            if _key(_minor(patch)) > _key(_minor(current)) and patch not in self.upgrades(current):
                raise bad_request("UpgradeNotAllowed", f"Upgrading {what} from {current} to {patch} is not allowed: "
                                  f"upgrade one minor version at a time (allowed: "
                                  f"{', '.join(self.upgrades(current))}).", target=f"properties.{what}")
        return requested, patch

    def _unsupported(self, version: str, what: str):
        return bad_request("VersionNotSupported", f"Version {version} is not supported in this region. Please use "
                           f"'az aks get-versions' to get the supported version list in this region. Supported "
                           f"versions: {', '.join(self.patches)}.", target=f"properties.{what}")

    def upgrades(self, current: str) -> List[str]:
        """Later patches of the same minor, and every patch of the next minor."""
        index = self.minors.index(_minor(current)) if _minor(current) in self.minors else -1
        following = self.minors[index + 1] if 0 <= index < len(self.minors) - 1 else None
        return [v for v in self.patches
                if (_minor(v) == _minor(current) and _key(v) > _key(current)) or _minor(v) == following]

    def document(self) -> dict:
        """The `kubernetesVersions` document of the region."""
        values = []
        for minor in self.minors:
            item = {"version": minor, "capabilities": {"supportPlan": ["KubernetesOfficial"]},
                    "patchVersions": {v: {"upgrades": self.upgrades(v)} for v in self.patches if _minor(v) == minor}}
            if minor == self.default_minor:
                item["isDefault"] = True
            values.append(item)
        return {"values": values}

    def cluster_upgrade_profile(self, cluster_id: str, current: str) -> dict:
        later = self.upgrades(current)
        return {"id": f"{cluster_id}/upgradeprofiles/default", "name": "default",
                "type": "Microsoft.ContainerService/managedClusters/upgradeprofiles",
                "properties": {"controlPlaneProfile": {
                    "kubernetesVersion": current, "osType": "Linux",
                    "upgrades": [{"kubernetesVersion": v} for v in sorted(later, key=_key, reverse=True)],
                    "componentsByReleases": _components(sorted({_minor(v) for v in [current, *later]}, key=_key))},
                    "agentPoolProfiles": None}}

    def pool_upgrade_profile(self, pool_id: str, current: str, os_type: str, control_plane: str) -> dict:
        """A pool upgrades up to its control plane's version, never past it (test_aks_get_upgrades: a pool on its
        cluster's version lists none, though the region offers newer ones)."""
        windows = os_type.lower() == "windows"
        upgrades = [v for v in self.upgrades(current) if _key(v) <= _key(control_plane)]
        return {"id": f"{pool_id}/upgradeProfiles/default", "name": "default",
                "type": "Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles",
                "properties": {"kubernetesVersion": current, "osType": "Windows" if windows else "Linux",
                               "upgrades": [{"kubernetesVersion": v} for v in upgrades] or None,
                               "latestNodeImageVersion": LATEST_WINDOWS_NODE_IMAGE if windows else LATEST_NODE_IMAGE,
                               "componentsByReleases": _components([_minor(current)])}}


def _components(minors) -> list:
    return [{"kubernetesVersion": minor, "components": []} for minor in minors]
