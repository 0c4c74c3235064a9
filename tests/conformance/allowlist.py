"""What may legitimately differ between a recording of the service and the emulator's answer, in one reviewed list.

The replay (replay.py) compares both ways: a key the service sent that the emulator leaves out is a mismatch, and
so is a key the emulator sends that the service did not. An entry here excuses one kind of difference at the paths
its pattern matches (dotted, list items as `[]`), always with its reason:

- VALUE: both sides have the key, its value may differ (ids, names and times made at random, versions of the
  recording's month, values chosen by region or VM size);
- EXTRA: the emulator may send the key where the recording has none;
- MISSING: the emulator may leave out a key the recording has;
- ANY: anything below the path may differ (in value or presence).

`before` limits an entry to recordings made before that day: where recordings of different dates disagree, the
newest service behaviour wins (docs/emulator.md), and the older recordings are excused for what changed since.
`recordings` limits an entry to the recordings named; `requests`, to the requests whose path it matches.

Apart from the entries: a subscription-wide list shows what other users of the recording's subscription had; its
items in resource groups the recording never names are not the recording's, and are left out of the comparison
(`foreign`).
"""
from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Optional, Tuple

VALUE, EXTRA, MISSING, ANY = "value", "extra", "missing", "any"


@dataclasses.dataclass(frozen=True)
class Allowed:
    pattern: str
    kind: str
    reason: str
    before: Optional[date] = None
    recordings: Tuple[str, ...] = ()
    requests: Optional[str] = None  # a regex on the request's path

    def applies(self, recording: str, recorded_on: date) -> bool:
        return (self.before is None or recorded_on < self.before) and (
            not self.recordings or recording in self.recordings)


# A pool's fields: inside a cluster, an agent pool resource, or a list of them.
POOL = r"(^properties\.agentPoolProfiles\[\]|^properties|^value\[\]\.properties)"


def _allow(kind, reason, *patterns, before=None, recordings=(), requests=None):
    return [Allowed(p, kind, reason, before, tuple(recordings), requests) for p in patterns]


ALLOWED = [
    # ---- generated at random, sanitized by the recording, or the emulator's own address --------------------------
    *_allow(VALUE, "resource ids carry the recording's sanitized names and the emulator's own casing",
            r"^id$", r"\.id$", r"\.resourceId$", r"^properties\.agentPoolProfiles\[\]\.capacityReservationGroupID$"),
    *_allow(VALUE, "FQDNs are made of a random suffix and the region's DNS zone",
            r"^properties\.(fqdn|azurePortalFQDN|privateFQDN)$", r"^(value\[\]\.)?properties\.portalFqdn$",
            r"^properties\.dnsPrefix$", r"^properties\.fqdnSubdomain$"),
    *_allow(VALUE, "made at random per cluster or identity: UIDs, principal, client and object ids, tenants",
            r"^properties\.resourceUID$", r"^identity\.(principalId|tenantId)$",
            r"^properties\.servicePrincipalProfile\.clientId$", r"\.(clientId|objectId|principalId)$",
            r"^identity\.userAssignedIdentities\.[^.]+$", r"^properties\.aadProfile\.tenantID$"),
    *_allow(VALUE, "the OIDC issuer URL holds the region, the tenant and a random id",
            r"^properties\.oidcIssuerProfile\.issuerURL$"),
    *_allow(VALUE, "eTags are opaque and new on every write", r"eTag$"),
    *_allow(VALUE, "the node resource group is named after the sanitized group, cluster and region",
            r"^properties\.nodeResourceGroup$"),
    *_allow(VALUE, "the SSH key and Windows admin user are the test run's own",
            r"^properties\.linuxProfile\.ssh\.publicKeys", r"^properties\.linuxProfile\.adminUsername$",
            r"^properties\.windowsProfile\.adminUsername$"),
    *_allow(VALUE, "the region a suite ran in (the emulator serves any region name)", r"^location$"),
    *_allow(VALUE, "times of the recording's run", r"(startTime|endTime|createdAt|lastModifiedAt)$",
            r"(^|\.)systemData\.", r"(^|\.)(createdTime|changedTime)$"),
    *_allow(VALUE, "a kubeconfig names the cluster, its group and tenant as they really were (the recording's "
            "sanitizer does not reach inside base64), and the server and CA are the emulator's own",
            r"^kubeconfigs\[\]\.value\.(current-context|clusters\[\]\.name|contexts\[\]\.name|users\[\]\.name)$",
            r"^kubeconfigs\[\]\.value\.contexts\[\]\.context\.(cluster|user)$",
            r"^kubeconfigs\[\]\.value\.clusters\[\]\.cluster\.(server|certificate-authority-data)$",
            r"^kubeconfigs\[\]\.value\.users\[\]\.user\.exec\.args\.--tenant-id$"),
    *_allow(VALUE, "error messages are the service's wording, not public; their codes are compared",
            r"^(error\.)?message$", r"^(error\.)?details$"),
    *_allow(VALUE, "the public IPs the load balancer (or NAT gateway) made carry random names",
            r"^properties\.networkProfile\.(loadBalancerProfile|natGatewayProfile)\.effectiveOutboundIPs\[\]"),
    *_allow(VALUE, "a page's link holds the server's own address and an opaque skip token", r"^nextLink$"),
    *_allow(MISSING, "ARM's generic resource list pages over its partitions: a page, then empty pages each with a "
            "link, until the last (test_aks_managed_namespace #25-#35); the emulator has one partition and answers "
            "every resource on the first page", r"^nextLink$", requests=r"/resources$"),
    # ---- the service's catalogue, not modelled ---------------------------------------------------------------------
    *_allow(MISSING, "a resource provider's first-party applications and their role definitions (Microsoft.Monitor, "
            "Microsoft.Dashboard: the provider GET #20 and the registers #30, #31) are Azure's, not the emulator's",
            r"^authorizations$", recordings=("test_aks_create_with_azuremonitormetrics", "test_aks_automatic_sku")),
    *_allow(VALUE, "the resource types of the providers the emulator does not serve (Microsoft.Monitor's, Microsoft."
            "Dashboard's regions and api-versions) are the service's catalogue: the emulator answers none",
            r"^resourceTypes$", recordings=("test_aks_create_with_azuremonitormetrics", "test_aks_automatic_sku")),
    # ---- versions of the recording's month -----------------------------------------------------------------------
    *_allow(VALUE, "node images are published weekly: the recording has its month's image",
            r"nodeImageVersion$", r"latestNodeImageVersion$"),
    *_allow(VALUE, "the Kubernetes versions a region offers change every month",
            r"[kK]ubernetesVersion$", r"[oO]rchestratorVersion$", r"\.upgrades$", r"\.upgrades\[\]",
            r"componentsByReleases", r"^values$"),
    # ---- chosen by region or VM size ------------------------------------------------------------------------------
    *_allow(VALUE, "the default VM size and its disk depend on the region's quota and SKUs",
            r"\.vmSize$", r"\.osDiskSizeGB$", r"\.osDiskType$", r"\.kubeletDiskType$",
            r"\.virtualMachinesProfile\.scale\.manual\[\]\.size$", r"\.virtualMachineNodesStatus\[\]\.size$"),
    *_allow(VALUE, "the availability zones a region has", r"\.availabilityZones$"),
    # ---- renamed or recased by the service since (the newest wins) ---------------------------------------------
    *_allow(VALUE, "the SKU 'Basic' became 'Base' in 2023", r"^sku\.name$", before=date(2023, 9, 1)),
    *_allow(VALUE, "loadBalancerSku was read back 'Standard' whatever the request said until 2024-03 (test_aks_"
            "create_with_premium_sku, 2024-03-29); 'standard' as sent since (first in test_aks_nodepool_add_with_"
            "ossku_windowsannual, 2024-04-23)", r"loadBalancerSku$", before=date(2024, 4, 1)),
    # ---- answered since: the emulator answers as the newest recordings do; older ones lack the field ------------
    *_allow(EXTRA, "the cluster's kind answered since 2024-03 (first in test_aks_create_with_premium_sku, 2024-03-29)",
            r"^kind$", before=date(2024, 3, 1)),
    *_allow(EXTRA, "the support plan answered since 2023 (first in test_aks_create_with_pod_identity_enabled, "
            "2023-06-21)", r"^properties\.supportPlan$", before=date(2023, 6, 1)),
    *_allow(EXTRA, "pool lists paged with a nextLink since 2024 (first in test_aks_create_with_fips, 2024-02-01; "
            "none in 2023)", r"^nextLink$", before=date(2024, 1, 1)),
    *_allow(EXTRA, "FQDN policies the default of ACNS security since 2025-06 (test_aks_create_with_transit_"
            "encryption_type, 2025-06-11; 2024-11 answers lack it)",
            r"^properties\.networkProfile\.advancedNetworking\.security\.advancedNetworkPolicies$",
            before=date(2025, 6, 1)),
    *_allow(EXTRA, "answered since mid-2023 (first in test_aks_update_enable_cost_analysis, 2023-08-30)",
            r"^properties\.(resourceUID|metricsProfile|autoUpgradeProfile)$", rf"{POOL}\.securityProfile$",
            before=date(2023, 8, 1)),
    *_allow(EXTRA, "the default network policy 'none' answered since late 2023 (test_aks_update_with_enable_ai_"
            "toolchain_operator, 2023-12-13)", r"^properties\.networkProfile\.networkPolicy$",
            before=date(2023, 12, 1)),
    *_allow(EXTRA, "control-plane plugins answered since late 2023, one more every few months (karpenter and "
            "azure-monitor-metrics-ccp in 2023-12, live-patching and static-egress in 2024, gpu-provisioner and "
            "kubelet-serving-csr-approver in 2025-06, secure-tls-bootstrap since test_aks_nodepool_create_machines_"
            "pool, 2025-09-02)", r"^properties\.controlPlanePluginProfiles(\.|$)", before=date(2025, 9, 2)),
    *_allow(EXTRA, "the node provisioning profile answered since late 2023 ({mode: Manual}), with defaultNodePools "
            "since 2025-06 (test_aks_create_and_update_outbound_ips)", r"^properties\.nodeProvisioningProfile$",
            before=date(2023, 12, 1)),
    *_allow(EXTRA, "defaultNodePools answered since 2025-06 (test_aks_create_and_update_outbound_ips)",
            r"^properties\.nodeProvisioningProfile\.defaultNodePools$", before=date(2025, 6, 1)),
    *_allow(EXTRA, "the bootstrap profile and the pools' vTPM and secure-boot switches answered since 2024-03 "
            "(test_aks_create_with_premium_sku, 2024-03-29)", r"^properties\.bootstrapProfile$",
            rf"{POOL}\.securityProfile\.(enableVTPM|enableSecureBoot)$", before=date(2024, 3, 1)),
    *_allow(EXTRA, "a pool's default maxSurge answered since 2024-04 (test_aks_nodepool_add_with_ossku_windowsannual)"
            ", maxUnavailable and scaleDownMode since 2025-06 (test_aks_create_and_update_outbound_ips)",
            rf"{POOL}\.upgradeSettings\.maxSurge$", rf"{POOL}\.upgradeSettings$", before=date(2024, 4, 1)),
    *_allow(EXTRA, "maxUnavailable and scaleDownMode answered since 2025-06 (test_aks_create_and_update_outbound_ips)",
            rf"{POOL}\.upgradeSettings\.maxUnavailable$", rf"{POOL}\.scaleDownMode$", before=date(2025, 6, 1)),
    *_allow(EXTRA, "eTags and podLinkLocalAccess answered since 2024-06 (test_aks_get_upgrades, 2024-06-14)",
            r"eTag$", r"^properties\.networkProfile\.podLinkLocalAccess$", before=date(2024, 6, 1)),
    *_allow(EXTRA, "a cluster PUT's answer shows each pool's empty nodeLabels since 2024 (every 2024-2025 "
            "recording; 3 of 24 in 2023)", r"^properties\.agentPoolProfiles\[\]\.nodeLabels$", before=date(2024, 1, 1)),
    *_allow(EXTRA, "a pool's upgradeStrategy 'Rolling' answered since 2025-09 (test_aks_create_with_blue_green_"
            "upgrade_nodepool, 2025-09-09)", rf"{POOL}\.upgradeStrategy$", before=date(2025, 9, 9)),
    *_allow(VALUE, "a scale was answered 'Updating' in 2023 (test_aks_create_with_custom_headers, 2023); 'Scaling' "
            "since (test_aks_automatic_sku's `az aks scale`, 2025-08-26)",
            r"^properties\.provisioningState$", r"^properties\.agentPoolProfiles\[\]\.provisioningState$",
            before=date(2024, 1, 1), recordings=("test_aks_create_with_custom_headers",)),
    *_allow(EXTRA, "#45 was read while the service's update still ran; the emulator's operations end sooner (see "
            "TRANSITIONAL), and the add-on identities an operation makes are there by then",
            r"^properties\.addonProfiles\.[^.]+\.identity$", recordings=("test_aks_automatic_sku",)),
    *_allow(EXTRA, "a Windows pool's empty windowsProfile answered since 2024-04 (test_aks_nodepool_add_with_ossku_"
            "windowsannual, 2024-04-23; the 2023 Windows recordings lack it)", rf"{POOL}\.windowsProfile$",
            before=date(2024, 4, 1)),
    *_allow(MISSING, "the load balancer's health probe mode answered unasked ('servicenodeport') in 2024-03/04 "
            "(test_aks_create_with_premium_sku, test_aks_nodepool_add_with_ossku_windowsannual); since 2024-06 only "
            "when sent (test_aks_get_upgrades, test_aks_create_and_update_outbound_ips)",
            r"^properties\.networkProfile\.loadBalancerProfile\.clusterServiceLoadBalancerHealthProbeMode$",
            before=date(2024, 6, 1)),
    *_allow(MISSING, "a cluster's read answered its eTag as 'etag' in 2024-03/04 (test_aks_create_with_premium_sku, "
            "test_aks_nodepool_add_with_ossku_windowsannual); 'eTag' since 2024-06 (test_aks_get_upgrades)",
            r"^etag$", before=date(2024, 6, 1)),
    *_allow(EXTRA, "the secure-tls-bootstrap plugin, answered by every recording since 2025-09-02 but these two of "
            "2025-09-16 (eastus2euap) and 2025-09-25 (westus2): rolled out and back while they ran",
            r"^properties\.controlPlanePluginProfiles\.secure-tls-bootstrap$",
            recordings=("test_aks_nodepool_add_with_ossku_azurelinuxosguard",
                        "test_aks_nodepool_add_with_ossku_flatcar")),
    *_allow(MISSING, "the abort's answer showed the service's internal add-ons (image-cleaner, keda, with "
            "addonv2 configs) that no other answer of the corpus shows", r"^properties\.addonProfiles$",
            recordings=("test_aks_abort",)),
    *_allow(EXTRA, "the hosted system profile and the cluster's enableFIPS answered since 2025-11 (test_aks_"
            "deployment_safeguards_basic, 2025-11-05; test_aks_managed_namespace, 2025-10-29, lacks them)",
            r"^properties\.hostedSystemProfile$", r"^properties\.enableFIPS$", before=date(2025, 11, 1)),
    *_allow(VALUE, "the private link service behind a private cluster's API server is the service's own "
            "infrastructure, named by it", r"\.privateLinkServiceID$"),
    *_allow(MISSING, "the node resource group's restriction level was answered when unset until mid-2024; since, "
            "only when set (test_aks_automatic_sku)", r"^properties\.nodeResourceGroupProfile$",
            before=date(2024, 9, 1)),
]

# An operation passes through these states; the emulator's clock runs faster than the service's, so a later state
# than the one recorded is what a client would also have seen, a moment later.
TRANSITIONAL = {"Creating", "Updating", "UpgradingNodeImageVersion", "Deleting", "Upgrading", "Scaling", "Starting",
                "Stopping", "Canceling"}


def foreign(body, groups) -> object:
    """A list answer without the items in resource groups outside `groups` (lower-case names): other users' of the
    recording's subscription (test_aks_managed_namespace #36 lists three other teams' namespaces)."""
    if not (isinstance(body, dict) and isinstance(body.get("value"), list)):
        return body
    kept = [item for item in body["value"] if not isinstance(item, dict) or not isinstance(item.get("id"), str)
            or (m := re.search(r"/resourcegroups/([^/]+)", item["id"], re.I)) is None or m.group(1).lower() in groups]
    return dict(body, value=kept)


class Rules:
    """The entries that apply to one recording, with the lookup the comparison makes at each path."""

    def __init__(self, recording: str, recorded_on: date, entries=None):
        self.entries = [e for e in ALLOWED if e.applies(recording, recorded_on)] if entries is None else entries
        self._compiled = [(re.compile(e.pattern), e) for e in self.entries]
        self.used = set()

    def at(self, request_path: str) -> "Rules":
        """The entries that apply to one request of the recording."""
        view = Rules("", date.min, [e for e in self.entries
                                    if e.requests is None or re.search(e.requests, request_path, re.I)])
        view.used = self.used
        return view

    def kinds(self, path: str) -> set:
        found = {e for regex, e in self._compiled if regex.search(path)}
        self.used |= found
        return {e.kind for e in found}

    def excuses(self, path: str, kind: str) -> bool:
        kinds = self.kinds(path)
        return ANY in kinds or kind in kinds
