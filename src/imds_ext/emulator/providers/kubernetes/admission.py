"""What the API server refuses before anything is stored (docs/aks-kubernetes.md):

- **RBAC**: the user credential (not the cluster admin) may be held to a set of rules (`ClusterFacts.user_rules`,
  `[{"verbs": [...], "resources": [...]}]`, `*` for any); a refusal is the API server's 403 sentence, naming verb,
  resource, group, namespace and user.
- **Pod Security admission** (kubernetes.io, "Pod Security Standards"): a pod in a namespace whose
  `pod-security.kubernetes.io/enforce` label (or, without one, the cluster's default level) is `baseline` may not
  use host namespaces or privileged containers; `restricted` also requires non-root, no privilege escalation, all
  capabilities dropped and a RuntimeDefault or Localhost seccomp profile.
- **apps validation** of a DaemonSet's template (Kubernetes' ValidateDaemonSetSpec): its pods restart always and
  may not carry a deadline.
- **A policy webhook** (Azure Policy's Gatekeeper, AKS Deployment Safeguards), which namespace labels do not
  change: `ClusterFacts.deny_host_network` refuses host-network pods with Gatekeeper's sentence.
"""
from __future__ import annotations

from typing import List, Optional

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
LEVELS = ("privileged", "baseline", "restricted")


def rbac_refusal(rules: Optional[List[dict]], user: str, verb: str, api_version: str, plural: str,
                 namespace: str) -> Optional[str]:
    """The 403 message when `rules` do not let `user` do `verb` on `plural`; None when they do."""
    if rules is None:
        return None
    for rule in rules:
        verbs, resources = rule.get("verbs") or [], rule.get("resources") or []
        if ("*" in verbs or verb in verbs) and ("*" in resources or plural in resources):
            return None
    group = api_version.split("/")[0] if "/" in api_version else ""
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return f'{plural} is forbidden: User "{user}" cannot {verb} resource "{plural}" in API group "{group}" {where}'


def _baseline(spec: dict) -> List[str]:
    found = [f"host namespaces ({name}=true)" for name in ("hostNetwork", "hostPID", "hostIPC") if spec.get(name)]
    privileged = [c.get("name", "") for c in _containers(spec) if (c.get("securityContext") or {}).get("privileged")]
    if privileged:
        found.append(f"privileged (containers {', '.join(privileged)} must not set securityContext.privileged=true)")
    return found


def _containers(spec: dict) -> List[dict]:
    return (spec.get("containers") or []) + (spec.get("initContainers") or [])


def _restricted(spec: dict) -> List[str]:
    pod = spec.get("securityContext") or {}
    found = []
    for c in _containers(spec):
        ctx = c.get("securityContext") or {}
        name = c.get("name", "")
        if ctx.get("allowPrivilegeEscalation") is not False:
            found.append(f'allowPrivilegeEscalation != false (container "{name}")')
        if "ALL" not in ((ctx.get("capabilities") or {}).get("drop") or []):
            found.append(f'unrestricted capabilities (container "{name}" must drop ALL)')
        if not (ctx.get("runAsNonRoot", pod.get("runAsNonRoot"))):
            found.append(f'runAsNonRoot != true (container "{name}")')
        seccomp = (ctx.get("seccompProfile") or pod.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f'seccompProfile (container "{name}" must set type to RuntimeDefault or Localhost)')
    return found


def pod_security_refusal(namespace_labels: dict, cluster_default: str, spec: dict) -> Optional[str]:
    """The admission message when Pod Security refuses a pod with `spec` in the namespace; None when it admits it."""
    level = namespace_labels.get(ENFORCE_LABEL) or cluster_default
    if level not in LEVELS or level == "privileged":
        return None
    violations = _baseline(spec) + (_restricted(spec) if level == "restricted" else [])
    if not violations:
        return None
    return f'violates PodSecurity "{level}:latest": ' + ", ".join(violations)


def policy_refusal(deny_host_network: bool, spec: dict) -> Optional[str]:
    """Gatekeeper's message for a pod that Azure Policy's host-network constraint refuses; None when admitted."""
    if deny_host_network and spec.get("hostNetwork"):
        return ('admission webhook "validation.gatekeeper.sh" denied the request: [azurepolicy-k8sazurev2hostnetworking'
                'ports] The specified hostNetwork and hostPort are not allowed')
    return None


def daemonset_invalid(name: str, body: dict) -> Optional[str]:
    """The 422 message apps validation gives a DaemonSet whose template restarts otherwise or has a deadline."""
    spec = ((body.get("spec") or {}).get("template") or {}).get("spec") or {}
    problems = []
    if spec.get("restartPolicy", "Always") != "Always":
        problems.append(f'spec.template.spec.restartPolicy: Unsupported value: "{spec["restartPolicy"]}": '
                        'supported values: "Always"')
    if spec.get("activeDeadlineSeconds") is not None:
        problems.append("spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is "
                        "not Supported")
    return f'DaemonSet.apps "{name}" is invalid: ' + ", ".join(problems) if problems else None
