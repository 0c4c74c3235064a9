"""The help of the IMDS flags, written once for both command lines (`az-imds` and az with the extension)."""

_ENABLE = ("Enable IMDS restriction in the cluster: non-hostNetwork pods cannot reach the Azure Instance Metadata "
           "Service")

ENABLE_ON_CREATE = _ENABLE + (
    ". Requires --enable-oidc-issuer. Before anything is created, the IMDSRestrictionPreview feature registration, "
    "the OIDC issuer and incompatible add-ons are checked, and each blocker is named with its fix. New nodes "
    "enforce it from the start.")
ENABLE_ON_UPDATE = _ENABLE + (
    " once the nodes are reimaged, which this command does (node-image-only upgrade of every Linux pool). "
    "Preflight first, then a prompt unless --yes.")
DISABLE_ON_UPDATE = (
    "Disable IMDS restriction in the cluster: all pods can reach the Azure Instance Metadata Service once the nodes "
    "are reimaged, which this command does. Prompts unless --yes.")
SKIP_NODE_IMAGE_UPGRADE = (
    "With --enable/--disable-imds-restriction: change the cluster setting only, do not reimage the nodes. They "
    "keep their old behaviour until 'aks upgrade --node-image-only' runs.")
IF_MATCH = ("The request will only proceed if the cluster's ETag matches this value. Without it, the ETag read at "
            "the start of the command is used.")
CUSTOM_HEADERS = (
    "Send custom headers. When specified, format should be Key1=Value1,Key2=Value2. "
    "AKSHTTPCustomFeatures=Microsoft.ContainerService/IMDSRestrictionPreview uses the preview without the "
    "subscription-level feature registration.")
# Inside az, what `aks update` takes beside an IMDS flag (the rest of az's options would change the cluster twice).
UPDATE_COMPANIONS_HELP = (" Combine only with -g/-n, --yes, --no-wait, --enable-oidc-issuer, --if-match, "
                          "--aks-custom-headers and --skip-node-image-upgrade.")
