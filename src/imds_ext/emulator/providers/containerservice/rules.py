"""The AKS service's IMDS-restriction rules, as pure functions over resource dicts (no state, no HTTP).

What they model is in docs/aks-imds-restriction.md. Each check returns a list of blockers, each a dict
{"code", "message", "target"} naming what stands in the way.
"""
from __future__ import annotations

from typing import Iterable, List

from imds_ext.emulator.constants import FEATURE_ID, POD_LINK_LOCAL_ACCESS, RESTRICTED, UNRESTRICTED
from imds_ext.emulator.errors import bad_request
from imds_ext.emulator.providers.containerservice import paths

# addonProfiles keys (matched case-insensitively) -> the name the docs use.
INCOMPATIBLE_ADDONS = {
    "ingressapplicationgateway": "Application gateway ingress controller",
    "omsagent": "Azure Monitor for containers (Container Insights)",
    "aciconnectorlinux": "Virtual nodes",
    "azurepolicy": "Azure Policy",
    "httpapplicationrouting": "HTTP application routing",
}
# Other profile switches, as (path, docs name).
INCOMPATIBLE_PROFILES = (
    (("azureMonitorProfile", "containerInsights", "enabled"), "Azure Monitor for containers (Container Insights)"),
    (("ingressProfile", "webAppRouting", "enabled"), "Application routing"),
    (("aiToolchainOperatorProfile", "enabled"), "AI toolchain operator"),
    (("metricsProfile", "costAnalysis", "enabled"), "Azure cost analysis"),
)
# Deliberately not imported from imds_ext.core: the emulator is the independent model of the service the
# client's preflight is tested against; sharing the table would let one wrong entry pass both sides.
INCOMPATIBLE_EXTENSION_TYPES = {
    "microsoft.flux": "Flux (GitOps)",
    "microsoft.dapr": "Dapr",
    "microsoft.appconfiguration": "Azure App Configuration",
    "microsoft.azureml.kubernetes": "Azure Machine Learning",
    "microsoft.azurecontainerstorage": "Azure Container Storage",
    "microsoft.dataprotection.kubernetes": "Azure Backup",
}

BLOCKED = "IMDSRestrictionNotSupported"
FEATURE_NOT_REGISTERED = "FeatureNotRegistered"


def _props(cluster: dict) -> dict:
    return cluster.get("properties") or {}


def pod_link_local_access(cluster: dict) -> str:
    return paths.get(_props(cluster), ("networkProfile", POD_LINK_LOCAL_ACCESS)) or UNRESTRICTED


def is_restricted(cluster: dict) -> bool:
    return pod_link_local_access(cluster) == RESTRICTED


def oidc_enabled(cluster: dict) -> bool:
    return paths.get(_props(cluster), ("oidcIssuerProfile", "enabled")) is True


def _blocker(code: str, message: str, target: str) -> dict:
    return {"code": code, "message": message, "target": target}


def addon_blockers(cluster: dict) -> List[dict]:
    out = []
    for key, profile in sorted((_props(cluster).get("addonProfiles") or {}).items()):
        name = INCOMPATIBLE_ADDONS.get(key.lower())
        if name and isinstance(profile, dict) and profile.get("enabled") is True:
            out.append(_blocker("IncompatibleAddon", f"the add-on '{key}' ({name}) is enabled",
                                f"properties.addonProfiles.{key}"))
    for path, name in INCOMPATIBLE_PROFILES:
        if paths.get(_props(cluster), path) is True:
            out.append(_blocker("IncompatibleAddon", f"{name} is enabled ({'.'.join(path)})",
                                "properties." + ".".join(path)))
    return out


def pool_blockers(pools: Iterable[dict]) -> List[dict]:
    out = []
    for pool in pools:
        name = pool.get("name")
        if str(pool.get("osType", "")).lower() == "windows":
            out.append(_blocker("IncompatibleAgentPool", f"the node pool '{name}' is a Windows pool",
                                f"properties.agentPoolProfiles[{name}].osType"))
        if str(pool.get("type", "")).lower() == "virtualmachines":
            out.append(_blocker("IncompatibleAgentPool",
                                f"the node pool '{name}' is of type VirtualMachines (unsupported during preview)",
                                f"properties.agentPoolProfiles[{name}].type"))
    return out


def extension_blockers(extensions: Iterable[dict]) -> List[dict]:
    out = []
    for ext in extensions:
        ext_type = str(paths.get(ext, ("properties", "extensionType")) or "")
        name = INCOMPATIBLE_EXTENSION_TYPES.get(ext_type.lower())
        if name:
            out.append(_blocker("IncompatibleExtension",
                                f"the cluster extension '{ext.get('name')}' of type '{ext_type}' ({name}) is installed",
                                f"extensions/{ext.get('name')}"))
    return out


def cluster_blockers(cluster: dict, extensions: Iterable[dict]) -> List[dict]:
    """Everything that makes `podLinkLocalAccess: None` impossible on this cluster."""
    out = []
    if not oidc_enabled(cluster):
        out.append(_blocker("OIDCIssuerNotEnabled", "the OIDC issuer is not enabled (oidcIssuerProfile.enabled)",
                            "properties.oidcIssuerProfile.enabled"))
    out += pool_blockers(_props(cluster).get("agentPoolProfiles") or [])
    out += addon_blockers(cluster)
    out += extension_blockers(extensions)
    return out


def feature_allowed(feature_state: str, custom_features_header: str) -> bool:
    """The preview is usable when registered on the subscription or named in AKSHTTPCustomFeatures."""
    named = {f.strip().lower() for f in (custom_features_header or "").split(",")}
    return feature_state == "Registered" or FEATURE_ID.lower() in named


def refusal(blockers: List[dict], what: str):
    """The AKS 400 naming every blocker."""
    reasons = "; ".join(b["message"] for b in blockers)
    return bad_request(BLOCKED, f"{what} is not supported while IMDS restriction "
                       f"(networkProfile.podLinkLocalAccess=None) is in effect or requested: {reasons}.",
                       target=blockers[0]["target"], details=blockers)


def feature_refusal():
    return bad_request(
        FEATURE_NOT_REGISTERED,
        f"The preview feature '{FEATURE_ID}' is not registered on this subscription. Register it with "
        f"'az feature register --namespace Microsoft.ContainerService --name IMDSRestrictionPreview', or send "
        f"the header 'AKSHTTPCustomFeatures: {FEATURE_ID}'.",
        target="properties.networkProfile.podLinkLocalAccess")
