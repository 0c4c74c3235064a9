"""The convergence contract (docs/convergence.md): after any failure or interruption, the same command finishes
the job, and exits 0 only once the nodes enforce the setting."""
import signal
import subprocess
import sys
import time

import pytest

from tests.support.constants import FEATURE, RG

ENABLE = ("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes")
RESUME = "az-imds aks update -g rg1 -n c1 --enable-imds-restriction --yes"
MARKER = "imds-ext-reimage-pending"


def _tags(az_imds):
    return az_imds("aks", "show", "-g", RG, "-n", "c1").json.get("tags") or {}


def _finished(az_imds, admin):
    """What a user checks at the end: the setting, every node enforcing it, no reimage left on record."""
    shown = az_imds("aks", "show", "-g", RG, "-n", "c1").json
    assert shown["networkProfile"]["podLinkLocalAccess"] == "None"
    assert shown["provisioningState"] == "Succeeded"
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}
    assert MARKER not in (shown.get("tags") or {})


def _start(cli_env, args):
    return subprocess.Popen([sys.executable, "-m", "imds_ext", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env, text=True)


def _wait_for(admin, method, contains, timeout=60):
    deadline = time.monotonic() + timeout
    while not admin.requests(method, contains):
        assert time.monotonic() < deadline, f"no {method} {contains} within {timeout}s"
        time.sleep(0.1)


def test_a_response_lost_after_commit_is_not_reported_as_no_change(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="PUT", path="/managedClusters/c1$", count=1, dropResponse=True)
    r = az_imds(*ENABLE)
    assert r.code == 0, r.err
    # Applied but unanswered; the pipeline's retry then finds the eTag changed (by our own write): the flow reads
    # again, sees the setting in place with its record, and finishes the job instead of reporting "no change".
    assert [e["status"] for e in admin.requests("PUT", "/managedClusters/c1")] == [0, 412]
    assert "changed while we were updating it" in r.err
    assert "no change was made" not in r.err and "nothing was changed" not in r.err
    _finished(az_imds, admin)


def test_a_failed_cluster_operation_is_finished_by_the_same_command(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="PUT", path="/managedClusters/c1$", count=1,
                failOperation={"code": "ReconcileVMSSAgentPoolFailed", "message": "Simulated reconcile failure."})
    r = az_imds(*ENABLE)
    assert r.code == 1
    assert "(ReconcileVMSSAgentPoolFailed) Simulated reconcile failure." in r.err
    shown = az_imds("aks", "show", "-g", RG, "-n", "c1").json
    assert shown["provisioningState"] == "Failed"
    assert {p["provisioningState"] for p in shown["agentPoolProfiles"]} == {"Failed"}  # released, not Updating
    again = az_imds(*ENABLE)
    assert again.code == 0, again.err
    assert "Failed state" in again.err
    _finished(az_imds, admin)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_wait_says_what_goes_on_and_the_same_command_finishes(cli_env, az_imds, admin, seed_cluster,
                                                                             sig):
    seed_cluster()
    admin.config(lro_delay=3)
    proc = _start(cli_env, ENABLE)
    _wait_for(admin, "PUT", "/managedClusters/c1")
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert (f"Interrupted. The update of cluster 'c1' was accepted by the service and may still be running there. "
            f"Run '{RESUME}' to finish the job") in err
    assert "Traceback" not in err
    again = az_imds(*ENABLE)
    assert again.code == 0, again.err
    _finished(az_imds, admin)


def test_interrupted_during_the_reimage_the_same_command_waits_for_it_and_reimages_nothing_twice(
        cli_env, az_imds, admin, seed_cluster):
    seed_cluster()
    admin.config(lro_delay=6)  # long enough that the upgrades are still running when the re-run starts, under load
    proc = _start(cli_env, ENABLE)
    _wait_for(admin, "POST", "/upgradeNodeImageVersion")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert ("Interrupted. The node-image upgrade of pool(s) nodepool1, userpool of cluster 'c1' was started and may "
            f"still be running. Run '{RESUME}' to finish the job.") in err
    admin.clear_requests()
    again = az_imds(*ENABLE)
    assert again.code == 0, again.err
    assert "that was in progress has finished, and no other is due" in again.err
    assert admin.requests("POST", "/upgradeNodeImageVersion") == []  # the upgrades in flight counted
    _finished(az_imds, admin)


def test_kill_9_then_an_immediate_rerun_finishes_the_job(cli_env, az_imds, admin, seed_cluster):
    seed_cluster()
    admin.config(lro_delay=2)
    proc = _start(cli_env, ENABLE)
    _wait_for(admin, "PUT", "/managedClusters/c1")
    proc.kill()
    proc.communicate(timeout=30)
    again = az_imds(*ENABLE)
    assert again.code == 0, again.err
    assert "An operation is in progress (cluster 'c1' is Updating); waiting for it" in again.err
    _finished(az_imds, admin)


def test_a_dropped_pool_request_does_not_abandon_the_others(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="POST", path="/agentPools/nodepool1/upgradeNodeImageVersion", count=100, drop=True)
    r = az_imds(*ENABLE)
    assert r.code == 1
    assert "Node image upgrade failed for nodepool1" in r.err and f"Run '{RESUME}' to retry the failed ones." in r.err
    assert admin.enforced(RG, "c1") == {"nodepool1": "IMDS", "userpool": "None"}
    assert _tags(az_imds) == {MARKER: "None:nodepool1"}
    admin.clear_faults()  # the network is back
    admin.clear_requests()
    again = az_imds(*ENABLE)
    assert again.code == 0, again.err
    assert [e["path"].rsplit("/", 2)[1] for e in admin.requests("POST", "/upgradeNodeImageVersion")] == ["nodepool1"]
    _finished(az_imds, admin)


def test_an_operation_started_elsewhere_is_waited_for(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.config(lro_delay=2)
    assert az_imds("aks", "nodepool", "upgrade", "-g", RG, "--cluster-name", "c1", "-n", "userpool",
                   "--node-image-only", "--no-wait", "--yes").code == 0
    r = az_imds(*ENABLE)
    assert r.code == 0, r.err
    assert "An operation is in progress (node pool(s) userpool of cluster 'c1' are busy)" in r.err
    _finished(az_imds, admin)


def test_a_finished_job_is_reported_as_done_and_changes_nothing(az_imds, admin, seed_cluster):
    seed_cluster()
    assert az_imds(*ENABLE).code == 0
    admin.clear_requests()
    again = az_imds(*ENABLE)
    assert again.code == 0, again.err
    assert "already enabled on cluster 'c1' and, by imds-ext's record, no node-image upgrade is due" in again.err
    writes = [e for e in admin.requests() if e["path"].startswith("/subscriptions/") and e["method"] != "GET"]
    assert writes == []
    _finished(az_imds, admin)


def _interrupted(cli_env, admin, args, method, contains, sig) -> str:
    """Run `args`, send `sig` once its `method` request on `contains` is seen; its stderr, once it exited 1."""
    proc = _start(cli_env, args)
    _wait_for(admin, method, contains)
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    return err


POOL_UPGRADE = ("aks", "nodepool", "upgrade", "-g", RG, "--cluster-name", "c1", "-n", "userpool", "--node-image-only",
                "--yes")
CREATE = ("aks", "create", "-g", RG, "-n", "new1", "--enable-oidc-issuer", "--enable-imds-restriction")


# job: (command, the request it is interrupted after, what the message says goes on in Azure)
INTERRUPTED = {
    "nodepool upgrade": (POOL_UPGRADE, ("POST", "/upgradeNodeImageVersion"),
                         "The node-image upgrade of pool 'userpool' of cluster 'c1' was started and may still be "
                         "running."),
    "create": (CREATE, ("PUT", "/managedClusters/new1"),
               "The create of cluster 'new1' was accepted by the service and may still be running there."),
}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("job", INTERRUPTED)
def test_an_interrupted_nodepool_upgrade_or_create_says_what_goes_on_and_the_same_command_finishes(
        cli_env, az_imds, admin, seed_cluster, job, sig):
    command, (method, contains), going_on = INTERRUPTED[job]
    if job == "create":
        admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}], features={FEATURE: "Registered"})
    else:
        seed_cluster()
    admin.config(lro_delay=3)
    err = _interrupted(cli_env, admin, command, method, contains, sig)
    assert f"Interrupted. {going_on} Run 'az-imds {' '.join(command)}' to finish the job" in err
    again = az_imds(*command)
    assert again.code == 0, again.err
    assert len(admin.requests(method, contains)) == 1  # what was in flight counted: nothing was sent again
    assert again.json["provisioningState"] == "Succeeded"
    if job == "create":
        assert "already exists as this command creates it" in again.err
        assert again.json["networkProfile"]["podLinkLocalAccess"] == "None"
    else:
        assert admin.enforced(RG, "c1")["userpool"] == "IMDS"
