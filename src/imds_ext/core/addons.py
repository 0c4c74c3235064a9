"""What on a cluster is incompatible with IMDS restriction, and how each is switched off.

The table follows docs/aks-imds-restriction.md. Each entry says where the thing shows in the managed cluster
(wire format, camelCase) and the command that removes it, so a blocker can name its own fix.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional


@dataclass(frozen=True)
class Incompatible:
    key: str  # stable identifier, used in machine-readable output
    display: str
    disable_command: str  # the az command without "az": {g} and {n} are the resource group and cluster name
    cost: Optional[str] = None  # what switching it off takes away (preflight shows the fix as an option at a cost)


def _get(obj: Optional[Mapping], *path: str):
    for part in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(part)
    return obj


def addon_profile(properties: Mapping, addon_key: str) -> Optional[Mapping]:
    """An entry of `addonProfiles`, matched case-insensitively as the service does."""
    profiles = properties.get("addonProfiles") or {}
    wanted = addon_key.lower()
    for key, value in profiles.items():
        if key.lower() == wanted:
            return value
    return None


def _addon_enabled(addon_key: str) -> Callable[[Mapping], bool]:
    return lambda props: bool(_get(addon_profile(props, addon_key), "enabled"))


def _profile_enabled(*path: str) -> Callable[[Mapping], bool]:
    return lambda props: bool(_get(props, *path, "enabled"))


# (what, how to detect it on `properties`)
INCOMPATIBLE_FEATURES = [
    (Incompatible("ingressApplicationGateway", "Application gateway ingress controller add-on",
                  "aks disable-addons -g {g} -n {n} --addons ingress-appgw",
                  ("ingress through Application Gateway stops for every app "
                   "that uses it")),
     _addon_enabled("ingressApplicationGateway")),
    (Incompatible("omsagent", "Azure Monitor for containers (Container Insights) add-on",
                  "aks disable-addons -g {g} -n {n} --addons monitoring",
                  ("the cluster's container logs and metrics stop reaching Log "
                   "Analytics")),
     _addon_enabled("omsagent")),
    (Incompatible("containerInsights", "Azure Monitor Container Insights (azureMonitorProfile)",
                  "aks disable-addons -g {g} -n {n} --addons monitoring",
                  ("the cluster's container logs and metrics stop reaching Log "
                   "Analytics")),
     # AKS answers the monitoring add-on as Container Insights too (test_aks_automatic_sku, 2025-08-26): one
     # blocker, one fix, when both say the same.
     lambda props: _profile_enabled("azureMonitorProfile", "containerInsights")(props) and not _addon_enabled(
         "omsagent")(props)),
    (Incompatible("aciConnectorLinux", "Virtual nodes add-on",
                  "aks disable-addons -g {g} -n {n} --addons virtual-node",
                  "the pods on virtual nodes (Azure Container Instances) stop"),
     _addon_enabled("aciConnectorLinux")),
    (Incompatible("azurepolicy", "Azure Policy add-on",
                  "aks disable-addons -g {g} -n {n} --addons azure-policy",
                  ("Azure Policy stops auditing and enforcing its policies in "
                   "the cluster")),
     _addon_enabled("azurepolicy")),
    (Incompatible("httpApplicationRouting", "HTTP application routing add-on",
                  "aks disable-addons -g {g} -n {n} --addons http_application_routing",
                  "the apps routed through it lose their ingress and DNS names"),
     _addon_enabled("httpApplicationRouting")),
    (Incompatible("webAppRouting", "Application routing (web application routing)",
                  "aks approuting disable -g {g} -n {n}",
                  ("the apps routed through its managed NGINX ingress lose "
                   "their ingress")),
     _profile_enabled("ingressProfile", "webAppRouting")),
    (Incompatible("aiToolchainOperator", "AI toolchain operator",
                  "aks update -g {g} -n {n} --disable-ai-toolchain-operator",
                  "the KAITO models and workspaces it runs stop being managed"),
     _profile_enabled("aiToolchainOperatorProfile")),
    (Incompatible("costAnalysis", "Azure cost analysis",
                  "aks update -g {g} -n {n} --disable-cost-analysis",
                  ("the cluster's costs are no longer broken down in Cost "
                   "Management")),
     _profile_enabled("metricsProfile", "costAnalysis")),
]

# `az aks --enable-addons` names, and where the service keeps each add-on.
AZ_ADDONS = {
    "monitoring": ("addonProfiles", "omsagent"),
    "azure-policy": ("addonProfiles", "azurepolicy"),
    "http_application_routing": ("addonProfiles", "httpApplicationRouting"),
    "ingress-appgw": ("addonProfiles", "ingressApplicationGateway"),
    "virtual-node": ("addonProfiles", "aciConnectorLinux"),
    "azure-keyvault-secrets-provider": ("addonProfiles", "azureKeyvaultSecretsProvider"),
    "open-service-mesh": ("addonProfiles", "openServiceMesh"),
    "confcom": ("addonProfiles", "ACCSGXDevicePlugin"),
    "web_application_routing": ("ingressProfile", "webAppRouting"),
}

# Cluster extension types (Microsoft.KubernetesConfiguration) that do not work with restriction on.
INCOMPATIBLE_EXTENSION_TYPES = {
    "microsoft.flux": "Flux (GitOps)",
    "microsoft.dapr": "Dapr",
    "microsoft.appconfiguration": "Azure App Configuration",
    "microsoft.azureml.kubernetes": "Azure Machine Learning",
    "microsoft.azurecontainerstorage": "Azure Container Storage",
    "microsoft.dataprotection.kubernetes": "Azure Backup",
}


def incompatible_features(properties: Mapping):
    """The incompatible add-ons and profiles switched on in `properties`, in table order."""
    return [what for what, enabled in INCOMPATIBLE_FEATURES if enabled(properties)]


def incompatible_extension_name(extension: Mapping) -> Optional[str]:
    ext_type = (_get(extension, "properties", "extensionType") or "").lower()
    return INCOMPATIBLE_EXTENSION_TYPES.get(ext_type)
