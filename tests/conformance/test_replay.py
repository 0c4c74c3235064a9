"""The emulator answers the requests of 43 real recordings of the AKS service as the service did, compared both
ways (replay.py), but for what the reviewed allow-list (allowlist.py) excuses.

A recording in FIXED must replay with no mismatch at all; every other one is known, with the number of its
requests the emulator still answers otherwise, and may not get worse. `python -m tests.conformance.report -v NAME`
lists a recording's mismatches.
"""
import pytest

from tests.conformance.replay import names, prepare, replay

FIXED = {
    "test_aks_abort",
    "test_aks_approuting_enable_with_internal_nginx_then_disable",
    "test_aks_automatic_sku",
    "test_aks_availability_zones",
    "test_aks_create_and_update_outbound_ips",
    "test_aks_create_node_provisioning_profile",
    "test_aks_create_private_cluster_public_fqdn",
    "test_aks_create_with_app_routing_enabled",
    "test_aks_create_with_azuremonitormetrics",
    "test_aks_create_with_blue_green_upgrade_nodepool",
    "test_aks_create_with_custom_headers",
    "test_aks_create_with_enable_acns",
    "test_aks_create_with_ephemeral_disk",
    "test_aks_create_with_fips",
    "test_aks_create_with_ingress_appgw_addon",
    "test_aks_create_with_pod_identity_enabled",
    "test_aks_create_with_premium_sku",
    "test_aks_create_with_transit_encryption_type",
    "test_aks_create_with_windows",
    "test_aks_create_with_workload_identity_enabled",
    "test_aks_deployment_safeguards_basic",
    "test_aks_deployment_safeguards_with_pss",
    "test_aks_enable_imds_restriction",
    "test_aks_get_upgrades",
    "test_aks_managed_namespace",
    "test_aks_migrate_vmas_to_vms",
    "test_aks_nodepool_add_with_ossku_azurelinuxosguard",
    "test_aks_nodepool_add_with_ossku_flatcar",
    "test_aks_nodepool_add_with_ossku_windows2022",
    "test_aks_nodepool_add_with_ossku_windowsannual",
    "test_aks_nodepool_create_machines_pool",
    "test_aks_nodepool_max_blocked_nodes",
    "test_aks_nodepool_undrainable_node_behavior",
    "test_aks_update_enable_acns",
    "test_aks_update_enable_cost_analysis",
    "test_aks_update_node_provisioning_profile",
    "test_aks_update_run_command",
    "test_aks_update_with_enable_ai_toolchain_operator",
    "test_aks_update_with_managed_system_pool",
    "test_aks_update_with_oidc_issuer_enabled",
    "test_aks_upgrade_node_image_only_cluster",
    "test_aks_upgrade_node_image_only_nodepool",
    "test_aks_upgrade_nodepool",
}
# recording: requests (in scope, polls and other providers' the emulator serves) whose answer still differs
KNOWN = {}


def test_every_recording_is_fixed_or_known():
    assert set(names()) == FIXED | set(KNOWN) and not FIXED & set(KNOWN)


@pytest.mark.parametrize("name", names())
def test_the_emulator_answers_as_the_service_did(name, arm, admin):
    prepare(name, admin)
    wrong = [o for o in replay(name, arm) if o.differences]
    listing = "\n".join(f"#{o.number} {o.method} {o.path.rsplit('/', 2)[-2:]}: {d}" for o in wrong
                        for d in o.differences)
    if name in FIXED:
        assert not wrong, f"{len(wrong)} request(s) answered otherwise than the service did:\n{listing}"
    else:
        assert len(wrong) <= KNOWN[name], f"{len(wrong)} request(s) differ, {KNOWN[name]} known:\n{listing}"
        assert wrong, "every request matches now: move the recording to FIXED"
