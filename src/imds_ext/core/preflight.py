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
    # What the fix costs, for one that takes something away (a pool and its workloads, the monitoring): such a fix
    # is an option to weigh, never shown as the one obvious command.
    cost: Optional[str] = None

    def to_dict(self):
        return {"code": self.code, "message": self.message, "fix": self.fix, "cost": self.cost}

    @property
    def advice(self) -> str:
        """The fix as the text output says it: "Fix: <command>", or, for a destructive one, what it costs first."""
        if not self.fix:
            return ""
        if self.cost:
            return f"Option, at a cost ({self.cost}): {self.fix}"
        return f"Fix: {self.fix}"


@dataclass
class Environment:
    """What preflight needs to know besides the cluster itself."""

    feature_state: Optional[str] = None  # Microsoft.ContainerService/IMDSRestrictionPreview
    provider_state: Optional[str] = None  # Microsoft.ContainerService
    extensions: Sequence[Mapping] = ()
    custom_feature_header: bool = False  # AKSHTTPCustomFeatures names the feature for this request
    enable_oidc_issuer: bool = False  # the same command turns the issuer on
    cli: str = "az"  # the command the fixes name: az, or az-imds standalone
    subscription: Optional[str] = None  # named in every fix command when the cluster is not in the default one

    def command(self, text: str, program: Optional[str] = None) -> str:
        """A fix command: `program` (az unless said) and `text`, naming the subscription when it must."""
        return f"{program or 'az'} {text}" + (f" --subscription {self.subscription}" if self.subscription else "")


@dataclass
class PreflightResult:
    blockers: List[Finding] = field(default_factory=list)
    warnings: List[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.blockers


# What a destructive fix is weighed against: keeping the add-on or pool and blocking IMDS by policy (issue 19).
OR_NETWORK_POLICY = "; or keep it and block IMDS with network policy ('aks imds-restriction network-policy apply')"


def feature_check(env: Environment) -> List[Finding]:
    """The subscription-level preview registration (shared by create and update)."""
    found = []
    if not env.custom_feature_header and env.feature_state != "Registered":
        ns, name = constants.CONTAINER_SERVICE_NAMESPACE, constants.FEATURE_NAME
        provider = env.command(f"provider register --namespace {ns} --wait", env.cli)
        if env.cli == "az":  # `az feature register` cannot wait
            fix = (f"{env.command(f'feature register --namespace {ns} --name {name}')}; once "
                   f"'{env.command(f'feature show --namespace {ns} --name {name}')}' says Registered: {provider}")
        else:
            fix = f"{env.command(f'feature register --namespace {ns} --name {name} --wait', env.cli)} && {provider}"
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
            env.command(f"provider register --namespace {constants.CONTAINER_SERVICE_NAMESPACE} --wait", env.cli)))
    return found


def _cluster_blockers(cluster: Mapping, env: Environment, g: str, n: str) -> List[Finding]:
    found = []
    props = properties(cluster)
    if not oidc_issuer_enabled(cluster) and not env.enable_oidc_issuer:
        found.append(Finding(
            "OIDCIssuerDisabled",
            "The OIDC issuer is off; IMDS restriction requires it. (It cannot be turned off again.)",
            # az-imds turns it on only with the restriction, in the same update; az's own `aks update` alone too
            f"{env.command(f'aks update -g {g} -n {n} --enable-imds-restriction --enable-oidc-issuer', env.cli)} "
            "(turns the issuer on in the same update)" if env.cli != "az" else
            f"{env.command(f'aks update -g {g} -n {n} --enable-oidc-issuer')} (or add --enable-oidc-issuer to this "
            "command)"))
    for pool in agent_pools(cluster):
        name = pool.get("name", "?")
        kind = None
        if (pool.get("osType") or "Linux").lower() == "windows":
            kind = ("WindowsNodePool", f"Node pool '{name}' runs Windows; IMDS restriction supports Linux pools only.")
        elif (pool.get("type") or "").lower() == "virtualmachines":
            kind = ("VirtualMachinesNodePool",
                    f"Node pool '{name}' is of type VirtualMachines, which the preview does not support.")
        if kind:
            found.append(Finding(*kind, env.command(f"aks nodepool delete -g {g} --cluster-name {n} -n {name}"),
                                 cost=f"deletes pool '{name}' with its {pool.get('count', '?')} node(s) and evicts "
                                      f"the workloads on them: move them first{OR_NETWORK_POLICY}"))
    for what in addons.incompatible_features(props):
        found.append(Finding("IncompatibleAddon", f"{what.display} is enabled and does not work with IMDS "
                             "restriction.", env.command(what.disable_command.format(g=g, n=n)),
                             cost=what.cost and what.cost + OR_NETWORK_POLICY))
    for ext in env.extensions:
        display = addons.incompatible_extension_name(ext)
        if display:
            ext_name = ext.get("name", "?")
            found.append(Finding(
                "IncompatibleExtension",
                f"Cluster extension '{ext_name}' ({display}) does not work with IMDS restriction.",
                env.command(f"k8s-extension delete -g {g} -c {n} -t managedClusters -n {ext_name}"),
                cost=f"removes {display} and what it runs in the cluster{OR_NETWORK_POLICY}"))
    return found


def _busy(cluster: Mapping, g: str, n: str, cli: str) -> List[Finding]:
    state, busy = provisioning_state(cluster), busy_pools(cluster)
    if not is_in_progress(state) and not busy:
        return []
    what = f"the cluster is {state}" if is_in_progress(state) else f"node pool(s) {', '.join(busy)} are busy"
    return [Finding("OperationInProgress", f"Another operation is in progress: {what}.",
                    f"wait for it to finish ('{cli} aks update --enable-imds-restriction' / "
                    "'--disable-imds-restriction' waits for it by itself)")]


def _workload_identity_warning(cluster: Mapping, env: Environment, g: str, n: str) -> List[Finding]:
    found = []
    if ((properties(cluster).get("podIdentityProfile") or {}).get("enabled")):
        found.append(Finding(
            "PodIdentityEnabled",
            "The AKS pod identity add-on is on: the pods it serves take their tokens through IMDS and lose them. "
            "Move them to Microsoft Entra Workload ID first ('aks imds-restriction scan' lists them).",
            f"{env.command(f'aks update -g {g} -n {n} --disable-pod-identity')} (once they are moved)"))
    if not workload_identity_enabled(cluster):
        found.append(Finding(
            "WorkloadIdentityDisabled",
            "Workload identity is off: pods that get tokens from IMDS today will lose them. Move them to "
            "Microsoft Entra Workload ID.",
            env.command(f"aks update -g {g} -n {n} --enable-workload-identity")))
    return found


def check_enable(cluster: Mapping, env: Environment, resource_group: str, name: str) -> PreflightResult:
    """Everything that would stop `podLinkLocalAccess = None` on an existing cluster."""
    blockers = (_busy(cluster, resource_group, name, env.cli) + feature_check(env)
                + _cluster_blockers(cluster, env, resource_group, name))
    return PreflightResult(blockers, _workload_identity_warning(cluster, env, resource_group, name))


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
    strict = Environment(enable_oidc_issuer=True, extensions=env.extensions, cli=env.cli,
                         subscription=env.subscription)
    blockers += _cluster_blockers(cluster, strict, resource_group, name)
    return PreflightResult(blockers, _workload_identity_warning(cluster, env, resource_group, name))


def format_blockers(result: PreflightResult, action: str) -> str:
    lines = [f"Cannot {action}: {len(result.blockers)} blocker(s) found, nothing was changed."]
    for i, b in enumerate(result.blockers, 1):
        lines.append(f"  {i}. [{b.code}] {b.message}")
        if b.fix:
            lines.append(f"     {b.advice}")
    return "\n".join(lines)
