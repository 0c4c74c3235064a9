"""What a user may ask the API server about itself: `SelfSubjectAccessReview` and `SelfSubjectRulesReview`
(authorization.k8s.io/v1, what `kubectl auth can-i` sends) answered from the modelled RBAC (the user's
`ClusterFacts.user_rules`, admission.rbac_refusal; the cluster admin may do everything), and `SelfSubjectReview`
(authentication.k8s.io/v1, `kubectl auth whoami`): the user and its groups."""
from __future__ import annotations

from typing import List, Optional

from imds_ext.emulator.providers.kubernetes import admission

# Discovery, version and health: what the API server's system:discovery and system:public-info-viewer roles let
# every authenticated user read.
PUBLIC_PATHS = ("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz", "/version", "/version/",
                "/openapi", "/openapi/*")
ADMIN_GROUPS = ["system:masters", "system:authenticated"]


def _public(path: str) -> bool:
    return any(path == p or (p.endswith("*") and path.startswith(p[:-1])) for p in PUBLIC_PATHS)


def access(rules: Optional[List[dict]], user: str, spec: dict) -> dict:
    """The status of a SelfSubjectAccessReview of `spec` (its resourceAttributes or nonResourceAttributes)."""
    resource = spec.get("resourceAttributes")
    if resource is None:
        path = (spec.get("nonResourceAttributes") or {}).get("path", "")
        verb = (spec.get("nonResourceAttributes") or {}).get("verb", "get")
        allowed = rules is None or (verb == "get" and _public(path))
        return {"allowed": allowed, **({"reason": "RBAC: allowed by ClusterRoleBinding \"system:discovery\""}
                                       if allowed and rules is not None else {})}
    group, plural = resource.get("group") or "", resource.get("resource") or ""
    if resource.get("subresource"):
        plural = f"{plural}/{resource['subresource']}"
    refusal = admission.rbac_refusal(rules, user, resource.get("verb") or "", f"{group}/v1" if group else "v1",
                                     plural, resource.get("namespace") or "")
    if refusal is None:
        return {"allowed": True, "reason": "RBAC: allowed by the user's rules" if rules is not None else
                'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group '
                '"system:masters"'}
    return {"allowed": False, "reason": ""}


def rules(rules_of_user: Optional[List[dict]]) -> dict:
    """The status of a SelfSubjectRulesReview: the user's rules, in RBAC's shape."""
    if rules_of_user is None:
        resource_rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
        non_resource = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
    else:
        resource_rules = [{"verbs": list(r.get("verbs") or []), "apiGroups": ["*"],
                           "resources": list(r.get("resources") or [])} for r in rules_of_user]
        non_resource = [{"verbs": ["get"], "nonResourceURLs": list(PUBLIC_PATHS)}]
    return {"resourceRules": resource_rules, "nonResourceRules": non_resource, "incomplete": False}


def user_info(user: str, admin: bool) -> dict:
    return {"userInfo": {"username": user, "groups": ADMIN_GROUPS if admin else ["system:authenticated"]}}
