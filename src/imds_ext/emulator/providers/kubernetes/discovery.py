"""Discovery, as the API server answers it (Kubernetes API concepts, "Discovery API"): `/api` (APIVersions),
`/api/v1` and `/apis/<group>/<version>` (APIResourceList), `/apis` (APIGroupList), `/apis/<group>` (APIGroup).

The built-in kinds this slice serves are listed with the names, short names, categories and verbs the real API
server gives them; custom resources come from the cluster's CustomResourceDefinitions (`spec.group`, `spec.names`,
`spec.scope`, the served `spec.versions`), and from custom objects seeded without one (their group, version and
plural, namespaced). Aggregated discovery (`apidiscovery.k8s.io/v2`) is not served: the HTTP layer answers plain
`application/json`, which makes kubectl and client-go fall back to these legacy documents.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple

_ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
_NO_COLLECTION = ["create", "delete", "get", "list", "patch", "update", "watch"]
_CREATE = ["create"]

# group/version -> [(plural, kind, namespaced, short names, categories, verbs)]
BUILT_IN: Dict[str, List[Tuple[str, str, bool, List[str], List[str], List[str]]]] = {
    "v1": [
        ("configmaps", "ConfigMap", True, ["cm"], [], _ALL),
        ("events", "Event", True, ["ev"], [], _ALL),
        ("namespaces", "Namespace", False, ["ns"], [], _NO_COLLECTION),
        ("nodes", "Node", False, ["no"], [], _ALL),
        ("pods", "Pod", True, ["po"], ["all"], _ALL),
        ("secrets", "Secret", True, [], [], _ALL),
        ("serviceaccounts", "ServiceAccount", True, ["sa"], [], _ALL),
        ("services", "Service", True, ["svc"], ["all"], _NO_COLLECTION),
        ("persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"], [], _ALL),
        ("persistentvolumes", "PersistentVolume", False, ["pv"], [], _ALL),
        ("resourcequotas", "ResourceQuota", True, ["quota"], [], _ALL),
        ("limitranges", "LimitRange", True, ["limits"], [], _ALL),
    ],
    "apps/v1": [
        ("daemonsets", "DaemonSet", True, ["ds"], ["all"], _ALL),
        ("deployments", "Deployment", True, ["deploy"], ["all"], _ALL),
        ("replicasets", "ReplicaSet", True, ["rs"], ["all"], _ALL),
        ("statefulsets", "StatefulSet", True, ["sts"], ["all"], _ALL),
    ],
    "batch/v1": [
        ("cronjobs", "CronJob", True, ["cj"], ["all"], _ALL),
        ("jobs", "Job", True, [], ["all"], _ALL),
    ],
    "networking.k8s.io/v1": [
        ("ingressclasses", "IngressClass", False, [], [], _ALL),
        ("ingresses", "Ingress", True, ["ing"], [], _ALL),
        ("networkpolicies", "NetworkPolicy", True, ["netpol"], [], _ALL),
    ],
    "autoscaling/v2": [
        ("horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ["hpa"], ["all"], _ALL),
    ],
    "storage.k8s.io/v1": [
        ("storageclasses", "StorageClass", False, ["sc"], [], _ALL),
    ],
    "coordination.k8s.io/v1": [
        ("leases", "Lease", True, [], [], _ALL),
    ],
    "scheduling.k8s.io/v1": [
        ("priorityclasses", "PriorityClass", False, ["pc"], [], _ALL),
    ],
    "apiextensions.k8s.io/v1": [
        ("customresourcedefinitions", "CustomResourceDefinition", False, ["crd", "crds"], ["api-extensions"], _ALL),
    ],
    "authentication.k8s.io/v1": [
        ("selfsubjectreviews", "SelfSubjectReview", False, [], [], _CREATE),
    ],
    "authorization.k8s.io/v1": [
        ("selfsubjectaccessreviews", "SelfSubjectAccessReview", False, [], [], _CREATE),
        ("selfsubjectrulesreviews", "SelfSubjectRulesReview", False, [], [], _CREATE),
    ],
}
# plural -> [(subresource, verbs)]: what kubectl looks for (`logs` needs pods/log; `scale` the scale subresource)
SUBRESOURCES = {"pods": [("eviction", ["create"]), ("log", ["get"]), ("status", ["get", "patch", "update"])],
                "namespaces": [("status", ["get", "patch", "update"])],
                "nodes": [("status", ["get", "patch", "update"])],
                "deployments": [("status", ["get", "patch", "update"])],
                "daemonsets": [("status", ["get", "patch", "update"])],
                "statefulsets": [("status", ["get", "patch", "update"])]}
for _plural in ("deployments", "replicasets", "statefulsets"):
    SUBRESOURCES.setdefault(_plural, []).append(("scale", ["get", "patch", "update"]))
# subresource -> (group, version, kind) where it is not the object's own
SUBRESOURCE_KINDS = {"scale": ("autoscaling", "v1", "Scale"), "eviction": ("policy", "v1", "Eviction")}


def _singular(kind: str) -> str:
    return kind.lower()


def kind_of(api_version: str, plural: str, crds: Iterable[dict] = ()) -> Optional[str]:
    """The kind of `plural` in `api_version`, built in or from a CustomResourceDefinition; None when unknown."""
    for name, kind, *_ in BUILT_IN.get(api_version, []):
        if name == plural:
            return kind
    for crd in crds:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        if names.get("plural") == plural and api_version.split("/")[0] == spec.get("group"):
            return names.get("kind")
    return None


def _custom(crds: Iterable[dict], seeded: Iterable[Tuple[str, str, str]]) -> Dict[str, List[dict]]:
    """group/version -> resources, for custom resources: each CRD's served versions, then the seeded objects'
    (api_version, plural, kind) that no CRD describes."""
    out: Dict[str, List[dict]] = {}
    for crd in crds:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        if not spec.get("group") or not names.get("plural"):
            continue
        versions = [v.get("name") for v in spec.get("versions") or [] if v.get("served", True) and v.get("name")]
        for version in versions or [spec.get("version") or "v1"]:
            out.setdefault(f"{spec['group']}/{version}", []).append({
                "name": names["plural"], "singularName": names.get("singular") or _singular(names.get("kind", "")),
                "namespaced": spec.get("scope", "Namespaced") != "Cluster", "kind": names.get("kind", ""),
                "verbs": _ALL, **({"shortNames": names["shortNames"]} if names.get("shortNames") else {}),
                **({"categories": names["categories"]} if names.get("categories") else {})})
    for api_version, plural, kind in seeded:
        if "/" not in api_version or api_version in BUILT_IN:
            continue
        listed = out.setdefault(api_version, [])
        if all(r["name"] != plural for r in listed):
            listed.append({"name": plural, "singularName": _singular(kind), "namespaced": True, "kind": kind,
                           "verbs": _ALL})
    return out


def _built_in(api_version: str) -> List[dict]:
    resources = []
    for plural, kind, namespaced, short, categories, verbs in BUILT_IN.get(api_version, []):
        resources.append({"name": plural, "singularName": _singular(kind), "namespaced": namespaced, "kind": kind,
                          "verbs": verbs, **({"shortNames": short} if short else {}),
                          **({"categories": categories} if categories else {})})
        for sub, sub_verbs in SUBRESOURCES.get(plural, []):
            entry = {"name": f"{plural}/{sub}", "singularName": "", "namespaced": namespaced, "kind": kind,
                     "verbs": sub_verbs}
            if sub in SUBRESOURCE_KINDS:
                group, version, entry["kind"] = SUBRESOURCE_KINDS[sub]
                entry.update(group=group, version=version)
            resources.append(entry)
    return resources


class Discovery:
    """The discovery documents of one cluster, from its CRDs and the custom objects seeded into it."""

    def __init__(self, crds: Iterable[dict], seeded: Iterable[Tuple[str, str, str]]):
        self.crds = list(crds)
        self.custom = _custom(self.crds, seeded)

    def group_versions(self) -> List[str]:
        return [gv for gv in BUILT_IN if gv != "v1"] + sorted(gv for gv in self.custom if gv not in BUILT_IN)

    def resources(self, api_version: str) -> Optional[List[dict]]:
        if api_version in BUILT_IN:
            return _built_in(api_version)
        return self.custom.get(api_version)

    def kind_of(self, api_version: str, plural: str) -> Optional[str]:
        found = kind_of(api_version, plural, self.crds)
        if found:
            return found
        return next((r["kind"] for r in self.custom.get(api_version, []) if r["name"] == plural), None)

    # ---- the documents -------------------------------------------------------------------------
    @staticmethod
    def api_versions(server_address: str) -> dict:
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}

    def resource_list(self, api_version: str) -> Optional[dict]:
        resources = self.resources(api_version)
        if resources is None:
            return None
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": api_version, "resources": resources}

    def _groups(self) -> Dict[str, List[str]]:
        groups: Dict[str, List[str]] = {}
        for gv in self.group_versions():
            group, version = gv.split("/")
            groups.setdefault(group, []).append(version)
        return groups

    @staticmethod
    def _group(name: str, versions: List[str]) -> dict:
        listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        return {"name": name, "versions": listed, "preferredVersion": listed[0]}

    def group_list(self) -> dict:
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [self._group(g, v) for g, v in self._groups().items()]}

    def group(self, name: str) -> Optional[dict]:
        versions = self._groups().get(name)
        if not versions:
            return None
        return {"kind": "APIGroup", "apiVersion": "v1", **self._group(name, versions)}
