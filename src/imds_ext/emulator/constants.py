"""Facts the emulator serves: the well-known identity, the api-versions it knows, the node images.

Everything with a list of versions lives here and nowhere else. Nothing is imported from imds_ext.core: the
emulator is an independent model of the service, written from the service's documentation
(docs/aks-imds-restriction.md, docs/arm-protocol.md), against which the client is tested.
"""
from __future__ import annotations

import re
from datetime import date

# The built-in service principal (documented in docs/emulator.md, like Azurite's well-known key).
# It is not a secret: anyone may read it. Tokens minted with it are still never logged.
WELL_KNOWN_TENANT_ID = "7e9a0000-0000-4000-8000-000000000001"
WELL_KNOWN_CLIENT_ID = "7e9a0000-0000-4000-8000-00000000c11e"
WELL_KNOWN_CLIENT_SECRET = "imds-emulator-well-known-secret"
WELL_KNOWN_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
SUBSCRIPTION_DISPLAY_NAME = "Emulated Subscription"
TENANT_DISPLAY_NAME = "Emulated Tenant"
TENANT_DOMAIN = "emulated.onmicrosoft.com"

# Token audiences the emulator accepts besides its own ARM URL.
PUBLIC_ARM_AUDIENCES = ("https://management.azure.com/", "https://management.core.windows.net/")
TOKEN_LIFETIME_SECONDS = 3600

ADMIN_PREFIX = "/_emulator"

# ---- api-versions -------------------------------------------------------------------------------
_VERSION_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(-preview)?$")


def parse_version(value: str):
    """(date, is_preview) of an api-version string, or None when it is not `YYYY-MM-DD[-preview]`."""
    m = _VERSION_RE.match(value or "")
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))), bool(m.group(4))
    except ValueError:
        return None


def _monthly(first: tuple, last: tuple, day: int, suffix: str = ""):
    (y, m), out = first, []
    while (y, m) <= last:
        out.append(f"{y:04d}-{m:02d}-{day:02d}{suffix}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# AKS publishes a GA version (YYYY-MM-01) and a preview (YYYY-MM-02-preview) most months.
AKS_GA_API_VERSIONS = tuple(_monthly((2023, 1), (2026, 8), 1))
AKS_PREVIEW_API_VERSIONS = tuple(_monthly((2023, 1), (2026, 8), 2, "-preview"))
AKS_API_VERSIONS = frozenset(AKS_GA_API_VERSIONS + AKS_PREVIEW_API_VERSIONS)
# Managed namespaces (managedClusters/managedNamespaces): in previews from 2025-03-02-preview, GA from 2025-09-01
# (the resource's template reference on learn.microsoft.com lists its versions).
AKS_NAMESPACE_API_VERSIONS = frozenset(v for v in AKS_API_VERSIONS if v >= ("2025-03-02" if v.endswith("-preview")
                                                                             else "2025-09-01"))
# Operation-status URLs: what AKS puts in Azure-AsyncOperation (2025-03-01) and what older az used.
AKS_OPERATION_API_VERSIONS = AKS_API_VERSIONS | {"2016-03-30", "2017-08-31"}
# `networkProfile.podLinkLocalAccess` exists in previews from this one on, in no GA version.
POD_LINK_LOCAL_ACCESS_SINCE = date(2024, 4, 2)
# Microsoft.KubernetesConfiguration/extensions.
EXTENSIONS_API_RANGE = (date(2022, 3, 1), date(2024, 11, 1))


def supports_pod_link_local_access(api_version: str) -> bool:
    parsed = parse_version(api_version)
    return bool(parsed and parsed[1] and parsed[0] >= POD_LINK_LOCAL_ACCESS_SINCE)


# ---- namespaces, features, images ---------------------------------------------------------------
CONTAINER_SERVICE = "Microsoft.ContainerService"
KUBERNETES_CONFIGURATION = "Microsoft.KubernetesConfiguration"
FEATURE_ID = f"{CONTAINER_SERVICE}/IMDSRestrictionPreview"
CUSTOM_FEATURES_HEADER = "AKSHTTPCustomFeatures"  # per-request preview opt-in
POD_LINK_LOCAL_ACCESS = "podLinkLocalAccess"  # networkProfile.podLinkLocalAccess
RESTRICTED = "None"
UNRESTRICTED = "IMDS"  # also what an absent value means

REGISTERED_PROVIDERS = (CONTAINER_SERVICE, KUBERNETES_CONFIGURATION, "Microsoft.Features", "Microsoft.Resources")
UNREGISTERED_PROVIDERS = (
    "Microsoft.Compute", "Microsoft.Network", "Microsoft.Storage", "Microsoft.ManagedIdentity",
    "Microsoft.OperationalInsights", "Microsoft.Insights", "Microsoft.KeyVault", "Microsoft.Monitor",
    "Microsoft.Dashboard", "Microsoft.AlertsManagement",
)
# Feature id -> initial state. The IMDS one plus a handful of real AKS preview features.
DEFAULT_FEATURES = {
    FEATURE_ID: "NotRegistered",
    f"{CONTAINER_SERVICE}/EnableAPIServerVnetIntegrationPreview": "NotRegistered",
    f"{CONTAINER_SERVICE}/KataVMIsolationPreview": "NotRegistered",
    f"{CONTAINER_SERVICE}/NRGLockdownPreview": "NotRegistered",
    f"{CONTAINER_SERVICE}/AzureServiceMeshPreview": "Registered",
    f"{CONTAINER_SERVICE}/AKS-PrometheusAddonPreview": "NotRegistered",
}

DEFAULT_KUBERNETES_VERSION = "1.33.1"
# Supported Kubernetes patch versions, oldest first (AKS supports three minors at a time; a cluster upgrades to a
# later patch of its minor or to the next minor, never skipping one).
KUBERNETES_VERSIONS = ("1.31.8", "1.31.9", "1.32.4", "1.32.5", "1.33.0", "1.33.1")
LATEST_NODE_IMAGE = "AKSUbuntu-2204gen2containerd-202611.10.0"
LATEST_WINDOWS_NODE_IMAGE = "AKSWindows-2022-containerd-20348.4405.251112"
# Seeded pools without an explicit image carry this older one, so a node-image upgrade visibly changes it.
PREVIOUS_NODE_IMAGE = "AKSUbuntu-2204gen2containerd-202609.22.0"
DEFAULT_VM_SIZE = "Standard_D4ds_v5"
