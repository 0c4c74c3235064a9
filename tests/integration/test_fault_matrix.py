"""A fault on each step of `aks update --enable-imds-restriction`, through the real CLI: a transient fault is
absorbed; a lasting one ends the run with a sentence saying what failed and what is true of the cluster; then,
with the fault gone, the same command finishes the job (docs/convergence.md)."""
import pytest

from tests.support.constants import RG

ENABLE = ("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes")
NOTHING_CHANGED = "Nothing was changed on cluster 'c1'."
ACCEPTED = "The update of cluster 'c1' was accepted by the service"
POOLS_STARTED = "Node image upgrade failed for userpool"
RECORD = ("The node-image upgrade of pool(s) nodepool1, userpool of cluster 'c1' is done, but imds-ext's record of "
          "the reimage due could not be updated")

# step: (method, path regex, what the message says about the cluster when the fault lasts)
STEPS = {
    "read": ("GET", r"/managedClusters/c1$", NOTHING_CHANGED),
    "feature read": ("GET", r"/features/IMDSRestrictionPreview$", NOTHING_CHANGED),
    "provider read": ("GET", r"/providers/Microsoft\.ContainerService$", NOTHING_CHANGED),
    "extension list": ("GET", r"/extensions$", NOTHING_CHANGED),
    "cluster PUT": ("PUT", r"/managedClusters/c1$", NOTHING_CHANGED),
    "operation poll": ("GET", r"/operations/", ACCEPTED),
    "pool POST": ("POST", r"/agentPools/userpool/upgradeNodeImageVersion$", POOLS_STARTED),
    "record PATCH": ("PATCH", r"/managedClusters/c1$", RECORD),
}
LASTING = {
    "service error": dict(status=409, body={"code": "InjectedConflict", "message": "Injected lasting fault."}),
    "dropped connection": dict(drop=True),
}


def _finished(az_imds, admin):
    shown = az_imds("aks", "show", "-g", RG, "-n", "c1").json
    assert shown["networkProfile"]["podLinkLocalAccess"] == "None" and shown["provisioningState"] == "Succeeded"
    assert admin.enforced(RG, "c1") == {"nodepool1": "None", "userpool": "None"}
    assert "imds-ext-reimage-pending" not in (shown.get("tags") or {})


@pytest.mark.parametrize("step", ["read", "cluster PUT", "operation poll", "pool POST", "record PATCH"])
def test_a_transient_fault_is_absorbed(az_imds, admin, seed_cluster, step):
    seed_cluster()
    method, path, _ = STEPS[step]
    admin.fault(method=method, path=path, count=1, status=503, retryAfter=1)
    r = az_imds(*ENABLE)
    assert r.code == 0, r.err
    assert [e["status"] for e in admin.requests(method) if e["status"] == 503]  # it did happen
    _finished(az_imds, admin)


# Every step with a lasting service error; the dropped connection (slower: the pipeline retries it with backoff)
# on the steps whose code paths differ (the preflight reads share the read's).
CASES = [(step, "service error") for step in STEPS] + [
    (step, "dropped connection") for step in STEPS if step not in ("feature read", "provider read", "extension list")]


@pytest.mark.parametrize("step, fault", CASES)
def test_a_lasting_fault_is_a_sentence_and_the_same_command_finishes(az_imds, admin, seed_cluster, step, fault):
    seed_cluster()
    method, path, state = STEPS[step]
    admin.fault(method=method, path=path, count=1000, **LASTING[fault])
    r = az_imds(*ENABLE)
    assert r.code == 1, r.err
    errors = [line for line in r.err.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and "Traceback" not in r.err  # one sentence; the rest is progress (a pool's end)
    assert all(line.startswith(("ERROR: ", "WARNING: ")) for line in r.err.splitlines() if line.strip())
    assert state in r.err
    reason = "Injected lasting fault." if fault == "service error" else "onnection"
    assert reason in r.err
    admin.clear_faults()
    again = az_imds(*ENABLE)
    assert again.code == 0, again.err
    _finished(az_imds, admin)
