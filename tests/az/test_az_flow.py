"""The flow through the real `az`, logged in to the emulator: core commands, create, update, show, upgrade."""
import pytest

from tests.support.cli import read_terminal
from tests.support.clusters import seed_cluster
from tests.support.constants import FEATURE, PREVIEW_API

pytestmark = pytest.mark.az

RG = "rg1"


def test_core_feature_and_provider_commands(az_logged_in, admin):
    registered = az_logged_in("feature", "register", "--namespace", "Microsoft.ContainerService",
                              "--name", "IMDSRestrictionPreview", "-o", "json")
    assert registered.code == 0, registered.err
    assert registered.json["name"] == FEATURE
    assert "az provider register -n Microsoft.ContainerService" in registered.err
    shown = az_logged_in("feature", "show", "--namespace", "Microsoft.ContainerService",
                         "--name", "IMDSRestrictionPreview", "--query", "properties.state", "-o", "tsv")
    assert (shown.code, shown.out.strip()) == (0, "Registered")
    provider = az_logged_in("provider", "register", "-n", "Microsoft.ContainerService", "--wait")
    assert provider.code == 0, provider.err


def test_create_without_the_flag_is_azs_own(az_logged_in, admin):
    assert az_logged_in("group", "create", "-n", RG, "-l", "westus2", "-o", "none").code == 0
    result = az_logged_in("aks", "create", "-g", RG, "-n", "plain", "--node-count", "1", "--enable-oidc-issuer",
                          "--no-ssh-key", "-o", "json")
    assert result.code == 0, result.err
    assert result.json["agentPoolProfiles"][0]["count"] == 1 and result.json["oidcIssuerProfile"]["enabled"]
    [put] = admin.requests("PUT", "/managedClusters/plain")
    assert put["query"]["api-version"] != PREVIEW_API  # az's own client, az's api-version
    assert put["headers"]["CommandName"] == "aks create"
    assert set(admin.enforced(RG, "plain").values()) == {"IMDS"}


def test_create_with_the_flag_stops_on_a_blocker_before_any_put(az_logged_in, admin):
    az_logged_in("group", "create", "-n", RG, "-l", "westus2", "-o", "none")
    result = az_logged_in("aks", "create", "-g", RG, "-n", "c2", "--enable-oidc-issuer", "--enable-imds-restriction",
                          "--no-ssh-key")
    assert result.code == 1
    assert "FeatureNotRegistered" in result.err and "az feature register" in result.err
    assert "Traceback" not in result.err
    assert admin.requests("PUT", "/managedClusters/") == []


def test_create_with_the_flag_keeps_azs_options_and_restricts_from_the_start(az_logged_in, admin):
    admin.seed({"resourceGroups": [{"name": RG, "location": "westus2"}], "features": {FEATURE: "Registered"},
                "providers": {"Microsoft.ContainerService": "Registered"}})
    result = az_logged_in("aks", "create", "-g", RG, "-n", "c2", "--node-count", "2", "--enable-oidc-issuer",
                          "--enable-workload-identity", "--tags", "team=blue", "--enable-imds-restriction",
                          "--no-ssh-key", "-o", "json")
    assert result.code == 0, result.err
    cluster = result.json
    assert cluster["networkProfile"]["podLinkLocalAccess"] == "None"
    assert cluster["agentPoolProfiles"][0]["count"] == 2 and cluster["tags"] == {"team": "blue"}
    assert cluster["securityProfile"]["workloadIdentity"]["enabled"] is True
    [put] = admin.requests("PUT", "/managedClusters/c2")
    assert put["query"]["api-version"] == PREVIEW_API
    assert set(admin.enforced(RG, "c2").values()) == {"None"}


def test_update_enable_patches_and_reimages(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes",
                          "--query", "networkProfile.podLinkLocalAccess", "-o", "tsv")
    assert (result.code, result.out.strip()) == (0, "None"), result.err
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}
    [put] = admin.requests("PUT", "/managedClusters/c1")
    assert put["query"]["api-version"] == PREVIEW_API and put["headers"].get("If-Match")
    upgrades = [e for e in admin.requests() if e["method"] == "POST" and "upgradeNodeImageVersion" in e["path"]]
    assert len(upgrades) == 2
    again = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes", "-o", "none")
    assert again.code == 0 and "already enabled" in again.err


def test_update_disable(az_logged_in, admin):
    seed_cluster(admin, RG, "c1", restricted=True)
    result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--disable-imds-restriction", "--yes",
                          "--query", "networkProfile.podLinkLocalAccess", "-o", "tsv")
    assert (result.code, result.out.strip()) == (0, "IMDS"), result.err
    assert set(admin.enforced(RG, "c1").values()) == {"IMDS"}


def test_update_without_tty_or_yes_changes_nothing(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction")
    assert result.code == 1
    assert "Pass --yes" in result.err and "Traceback" not in result.err
    assert admin.requests("PUT") == []


def test_update_with_a_stale_if_match_changes_nothing(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--if-match",
                          "stale-etag", "--yes")
    assert result.code == 1 and "stale-etag" in result.err and "Traceback" not in result.err
    assert set(admin.enforced(RG, "c1").values()) == {"IMDS"}


def test_update_no_wait_returns_and_names_azs_command_to_finish(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    admin.config(lro_delay=2)
    result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes", "--no-wait")
    assert result.code == 0, result.err
    assert result.out.strip() == ""
    finish = f"az aks update -g {RG} -n c1 --enable-imds-restriction --yes"
    assert finish in result.err
    assert len(admin.requests("PUT", "/managedClusters/c1")) == 1
    assert not [e for e in admin.requests() if "upgradeNodeImageVersion" in e["path"]]
    # The command it names finishes the job inside az too: it waits for the update, then reimages every pool.
    again = az_logged_in(*finish.split()[1:], "-o", "none")
    assert again.code == 0, again.err
    assert "An operation is in progress" in again.err
    assert set(admin.enforced(RG, "c1").values()) == {"None"}
    assert len(admin.requests("PUT", "/managedClusters/c1")) == 1  # no second write of the setting


def test_debug_never_shows_the_secret_or_a_token(az_logged_in, admin):
    from imds_ext.emulator import WELL_KNOWN_CLIENT_SECRET

    seed_cluster(admin, RG, "c1")
    result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes", "--debug",
                          "-o", "none")
    assert result.code == 0, result.err[-2000:]
    text = result.out + result.err
    assert WELL_KNOWN_CLIENT_SECRET not in text and "eyJ" not in text


def test_update_names_the_blocker_and_changes_nothing(az_logged_in, admin):
    seed_cluster(admin, RG, "c1", feature="NotRegistered")
    result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes")
    assert result.code == 1
    assert "FeatureNotRegistered" in result.err and "az feature register" in result.err
    assert admin.requests("PUT") == []


def test_not_found_exits_3(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    for args in (("aks", "update", "-g", RG, "-n", "nope", "--enable-imds-restriction", "--yes"),
                 ("aks", "imds-restriction", "show", "-g", RG, "-n", "nope")):
        result = az_logged_in(*args)
        assert result.code == 3, (args, result.err)
        assert "nope" in result.err and "Traceback" not in result.err


def test_core_update_options_still_go_through_azs_own_code(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--tags", "env=dev", "-o", "json")
    assert result.code == 0, result.err
    assert result.json["tags"] == {"env": "dev"}
    [put] = admin.requests("PUT", "/managedClusters/c1")
    assert put["query"]["api-version"] != PREVIEW_API and put["headers"]["CommandName"] == "aks update"
    assert "IMDSRestriction" not in result.err


def test_the_flag_with_other_update_options_is_a_usage_error(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--tags", "a=b",
                          "--yes")
    assert result.code == 2
    assert "cannot be combined with other 'az aks update' options (--tags)" in result.err
    assert admin.requests() == []


def test_show_reports_state_and_readiness(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in("aks", "imds-restriction", "show", "-g", RG, "-n", "c1", "-o", "json")
    assert result.code == 0, result.err
    report = result.json
    assert (report["podLinkLocalAccess"], report["canEnable"], report["feature"]["state"]) == \
        ("IMDS", True, "Registered")
    assert [p["name"] for p in report["ifEnabled"]["reimage"]] == ["nodepool1", "userpool"]


def test_skip_reimage_then_node_image_upgrade_through_az(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction",
                          "--skip-node-image-upgrade", "--yes", "-o", "none")
    assert result.code == 0, result.err
    assert f"az aks upgrade -g {RG} -n c1 --node-image-only --yes" in result.err
    assert set(admin.enforced(RG, "c1").values()) == {"IMDS"}  # the nodes do not enforce it yet
    shown = az_logged_in("aks", "imds-restriction", "show", "-g", RG, "-n", "c1", "-o", "json").json
    assert (shown["setting"], shown["restricted"], shown["reimageDue"]) == ("None", False, ["nodepool1", "userpool"])
    assert shown["nextCommand"] == f"az aks upgrade -g {RG} -n c1 --node-image-only --yes"
    admin.clear_requests()
    upgrade = az_logged_in("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--yes", "-o", "json")
    assert upgrade.code == 0, upgrade.err
    assert set(admin.enforced(RG, "c1").values()) == {"None"}
    # The core's upgrade: every pool at once, at the preview api-version, and waited for (it polls).
    posts = [e for e in admin.requests() if e["method"] == "POST" and "upgradeNodeImageVersion" in e["path"]]
    assert len(posts) == 2 and {e["query"]["api-version"] for e in posts} == {PREVIEW_API}
    assert any("/operations/" in e["path"] for e in admin.requests())
    assert {p["provisioningState"] for p in upgrade.json["agentPoolProfiles"]} == {"Succeeded"}


def test_kubernetes_version_upgrade_stays_azs_own(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in("aks", "upgrade", "-g", RG, "-n", "c1", "--kubernetes-version", "1.33.1", "--yes",
                          "-o", "none")
    assert result.code == 0, result.err
    [put] = admin.requests("PUT", "/managedClusters/c1")
    assert put["query"]["api-version"] != PREVIEW_API and put["headers"]["CommandName"] == "aks upgrade"


@pytest.mark.parametrize("args, also", [(("--kubernetes-version", "1.33.1", "--verify"), " (also given: "
                                                                                     "--kubernetes-version)"),
                                         (("--verify",), "")])
def test_verify_goes_with_a_node_image_only_upgrade_alone(az_logged_in, admin, args, also):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in("aks", "upgrade", "-g", RG, "-n", "c1", *args, "--yes")
    assert result.code == 2, result.err
    assert f"--verify proves a node-image-only upgrade: it goes with --node-image-only and no other 'az aks " \
           f"upgrade' option{also}. Nothing was changed." in result.err
    assert admin.requests("PUT") == [] and admin.requests("POST") == []


@pytest.mark.parametrize("answer, changed", [("n", False), ("y", True)])
def test_update_asks_with_azs_prompt_on_a_terminal(az_logged_in, admin, answer, changed):
    import os
    import pty

    seed_cluster(admin, RG, "c1")
    primary, secondary = pty.openpty()
    try:
        os.write(primary, f"{answer}\n".encode())
        result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "-o", "none",
                              stdin=secondary)
    finally:
        os.close(primary)
        os.close(secondary)
    assert result.code == 0, result.err
    assert "IMDS restriction will be enabled" in result.out and "Proceed?" in result.out
    assert bool(admin.requests("PUT", "/managedClusters/c1")) is changed
    if not changed:
        assert "Cancelled: no change was made." in result.err


def test_progress_on_a_terminal_is_azs_own_progress_controller(az_logged_in, admin, emulator):
    """stderr on a terminal: az's spinner while the pollers run, then the done lines (piped: none, see above)."""
    import os
    import pty
    import subprocess

    seed_cluster(admin, RG, "c1")
    admin.config(lro_delay=1)
    primary, secondary = pty.openpty()
    env = {**az_logged_in.env, "REQUESTS_CA_BUNDLE": emulator.ca_bundle_path}
    proc = subprocess.Popen([az_logged_in.az_path, "aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction",
                             "--yes", "-o", "none"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=secondary, env=env)
    os.close(secondary)
    proc.communicate(timeout=300)
    text = read_terminal(primary)
    assert proc.returncode == 0, text
    assert "Updating cluster 'c1' (" in text  # the spinner's label, with the elapsed time
    assert "Updating cluster 'c1': done" in text
    assert "Upgrading the node image of 2 pool(s): nodepool1, userpool: done" in text
    assert set(admin.enforced(RG, "c1").values()) == {"None"}


def test_verify_inside_az_names_the_pool_missed_by_the_reimage(az_logged_in, admin):
    seed_cluster(admin, RG, "c1", restricted=True, nodes={"nodepool1": {"podLinkLocalAccess": "None"},
                                                          "userpool": {"podLinkLocalAccess": "IMDS"}})
    failed = az_logged_in("aks", "imds-restriction", "verify", "-g", RG, "-n", "c1", "-o", "json")
    assert failed.code == 1 and "(userpool): open: IMDS answered a pod on the pod network" in failed.err
    assert {n["verdict"] for n in failed.json["nodes"] if n["pool"] == "userpool"} == {"open"}  # the report, kept
    assert az_logged_in("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--yes", "-o", "none").code == 0
    proven = az_logged_in("aks", "imds-restriction", "verify", "-g", RG, "-n", "c1", "-o", "json")
    assert proven.code == 0, proven.err
    assert proven.json["ok"] and {n["verdict"] for n in proven.json["nodes"]} == {"enforced"}


def test_check_workloads_and_verify_inside_az(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    admin.seed(kubernetes=[{"resourceGroup": RG, "cluster": "c1", "objects": [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "legacy", "namespace": "shop"},
         "spec": {"template": {"metadata": {"labels": {"aadpodidbinding": "legacy"}}, "spec": {"containers": []}}}}]}])
    refused = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--check-workloads",
                           "--yes")
    assert refused.code == 1 and "Deployment shop/legacy" in refused.err
    assert admin.requests("PUT", "/managedClusters/c1") == []
    forced = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--check-workloads",
                          "--force", "--verify", "--yes", "-o", "none")
    assert forced.code == 0, forced.err
    assert "Verified: all 5 Linux node(s)" in forced.err
    scanned = az_logged_in("aks", "imds-restriction", "scan", "-g", RG, "-n", "c1", "-o", "json")
    assert scanned.code == 4 and "aad-pod-identity" in scanned.err  # 4: the scan ran, something breaks
    assert scanned.json["summary"]["breaks"] == 1 and "Workload ID" in scanned.json["workloads"][0]["fix"]


@pytest.mark.parametrize("option, value", [("--if-match", "日本"), ("--aks-custom-headers", "X=日本")])
def test_a_header_value_http_cannot_carry_is_a_usage_error_through_az(az_logged_in, admin, option, value):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", option, value, "--yes")
    assert result.code == 2, result.err
    assert option in result.err and "only Latin-1" in result.err and "Traceback" not in result.err
    assert admin.requests() == []


def test_a_header_value_http_cannot_carry_on_create_is_a_usage_error_through_az(az_logged_in, admin):
    admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}])
    admin.clear_requests()
    result = az_logged_in("aks", "create", "-g", RG, "-n", "new1", "--enable-oidc-issuer", "--enable-imds-restriction",
                          "--aks-custom-headers", "X-Team=\u65e5\u672c")
    assert result.code == 2, result.err
    assert "--aks-custom-headers" in result.err and "Traceback" not in result.err
    assert admin.requests("PUT") == []


def test_show_as_a_table_inside_az_is_the_readable_one(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    shown = az_logged_in("aks", "imds-restriction", "show", "-g", RG, "-n", "c1", "-o", "table")
    assert shown.code == 0, shown.err
    header = shown.out.splitlines()[0].split()
    assert header[:4] == ["Name", "ResourceGroup", "PodLinkLocalAccess", "Restricted"]
    assert max(len(line) for line in shown.out.splitlines()) < 160
