"""`az-imds aks update --enable/--disable-imds-restriction`: every step and branch of the flow."""
import os
import pty
import subprocess
import sys
import time

import pytest
import requests

from imds_ext.emulator import WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_TENANT_ID
from tests.support.cli import read_terminal, run_on_a_terminal
from tests.support.constants import PREVIEW_API, RG, SUB

UPDATE = ("aks", "update", "-g", RG, "-n", "c1")


def test_both_flags_is_a_usage_error_with_no_request(az_imds, admin):
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--disable-imds-restriction", "--yes")
    assert r.code == 2
    assert "Cannot specify --enable-imds-restriction and --disable-imds-restriction at the same time." in r.err
    assert admin.requests() == []


def test_neither_flag_is_a_usage_error(az_imds, admin):
    r = az_imds(*UPDATE, "--yes")
    assert r.code == 2
    assert "--enable-imds-restriction or --disable-imds-restriction" in r.err
    assert admin.requests() == []


def test_malformed_custom_headers_is_a_usage_error(az_imds, admin):
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--aks-custom-headers", "garbage", "--yes")
    assert r.code == 2 and "Key1=Value1" in r.err
    assert admin.requests() == []


def test_missing_cluster_exits_3(az_imds, admin):
    admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}])
    r = az_imds("aks", "update", "-g", RG, "-n", "nope", "--enable-imds-restriction", "--yes")
    assert r.code == 3
    assert "nope" in r.err


def test_enable_changes_the_cluster_and_the_nodes(az_imds, admin, seed_cluster):
    seed_cluster()
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 0, r.err
    assert r.json["networkProfile"]["podLinkLocalAccess"] == "None"
    # The nodes enforce it: every pool was reimaged.
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}
    upgrades = admin.requests("POST", "/upgradeNodeImageVersion")
    assert sorted(e["path"].rsplit("/", 2)[1] for e in upgrades) == ["nodepool1", "userpool"]
    # One PUT, guarded by the ETag read at the start.
    [put] = admin.requests("PUT", "/managedClusters/")
    assert put["headers"].get("If-Match")
    shown = az_imds("aks", "show", "-g", RG, "-n", "c1", "--query", "networkProfile.podLinkLocalAccess", "-o", "tsv")
    assert shown.out.strip() == "None"


def test_the_update_keeps_every_field_known_or_not(az_imds, admin, seed_cluster, emulator):
    seed_cluster(futureFeatureProfile={"knob": {"deep": [1, 2, 3]}},
                 networkProfile={"networkPlugin": "azure", "networkPluginMode": "overlay", "podCidr": "10.244.0.0/16"})
    before = az_imds("aks", "show", "-g", RG, "-n", "c1").json
    assert az_imds(*UPDATE, "--enable-imds-restriction", "--yes", "--skip-node-image-upgrade").code == 0
    after = az_imds("aks", "show", "-g", RG, "-n", "c1").json
    assert after["futureFeatureProfile"] == {"knob": {"deep": [1, 2, 3]}}
    assert after["networkProfile"] == dict(before["networkProfile"], podLinkLocalAccess="None")
    # The same PUT records the node-image upgrade it makes due (docs/convergence.md); --skip-node-image-upgrade
    # leaves that record in place.
    assert after["tags"] == {"imds-ext-reimage-pending": "None:nodepool1,userpool"}
    changing = {"networkProfile", "eTag", "provisioningState", "agentPoolProfiles", "tags"}
    assert {k: v for k, v in after.items() if k not in changing} == \
        {k: v for k, v in before.items() if k not in changing}


SHOW = ("aks", "imds-restriction", "show", "-g", RG, "-n", "c1", "-o", "json")


def test_show_says_set_but_not_enforced_until_the_nodes_are_reimaged(az_imds, admin, seed_cluster):
    seed_cluster()
    assert az_imds(*UPDATE, "--enable-imds-restriction", "--skip-node-image-upgrade", "--yes").code == 0
    # The setting is in place, but imds-ext's record says the reimage is due: not restricted yet.
    set_only = az_imds(*SHOW).json
    assert (set_only["setting"], set_only["restricted"]) == ("None", False)
    assert set_only["reimageDue"] == ["nodepool1", "userpool"]
    assert set_only["nextCommand"] == f"az-imds aks upgrade -g {RG} -n c1 --node-image-only --yes"
    table = az_imds(*SHOW[:-1], "table").out.splitlines()
    assert table[0].split()[3:5] == ["Restricted", "ReimageDue"]
    assert table[2].split()[3:6] == ["False", "nodepool1,", "userpool"]
    assert az_imds(*set_only["nextCommand"].split()[1:]).code == 0
    enforced = az_imds(*SHOW).json
    assert (enforced["setting"], enforced["restricted"], enforced["reimageDue"], enforced["nextCommand"]) == \
        ("None", True, [], None)


def test_disable_is_the_mirror_image(az_imds, admin, seed_cluster):
    seed_cluster(networkProfile={"networkPlugin": "azure", "podLinkLocalAccess": "None"})
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}
    r = az_imds(*UPDATE, "--disable-imds-restriction", "--yes")
    assert r.code == 0, r.err
    assert r.json["networkProfile"]["podLinkLocalAccess"] == "IMDS"
    assert admin.enforced(RG, "c1") == {"nodepool1": "IMDS", "userpool": "IMDS"}


def test_already_in_the_desired_state_sends_no_put(az_imds, admin, seed_cluster):
    seed_cluster()
    r = az_imds(*UPDATE, "--disable-imds-restriction", "--yes")
    assert r.code == 0
    assert "already disabled" in r.err
    assert admin.requests("PUT", "/managedClusters/") == [] and admin.requests("POST", "/subscriptions/") == []


def test_feature_not_registered_is_refused_client_side(az_imds, admin, seed_cluster):
    seed_cluster(feature="NotRegistered")
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 1
    assert "FeatureNotRegistered" in r.err
    assert "az-imds feature register --namespace Microsoft.ContainerService --name IMDSRestrictionPreview" in r.err
    assert "nothing was changed" in r.err
    assert admin.requests("PUT", "/managedClusters/") == []


def test_a_provider_still_registering_is_refused(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.seed(providers={"Microsoft.ContainerService": "Registering"})
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 1
    assert "ProviderNotRegistered" in r.err and "Registering" in r.err
    assert "az-imds provider register --namespace Microsoft.ContainerService --wait" in r.err
    assert admin.requests("PUT", "/managedClusters/") == []


def test_preflight_does_not_register_the_extensions_provider_as_a_side_effect(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.seed(providers={"Microsoft.KubernetesConfiguration": "NotRegistered"})
    r = az_imds("aks", "imds-restriction", "show", "-g", RG, "-n", "c1")
    assert r.code == 0, r.err
    assert r.json["extensions"] == []
    assert admin.requests("POST", "/register") == []
    assert admin.requests("GET", "/extensions") == []


def test_custom_feature_header_works_without_registration(az_imds, admin, seed_cluster):
    seed_cluster(feature="NotRegistered")
    header = "AKSHTTPCustomFeatures=Microsoft.ContainerService/IMDSRestrictionPreview"
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--aks-custom-headers", header, "--yes")
    assert r.code == 0, r.err
    [put] = admin.requests("PUT", "/managedClusters/")
    assert put["headers"]["AKSHTTPCustomFeatures"] == "Microsoft.ContainerService/IMDSRestrictionPreview"
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}


def test_oidc_issuer_off_blocks_and_enable_oidc_issuer_fixes_it(az_imds, admin, seed_cluster):
    seed_cluster(oidc=False)
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 1 and "OIDCIssuerDisabled" in r.err and "--enable-oidc-issuer" in r.err
    assert admin.requests("PUT", "/managedClusters/") == []
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--enable-oidc-issuer", "--yes")
    assert r.code == 0, r.err
    assert r.json["oidcIssuerProfile"]["enabled"] is True
    assert r.json["networkProfile"]["podLinkLocalAccess"] == "None"


def test_every_blocker_is_named_at_once(az_imds, admin, seed_cluster):
    seed_cluster(
        feature="NotRegistered", oidc=False,
        pools=[{"name": "nodepool1", "count": 1, "osType": "Linux", "mode": "System", "vmSize": "Standard_DS2_v2"},
               {"name": "win1", "count": 1, "osType": "Windows", "mode": "User", "vmSize": "Standard_DS2_v2"}],
        addonProfiles={"OMSAgent": {"enabled": True}, "azurePolicy": {"enabled": True}},
        extensions=[("flux", "microsoft.flux")])
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 1
    for expected in ("FeatureNotRegistered", "OIDCIssuerDisabled", "Node pool 'win1' runs Windows",
                     "Container Insights", "Azure Policy", "Cluster extension 'flux' (Flux (GitOps))"):
        assert expected in r.err
    assert "6 blocker(s)" in r.err
    assert admin.requests("PUT", "/managedClusters/") == []


def test_virtual_machines_pool_blocks(az_imds, admin, seed_cluster):
    seed_cluster(pools=[{"name": "vmpool", "count": 1, "osType": "Linux", "mode": "System",
                         "type": "VirtualMachines", "vmSize": "Standard_DS2_v2"}])
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 1 and "VirtualMachines" in r.err and admin.requests("PUT", "/managedClusters/") == []


def test_workload_identity_off_warns_and_proceeds(az_imds, admin, seed_cluster):
    seed_cluster(workload_identity=False)
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 0, r.err
    assert "Workload identity is off" in r.err and "--enable-workload-identity" in r.err


def test_no_terminal_and_no_yes_fails_before_any_change(az_imds, admin, seed_cluster):
    seed_cluster()
    r = az_imds(*UPDATE, "--enable-imds-restriction")
    assert r.code == 1
    assert "--yes" in r.err and "Nothing was changed" in r.err
    assert admin.requests("PUT", "/managedClusters/") == []


_run_on_a_terminal = run_on_a_terminal


def test_answering_no_at_the_prompt_changes_nothing(cli_env, admin, seed_cluster):
    seed_cluster()
    code, _out, err = _run_on_a_terminal(cli_env, list(UPDATE) + ["--enable-imds-restriction"], "n")
    assert code == 0
    assert "Cancelled" in err
    assert admin.requests("PUT", "/managedClusters/") == []


def test_answering_yes_at_the_prompt_proceeds(cli_env, admin, seed_cluster):
    seed_cluster()
    code, out, err = _run_on_a_terminal(cli_env, list(UPDATE) + ["--enable-imds-restriction"], "y")
    assert code == 0, err
    assert len(admin.requests("PUT", "/managedClusters/")) == 1
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}


def test_skip_node_image_upgrade_leaves_the_nodes_and_says_how_to_finish(az_imds, admin, seed_cluster):
    seed_cluster()
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--skip-node-image-upgrade", "--yes")
    assert r.code == 0, r.err
    assert r.json["networkProfile"]["podLinkLocalAccess"] == "None"
    assert admin.enforced(RG, "c1") == {"nodepool1": "IMDS", "userpool": "IMDS"}  # not enforced yet
    finish = f"az-imds aks upgrade -g {RG} -n c1 --node-image-only --yes"
    assert finish in r.err
    r = az_imds(*finish.split()[1:])
    assert r.code == 0, r.err
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}


def test_no_wait_returns_at_once_and_says_how_to_finish(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.config(lro_delay=5)  # the update still runs when the next command starts, on a loaded machine too
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--no-wait", "--yes")
    assert r.code == 0, r.err
    assert r.out.strip() == ""
    finish = "az-imds aks update -g rg1 -n c1 --enable-imds-restriction --yes"
    assert finish in r.err
    assert admin.requests("POST", "/upgradeNodeImageVersion") == []
    # The command it names finishes the job: it waits for the update still running, then reimages every pool.
    again = az_imds(*finish.split()[1:])
    assert again.code == 0, again.err
    assert "An operation is in progress" in again.err
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}
    assert "imds-ext-reimage-pending" not in (az_imds("aks", "show", "-g", RG, "-n", "c1").json.get("tags") or {})


def test_a_concurrent_change_is_retried_not_overwritten(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="PUT", path="/managedClusters/c1$", status=412, count=1)
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 0, r.err
    assert "changed while we were updating it" in r.err
    assert len(admin.requests("PUT", "/managedClusters/")) == 2
    assert len(admin.requests("GET", "/managedClusters/c1")) >= 2  # read again before the second PUT


def test_a_cluster_that_keeps_changing_is_an_error(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="PUT", path="/managedClusters/c1$", status=412, count=10)
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 1
    assert "kept changing" in r.err
    assert admin.enforced(RG, "c1") == {"nodepool1": "IMDS", "userpool": "IMDS"}


def test_if_match_with_a_stale_etag_fails_without_change(az_imds, admin, seed_cluster):
    seed_cluster()
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--if-match", "stale-etag", "--yes")
    assert r.code == 1
    assert "stale-etag" in r.err
    shown = az_imds("aks", "show", "-g", RG, "-n", "c1", "--query", "networkProfile.podLinkLocalAccess", "-o", "tsv")
    assert shown.out.strip() == "IMDS"


def test_if_match_with_the_current_etag_proceeds(az_imds, admin, seed_cluster):
    seed_cluster()
    etag = az_imds("aks", "show", "-g", RG, "-n", "c1", "--query", "eTag", "-o", "tsv").out.strip()
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--if-match", etag, "--yes")
    assert r.code == 0, r.err
    assert admin.requests("PUT", "/managedClusters/")[0]["headers"]["If-Match"].strip('"') == etag


def test_a_failed_reimage_names_the_pool_and_the_retry(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="POST", path="/agentPools/userpool/upgradeNodeImageVersion", status=400, count=1,
                body={"code": "ReconcileVMSSAgentPoolFailed", "message": "Simulated failure."})
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 1
    assert "Node image upgrade failed for userpool: (ReconcileVMSSAgentPoolFailed) Simulated failure." in r.err
    retry = "az-imds aks update -g rg1 -n c1 --enable-imds-restriction --yes"
    assert f"Run '{retry}' to retry the failed ones." in r.err
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "IMDS"}
    # The record names only the pool still due, and the same command finishes the job: that pool alone.
    assert az_imds("aks", "show", "-g", RG, "-n", "c1").json["tags"] == {"imds-ext-reimage-pending": "None:userpool"}
    admin.clear_requests()
    again = az_imds(*retry.split()[1:])
    assert again.code == 0, again.err
    assert "pool(s) userpool is still due" in again.err
    assert [e["path"].rsplit("/", 2)[1] for e in admin.requests("POST", "/upgradeNodeImageVersion")] == ["userpool"]
    assert admin.requests("PUT", "/managedClusters/") == []
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}
    assert admin.enforced(RG, "c1")["nodepool1"] == "None"


def test_transient_server_errors_are_retried_by_the_pipeline(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="GET", path="/managedClusters/c1$", status=503, retryAfter=0, count=1)
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 0, r.err
    reads = [e["status"] for e in admin.requests("GET") if e["path"].endswith("/managedClusters/c1")]
    assert reads[:2] == [503, 200]  # the 503 happened, and the pipeline read again
    assert set(admin.enforced(RG, "c1").values()) == {"None"}


def test_a_service_that_ignores_the_field_is_an_error_not_a_success(az_imds, admin, seed_cluster):
    # The service accepts the PUT but the cluster it then shows lacks the change (the final GET after the operation).
    seed_cluster()
    unchanged = az_imds("aks", "show", "-g", RG, "-n", "c1", "-o", "json").json
    body = {"id": unchanged["id"], "name": "c1", "location": "westus2",
            "properties": {"provisioningState": "Succeeded", "networkProfile": {"podLinkLocalAccess": "IMDS"}}}
    admin.clear_requests()
    admin.fault(method="GET", path="/managedClusters/c1$", skip=1, count=1, status=200, body=body)
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes", "--skip-workload-check")  # the GETs counted are ARM's
    assert r.code == 1
    assert "accepted the update but the cluster reports podLinkLocalAccess='IMDS'" in r.err
    assert admin.requests("POST", "/upgradeNodeImageVersion") == []


def test_a_ga_api_version_is_refused_before_any_request(az_imds, cli_env, admin, seed_cluster):
    # A GA api-version has no podLinkLocalAccess: a restricted cluster would look unrestricted to it.
    seed_cluster(restricted=True)
    for command in (UPDATE + ("--disable-imds-restriction", "--yes"), ("aks", "imds-restriction", "show", "-g", RG,
                                                                       "-n", "c1")):
        r = az_imds(*command, env=dict(cli_env, AZIMDS_AKS_API_VERSION="2026-08-01"))
        assert r.code == 1, r.err
        assert "AZIMDS_AKS_API_VERSION='2026-08-01' cannot manage IMDS restriction" in r.err
        assert "Traceback" not in r.err
    assert admin.requests() == []
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}


def test_upgrade_no_wait_starts_every_pool_and_returns(az_imds, admin, seed_cluster):
    seed_cluster(networkProfile={"networkPlugin": "azure", "podLinkLocalAccess": "None"},
                 nodes={"nodepool1": {"podLinkLocalAccess": "IMDS"}, "userpool": {"podLinkLocalAccess": "IMDS"}})
    admin.config(lro_delay=30)
    r = az_imds("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--yes", "--no-wait")
    assert r.code == 0, r.err
    started = admin.requests("POST", "/upgradeNodeImageVersion")
    assert sorted(e["path"].rsplit("/", 2)[1] for e in started) == ["nodepool1", "userpool"]
    assert admin.requests("GET", "/operations/") == []  # it did not wait
    pools = {p["name"]: p["provisioningState"] for p in r.json["agentPoolProfiles"]}
    assert pools == {"nodepool1": "UpgradingNodeImageVersion", "userpool": "UpgradingNodeImageVersion"}


def test_only_show_errors_silences_warnings(az_imds, admin, seed_cluster):
    seed_cluster(workload_identity=False)
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes", "--only-show-errors")
    assert r.code == 0, r.err
    assert r.err == ""


def test_progress_shows_on_a_terminal_only(cli_env, admin, seed_cluster):
    """stderr on a terminal gets the progress line; piped (CI logs), it stays clean (other tests)."""
    seed_cluster()
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *UPDATE, "--enable-imds-restriction", "--yes"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=cli_env)
    os.close(slave)
    proc.communicate(timeout=120)
    text = read_terminal(master)
    assert proc.returncode == 0, text
    assert "Updating cluster 'c1': done" in text
    assert "Upgrading the node image of 2 pool(s): nodepool1, userpool: done" in text


def test_a_failed_update_operation_is_reported_and_nothing_is_reimaged(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="PUT", path="/managedClusters/c1$", count=1,
                failOperation={"code": "ReconcileVMSSAgentPoolFailed", "message": "Simulated reconcile failure."})
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 1
    assert "ReconcileVMSSAgentPoolFailed" in r.err and "Simulated reconcile failure." in r.err
    assert admin.requests("POST", "/upgradeNodeImageVersion") == []


def test_a_pool_whose_reimage_ends_failed_is_named_the_others_finish_and_only_it_is_retried(az_imds, admin,
                                                                                            seed_cluster):
    seed_cluster(pools=("nodepool1", "userpool", "spotpool"))
    admin.config(lro_delay=1)  # the other pools are still running when userpool's upgrade ends Failed
    admin.fault(method="POST", path="/agentPools/userpool/upgradeNodeImageVersion", count=1,
                failOperation={"code": "ReconcileVMSSAgentPoolFailed", "message": "Simulated reimage failure."})
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 1
    retry = "az-imds aks update -g rg1 -n c1 --enable-imds-restriction --yes"
    assert "Node image upgrade failed for userpool: (ReconcileVMSSAgentPoolFailed) Simulated reimage failure." in r.err
    assert f"Run '{retry}' to retry the failed ones." in r.err
    assert "may still be running" not in r.err
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "IMDS", "spotpool": "None"}
    assert az_imds("aks", "show", "-g", RG, "-n", "c1").json["tags"] == {"imds-ext-reimage-pending": "None:userpool"}
    admin.clear_requests()
    again = az_imds(*retry.split()[1:])
    assert again.code == 0, again.err
    assert [e["path"].rsplit("/", 2)[1] for e in admin.requests("POST", "/upgradeNodeImageVersion")] == ["userpool"]
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None", "spotpool": "None"}


def test_a_pool_upgrade_started_elsewhere_that_ends_failed_is_waited_for_then_reimaged(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.config(lro_delay=4)  # still running when the next command starts, on a loaded machine too
    admin.fault(method="POST", path="/agentPools/userpool/upgradeNodeImageVersion", count=1,
                failOperation={"code": "ReconcileVMSSAgentPoolFailed", "message": "Simulated reimage failure."})
    assert az_imds("aks", "nodepool", "upgrade", "-g", RG, "--cluster-name", "c1", "-n", "userpool",
                   "--node-image-only", "--no-wait", "--yes").code == 0
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 0, r.err
    assert "An operation is in progress (node pool(s) userpool of cluster 'c1' are busy)" in r.err
    assert "invalid status" not in r.err
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}
    assert "imds-ext-reimage-pending" not in (az_imds("aks", "show", "-g", RG, "-n", "c1").json.get("tags") or {})


def test_a_cluster_update_started_elsewhere_that_ends_failed_is_waited_for_then_written_back(az_imds, admin,
                                                                                            seed_cluster):
    seed_cluster(restricted=False)
    admin.config(lro_delay=4)  # still running when the next command starts, on a loaded machine too
    admin.fault(method="PUT", path="/managedClusters/c1$", count=1,
                failOperation={"code": "ReconcileVMSSAgentPoolFailed", "message": "Simulated reconcile failure."})
    assert az_imds(*UPDATE, "--enable-imds-restriction", "--yes", "--no-wait").code == 0  # "elsewhere"
    r = az_imds(*UPDATE, "--enable-imds-restriction", "--yes")
    assert r.code == 0, r.err
    assert "An operation is in progress (cluster 'c1' is Updating)" in r.err
    assert "invalid status" not in r.err and "Failed state" in r.err
    shown = az_imds("aks", "show", "-g", RG, "-n", "c1").json
    assert shown["provisioningState"] == "Succeeded" and shown["networkProfile"]["podLinkLocalAccess"] == "None"
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}


def _colleague_adds_a_tag(emulator, key, value):
    """What `az aks update --tags` does: read the cluster's tags, PATCH them back with one more."""
    token = requests.post(f"{emulator.authority_host}/{WELL_KNOWN_TENANT_ID}/oauth2/v2.0/token",
                          data={"grant_type": "client_credentials", "client_id": WELL_KNOWN_CLIENT_ID,
                                "client_secret": WELL_KNOWN_CLIENT_SECRET,
                                "scope": emulator.arm_endpoint + "/.default"},
                          verify=emulator.ca_bundle_path, timeout=30).json()["access_token"]
    url = (f"{emulator.arm_endpoint}/subscriptions/{emulator.env()['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{RG}"
           f"/providers/Microsoft.ContainerService/managedClusters/c1?api-version={PREVIEW_API}")
    auth = {"Authorization": f"Bearer {token}"}
    tags = requests.get(url, headers=auth, verify=emulator.ca_bundle_path, timeout=30).json().get("tags") or {}
    r = requests.patch(url, json={"tags": {**tags, key: value}}, headers=auth, verify=emulator.ca_bundle_path,
                       timeout=30)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("command", ["update", "upgrade --node-image-only"])
def test_a_tag_added_while_the_record_is_rewritten_is_kept(cli_env, az_imds, admin, seed_cluster, emulator, command):
    seed_cluster()
    if command == "update":
        args = UPDATE + ("--enable-imds-restriction", "--yes")
    else:  # the setting written, its reimage left on record: the upgrade then removes the record
        assert az_imds(*UPDATE, "--enable-imds-restriction", "--skip-node-image-upgrade", "--yes").code == 0
        args = ("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--yes")
    admin.fault(method="PATCH", path="/managedClusters/c1$", count=1, delaySeconds=2)  # a slow front door
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env, text=True)
    deadline = time.monotonic() + 60
    while admin._call("GET", "/faults"):  # the record's PATCH has arrived and is held
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    _colleague_adds_a_tag(emulator, "owner", "team-a")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "changed while imds-ext was rewriting its record" in err
    assert az_imds("aks", "show", "-g", RG, "-n", "c1").json["tags"] == {"owner": "team-a"}
    ours = [e["status"] for e in admin.requests("PATCH", "/managedClusters/c1") if "If-Match" in e["headers"]]
    assert ours == [412, 200]  # refused on the stale eTag, then sent again over the tags read again


def test_check_workloads_when_the_scan_cannot_run_names_the_scan_and_force_goes_on(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="GET", path=f"/kubernetes/{SUB}/{RG}/c1/", status=403, count=1000,
                body={"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
                      "message": "forbidden: the API server refused the scan", "code": 403})
    refused = az_imds(*UPDATE, "--enable-imds-restriction", "--check-workloads", "--yes")
    assert refused.code == 1
    assert "The workload scan of cluster 'c1' could not run (it reads the workloads through the cluster's API server)" \
        in refused.err and "refused the scan" in refused.err
    assert "Nothing was changed" in refused.err and "or pass --skip-workload-check" in refused.err
    assert admin.requests("PUT") == []
    forced = az_imds(*UPDATE, "--enable-imds-restriction", "--check-workloads", "--force", "--yes")
    assert forced.code == 0, forced.err
    assert "--force: enabling IMDS restriction without the workload scan. The workload scan of cluster 'c1' could " \
        "not run" in forced.err
    assert set(admin.enforced(RG, "c1").values()) == {"None"}
