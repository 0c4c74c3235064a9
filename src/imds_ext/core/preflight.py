"""Client-side preflight: everything the service would refuse, found before anything changes.

Pure functions over the wire-format cluster (a Mapping with camelCase keys: the SDK's models are such
mappings) and the facts gathered around it. No I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Mapping, Optional, Sequence

from imds_ext.core import addons, constants
from imds_ext.core.cluster import (agent_pools, busy_pools, is_in_progress, oidc_issuer_enabled, properties,
                                   provisioning_state, workload_identity_enabled)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    fix: Optional[str] = None

    def to_dict(self):
        return {"code": self.code, "message": self.message, "fix": self.fix}


@dataclass
class Environment:
    """What preflight needs to know besides the cluster itself."""

    feature_state: Optional[str] = None  # Microsoft.ContainerService/IMDSRestrictionPreview
    provider_state: Optional[str] = None  # Microsoft.ContainerService
    extensions: Sequence[Mapping] = ()
    custom_feature_header: bool = False  # AKSHTTPCustomFeatures names the feature for this request
    enable_oidc_issuer: bool = False  # the same command turns the issuer on
    cli: str = "az"  # the command the fixes name: az, or az-imds standalone


@dataclass
class PreflightResult:
    blockers: List[Finding] = field(default_factory=list)
    warnings: List[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.blockers


def feature_check(env: Environment) -> List[Finding]:
    """The subscription-level preview registration (shared by create and update)."""
    found = []
    if not env.custom_feature_header and env.feature_state != "Registered":
        ns, name = constants.CONTAINER_SERVICE_NAMESPACE, constants.FEATURE_NAME
        provider = f"{env.cli} provider register --namespace {ns} --wait"
        if env.cli == "az":  # `az feature register` cannot wait
            fix = (f"az feature register --namespace {ns} --name {name}; once 'az feature show --namespace {ns} "
                   f"--name {name}' says Registered: {provider}")
        else:
            fix = f"{env.cli} feature register --namespace {ns} --name {name} --wait && {provider}"
        found.append(Finding(
            "FeatureNotRegistered",
            f"The preview feature '{constants.FEATURE_ID}' is {env.feature_state or 'NotRegistered'} on this "
            "subscription; it must be Registered.", fix))
    elif (not env.custom_feature_header and env.provider_state is not None
          and env.provider_state != "Registered"):
        found.append(Finding(
            "ProviderNotRegistered",
            f"The resource provider '{constants.CONTAINER_SERVICE_NAMESPACE}' is {env.provider_state}; "
            "re-register it so the feature registration propagates.",
            f"{env.cli} provider register --namespace {constants.CONTAINER_SERVICE_NAMESPACE} --wait"))
    return found


def _cluster_blockers(cluster: Mapping, env: Environment, g: str, n: str) -> List[Finding]:
    found = []
    props = properties(cluster)
    if not oidc_issuer_enabled(cluster) and not env.enable_oidc_issuer:
        found.append(Finding(
            "OIDCIssuerDisabled",
            "The OIDC issuer is off; IMDS restriction requires it. (It cannot be turned off again.)",
            f"az aks update -g {g} -n {n} --enable-oidc-issuer (or add --enable-oidc-issuer to this command)"))
    for pool in agent_pools(cluster):
        name = pool.get("name", "?")
        if (pool.get("osType") or "Linux").lower() == "windows":
            found.append(Finding(
                "WindowsNodePool",
                f"Node pool '{name}' runs Windows; IMDS restriction supports Linux pools only.",
                f"az aks nodepool delete -g {g} --cluster-name {n} -n {name}"))
        elif (pool.get("type") or "").lower() == "virtualmachines":
            found.append(Finding(
                "VirtualMachinesNodePool",
                f"Node pool '{name}' is of type VirtualMachines, which the preview does not support.",
                f"az aks nodepool delete -g {g} --cluster-name {n} -n {name}"))
    for what in addons.incompatible_features(props):
        found.append(Finding("IncompatibleAddon", f"{what.display} is enabled and does not work with IMDS "
                             "restriction.", what.disable_command.format(g=g, n=n)))
    for ext in env.extensions:
        display = addons.incompatible_extension_name(ext)
        if display:
            ext_name = ext.get("name", "?")
            found.append(Finding(
                "IncompatibleExtension",
                f"Cluster extension '{ext_name}' ({display}) does not work with IMDS restriction.",
                f"az k8s-extension delete -g {g} -c {n} -t managedClusters -n {ext_name}"))
    return found


def _busy(cluster: Mapping, g: str, n: str, cli: str) -> List[Finding]:
    state, busy = provisioning_state(cluster), busy_pools(cluster)
    if not is_in_progress(state) and not busy:
        return []
    what = f"the cluster is {state}" if is_in_progress(state) else f"node pool(s) {', '.join(busy)} are busy"
    return [Finding("OperationInProgress", f"Another operation is in progress: {what}.",
                    f"wait for it to finish ('{cli} aks update --enable-imds-restriction' / "
                    "'--disable-imds-restriction' waits for it by itself)")]


def _workload_identity_warning(cluster: Mapping, g: str, n: str) -> List[Finding]:
    found = []
    if ((properties(cluster).get("podIdentityProfile") or {}).get("enabled")):
        found.append(Finding(
            "PodIdentityEnabled",
            "The AKS pod identity add-on is on: the pods it serves take their tokens through IMDS and lose them. "
            "Move them to Microsoft Entra Workload ID first ('aks imds-restriction scan' lists them).",
            f"az aks update -g {g} -n {n} --disable-pod-identity (once they are moved)"))
    if not workload_identity_enabled(cluster):
        found.append(Finding(
            "WorkloadIdentityDisabled",
            "Workload identity is off: pods that get tokens from IMDS today will lose them. Move them to "
            "Microsoft Entra Workload ID.",
            f"az aks update -g {g} -n {n} --enable-workload-identity"))
    return found


def check_enable(cluster: Mapping, env: Environment, resource_group: str, name: str) -> PreflightResult:
    """Everything that would stop `podLinkLocalAccess = None` on an existing cluster."""
    blockers = (_busy(cluster, resource_group, name, env.cli) + feature_check(env)
                + _cluster_blockers(cluster, env, resource_group, name))
    return PreflightResult(blockers, _workload_identity_warning(cluster, resource_group, name))


def check_disable(cluster: Mapping, env: Environment, resource_group: str, name: str) -> PreflightResult:
    """Turning restriction off has no service preconditions besides an idle cluster."""
    return PreflightResult(_busy(cluster, resource_group, name, env.cli), [])


def check_create(cluster: Mapping, env: Environment, resource_group: str, name: str) -> PreflightResult:
    """`aks create --enable-imds-restriction`: the body about to be sent, checked like an update."""
    blockers = feature_check(env)
    if not oidc_issuer_enabled(cluster):
        blockers.append(Finding(
            "OIDCIssuerRequired",
            "IMDS restriction requires the OIDC issuer, and it cannot be turned off once on; "
            "pass --enable-oidc-issuer to create the cluster with it.",
            "add --enable-oidc-issuer to this command"))
    strict = Environment(enable_oidc_issuer=True, extensions=env.extensions, cli=env.cli)
    blockers += _cluster_blockers(cluster, strict, resource_group, name)
    return PreflightResult(blockers, _workload_identity_warning(cluster, resource_group, name))


def format_blockers(result: PreflightResult, action: str) -> str:
    lines = [f"Cannot {action}: {len(result.blockers)} blocker(s) found, nothing was changed."]
    for i, b in enumerate(result.blockers, 1):
        lines.append(f"  {i}. [{b.code}] {b.message}")
        if b.fix:
            lines.append(f"     Fix: {b.fix}")
    return "\n".join(lines)
