"""Facts of the AKS IMDS restriction feature the core relies on (docs/aks-imds-restriction.md)."""

CONTAINER_SERVICE_NAMESPACE = "Microsoft.ContainerService"
KUBERNETES_CONFIGURATION_NAMESPACE = "Microsoft.KubernetesConfiguration"
FEATURE_NAME = "IMDSRestrictionPreview"
FEATURE_ID = f"{CONTAINER_SERVICE_NAMESPACE}/{FEATURE_NAME}"
CUSTOM_FEATURES_HEADER = "AKSHTTPCustomFeatures"

# `networkProfile.podLinkLocalAccess` values.
POD_LINK_LOCAL_ACCESS = "podLinkLocalAccess"
RESTRICTED = "None"  # pods get no link-local access: restriction enabled
UNRESTRICTED = "IMDS"  # the default when the property is absent

# The property exists only in preview api-versions from 2024-04-02-preview on; a GA api-version would
# silently drop it. This is the version the real service recording used.
AKS_API_VERSION = "2026-05-02-preview"
KUBERNETES_CONFIGURATION_API_VERSION = "2023-05-01"

ARM_ENDPOINT = "https://management.azure.com"
ARM_SCOPE_SUFFIX = "/.default"
