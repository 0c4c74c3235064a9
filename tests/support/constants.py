"""Names the tests use, in one place."""
from imds_ext.emulator import WELL_KNOWN_SUBSCRIPTION_ID

SUB = WELL_KNOWN_SUBSCRIPTION_ID
RG = "rg1"
FEATURE = "Microsoft.ContainerService/IMDSRestrictionPreview"
CUSTOM_FEATURES = {"AKSHTTPCustomFeatures": FEATURE}
PREVIEW_API = "2026-05-02-preview"  # the core's default: a preview that has podLinkLocalAccess
GA_API = "2026-08-01"  # a GA api-version: no podLinkLocalAccess
