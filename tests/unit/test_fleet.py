"""The fleet rollout's pure parts: the classification of each cluster, the selection, the wave schedule, the
journal."""
import errno
import os
import threading
import time
from types import SimpleNamespace

import pytest

from imds_ext.core import budget, fleet, journal as journaling, marker, preflight
from imds_ext.core.cluster import parse_cluster_id
from imds_ext.core.errors import ConfigurationError, Interrupted

READY = preflight.Environment(feature_state="Registered", provider_state="Registered")


def cluster(setting="IMDS", oidc=True, tags=None, state="Succeeded", pools=(("nodepool1", "Linux"),)):
    return {"id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
            "name": "c", "tags": tags or {},
            "properties": {"provisioningState": state, "oidcIssuerProfile": {"enabled": oidc},
                           "networkProfile": {"podLinkLocalAccess": setting},
                           "agentPoolProfiles": [{"name": n, "osType": os, "mode": "System", "count": 1}
                                                 for n, os in pools]}}


def test_a_ready_cluster_is_to_change_and_one_already_restricted_is_done():
    assert fleet.classify(cluster(), READY, True, "rg", "c")[0] == fleet.CHANGE
    assert fleet.classify(cluster(setting="None"), None, True, "rg", "c")[0] == fleet.NONE
    assert fleet.classify(cluster(setting="None"), None, False, "rg", "c")[0] == fleet.CHANGE


def test_a_restricted_cluster_whose_reimage_is_recorded_due_is_to_finish():
    tags = marker.with_record({}, "None", ["nodepool1"])
    assert fleet.classify(cluster(setting="None", tags=tags), None, True, "rg", "c")[0] == fleet.FINISH
    # a record for the other setting is stale: nothing is due for this one
    assert fleet.classify(cluster(setting="None", tags=marker.with_record({}, "IMDS", ["x"])), None, True, "rg",
                          "c")[0] == fleet.NONE
    assert fleet.classify(cluster(setting="None", state="Failed"), None, True, "rg", "c")[0] == fleet.FINISH


def test_every_blocker_is_named_and_an_operation_in_progress_is_not_one():
    action, blockers, _ = fleet.classify(
        cluster(oidc=False, state="Updating", pools=(("nodepool1", "Linux"), ("win", "Windows"))),
        preflight.Environment(feature_state="NotRegistered"), True, "rg", "c")
    assert action == fleet.BLOCKED
    assert [b.code for b in blockers] == ["FeatureNotRegistered", "OIDCIssuerDisabled", "WindowsNodePool"]
    assert all(b.fix for b in blockers)
    action, blockers, _ = fleet.classify(cluster(state="Updating"), READY, True, "rg", "c")
    assert (action, blockers) == (fleet.CHANGE, [])


def test_the_planned_waves_are_the_canary_then_the_rest_and_none_for_a_cluster_left_as_it_is():
    targets = [fleet.Target("s", "rg", f"c{i}", action=a) for i, a in enumerate(
        (fleet.NONE, fleet.CHANGE, fleet.BLOCKED, fleet.FINISH, fleet.CHANGE))]
    fleet.planned_waves(targets, canary=2)
    assert [t.wave for t in targets] == [None, "canary", None, "canary", "main"]
    fleet.planned_waves(targets, canary=0)
    assert [t.wave for t in targets] == [None, "main", None, "main", "main"]


def test_the_flows_warnings_are_findings_without_repeating_the_plans():
    plan = preflight.Finding("WorkloadIdentityDisabled", "Workload identity is off.", "az aks update --x")
    said = ["Workload identity is off. Fix: az aks update --x", "An operation is in progress.",
            "An operation is in progress."]
    assert fleet._flow_warnings(said, [plan]) == [preflight.Finding("FlowWarning", "An operation is in progress.")]
    target = fleet.Target("s", "rg", "c", warnings=[plan])
    assert target.to_dict()["warnings"] == [{"code": "WorkloadIdentityDisabled", "message": "Workload identity is "
                                             "off.", "fix": "az aks update --x", "cost": None}]


def test_the_effective_state_of_a_listed_cluster():
    from imds_ext.core import inventory

    assert inventory.effective_state(cluster(setting="None")) == (inventory.ENFORCED, [])
    assert inventory.effective_state(cluster(setting="IMDS")) == (inventory.OPEN, [])
    no_setting = cluster()
    del no_setting["properties"]["networkProfile"]
    assert inventory.effective_state(no_setting) == (inventory.OPEN, [])
    pools = (("nodepool1", "Linux"), ("userpool", "Linux"), ("win", "Windows"))
    due = marker.with_record({}, "None", ["userpool", "win"])
    assert inventory.effective_state(cluster(setting="None", tags=due, pools=pools)) == (inventory.REIMAGE_DUE,
                                                                                          ["userpool"])
    every = marker.with_record({}, "None", [])  # "None:*": every Linux pool
    assert inventory.effective_state(cluster(setting="None", tags=every, pools=pools)) == (
        inventory.REIMAGE_DUE, ["nodepool1", "userpool"])
    # a record of the other setting is stale
    assert inventory.effective_state(cluster(setting="None", tags=marker.with_record({}, "IMDS", ["x"]))) == (
        inventory.ENFORCED, [])


def test_tags_select_clusters_carrying_every_one():
    selection = fleet.Selection(tags=(("env", "prod"), ("team", None)))
    assert selection.matches({"tags": {"Env": "prod", "team": "a"}})
    assert not selection.matches({"tags": {"env": "prod"}})
    assert not selection.matches({"tags": {"env": "dev", "team": "a"}})
    assert fleet.Selection().matches({"tags": None})


def test_cluster_ids_parse_and_bad_ones_are_named():
    assert parse_cluster_id("/subscriptions/ABC/resourcegroups/rg/providers/microsoft.containerservice/"
                            "managedClusters/c1") == ("abc", "rg", "c1")
    with pytest.raises(ValueError, match="not the resource ID of a managed cluster"):
        parse_cluster_id("/subscriptions/abc/resourceGroups/rg")


# -- the wave schedule ---------------------------------------------------------------------------------------
def targets(n):
    return [fleet.Target("s", "rg", f"c{i:02d}") for i in range(n)]


class Runner:
    """A stand-in for one cluster's flow: it fails the clusters named, and tracks how many run at once."""

    def __init__(self, failing=(), seconds=0.02):
        self.failing, self.seconds = set(failing), seconds
        self.lock = threading.Lock()
        self.running = self.peak = 0
        self.order = []

    def __call__(self, target, stop):
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.order.append(target.name)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
        target.result = fleet.FAILED if target.name in self.failing else fleet.DONE


def test_the_canary_goes_alone_first_then_the_rest_at_most_max_parallel_at_once():
    run = Runner(seconds=0.05)
    todo = targets(12)
    fleet.Waves(run, canary=2, max_parallel=4, max_failures=None).run(todo)
    assert run.order[:2] == ["c00", "c01"]
    assert [t.wave for t in todo] == ["canary"] * 2 + ["main"] * 10
    assert all(t.result == fleet.DONE for t in todo)
    assert run.peak == 4


def test_a_failed_canary_starts_no_other_cluster():
    run = Runner(failing={"c01"})
    todo = targets(6)
    waves = fleet.Waves(run, canary=2, max_parallel=8, max_failures=None)
    waves.run(todo)
    assert [t.result for t in todo] == [fleet.DONE, fleet.FAILED] + [fleet.NOT_STARTED] * 4
    assert "canary wave did not fully succeed (c01: failed)" in waves.stopped_why


def test_max_failures_stops_starting_new_clusters():
    run = Runner(failing={"c01", "c02", "c03"})
    todo = targets(10)
    waves = fleet.Waves(run, canary=0, max_parallel=1, max_failures=2)
    waves.run(todo)
    assert [t.result for t in todo[:3]] == [fleet.DONE, fleet.FAILED, fleet.FAILED]
    assert all(t.result == fleet.NOT_STARTED for t in todo[3:])
    assert "2 cluster(s) failed (--max-failures 2)" in waves.stopped_why


def test_a_bug_in_one_flow_fails_that_cluster_only():
    def run(target, stop):
        if target.name == "c01":
            raise RuntimeError("boom")
        target.result = fleet.DONE

    todo = targets(3)
    fleet.Waves(run, canary=0, max_parallel=2, max_failures=None).run(todo)
    assert [t.result for t in todo] == [fleet.DONE, fleet.FAILED, fleet.DONE]
    assert todo[1].error == "RuntimeError: boom"


def test_a_rollout_interrupted_in_the_canary_wave_counts_and_journals_the_others_as_not_started(tmp_path):
    started = threading.Event()

    def run(target, stop):  # the canary's flow: it stops at its next wait once the rollout is stopped
        started.set()
        stop.wait(5)
        target.result = fleet.INTERRUPTED

    def ctrl_c(_targets):  # Ctrl-C reaches the main thread while the canary runs
        if started.is_set():
            raise KeyboardInterrupt

    rollout, path = rollout_of(tmp_path, 5, run)
    rollout.on_change = ctrl_c
    with pytest.raises(Interrupted, match=r"0 cluster\(s\) done, 1 stopped mid-way .* 4 not started"):
        rollout.run(canary=1, max_parallel=8, max_failures=None)
    assert [t.result for t in rollout.targets] == [fleet.INTERRUPTED] + [fleet.NOT_STARTED] * 4
    stories = journaling.clusters(journaling.read(path))
    assert [stories[t.id.lower()]["state"] for t in rollout.targets[1:]] == ["notStarted"] * 4


def test_the_max_failures_summary_counts_every_cluster_that_failed():
    failing = {"c00": 0.01, "c01": 0.1, "c02": 0.5}  # c02, running when the second failure stops new starts

    def run(target, stop):
        time.sleep(failing.get(target.name, 1.0))
        target.result = fleet.FAILED if target.name in failing else fleet.DONE

    todo = targets(6)
    waves = fleet.Waves(run, canary=0, max_parallel=3, max_failures=2)
    waves.run(todo)
    assert [t.result for t in todo] == [fleet.FAILED] * 3 + [fleet.DONE] + [fleet.NOT_STARTED] * 2
    assert waves.stopped_why.startswith("3 cluster(s) failed (--max-failures 2)")


def test_a_journal_that_cannot_be_written_stops_new_starts_and_says_why(tmp_path):
    def run(target, stop):  # a flow: its step ends (journaled), then it stops at its next wait if told to
        rollout.journal.write("updated", target.id)
        target.result = fleet.INTERRUPTED if stop.wait(2) else fleet.DONE

    rollout, path = rollout_of(tmp_path, 4, run, keep_open=True)

    def disk_full(data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    rollout.journal._append = disk_full
    rollout.run(canary=1, max_parallel=8, max_failures=None)  # no "unexpected error": the rollout ends as planned
    assert [t.result for t in rollout.targets] == [fleet.INTERRUPTED] + [fleet.NOT_STARTED] * 3
    assert rollout.stopped_why.startswith("the journal could not be written")
    assert rollout.journal_failure.startswith(f"The journal '{path}' could not be written: No space left on device.")
    assert "run the same command again to finish the job" in rollout.journal_failure
    rollout.journal.close()
    # What was written before stays a journal the same command goes on with.
    assert [e["event"] for e in journaling.read(path)] == ["run"] + ["planned"] * 4


def test_a_journal_that_cannot_be_written_as_the_run_starts_changes_nothing(tmp_path):
    rollout, _ = rollout_of(tmp_path, 2, lambda target, stop: pytest.fail("no flow may start"), journal_plan=False)

    def disk_full(data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    rollout.journal._append = disk_full
    with pytest.raises(ConfigurationError, match="could not be written: No space left on device. Nothing was "
                                                 "changed"):
        rollout.journal_plan(fleet.Selection())


def rollout_of(tmp_path, n, run_one, keep_open=False, journal_plan=True):
    """A rollout of n clusters to change, journaled in tmp_path, whose flows are `run_one`."""
    rollout = fleet.Rollout(SimpleNamespace(), None, enable=True)
    rollout.targets = [fleet.Target("s", "rg", f"c{i:02d}", action=fleet.CHANGE) for i in range(n)]
    path = str(tmp_path / "j.jsonl")
    rollout.journal = journaling.Journal(path)
    rollout._run_one = run_one
    if journal_plan:
        rollout.journal_plan(fleet.Selection())
    return rollout, path


# -- the journal -----------------------------------------------------------------------------------------------
def cid(name):
    return f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/{name}"


def test_the_journal_tells_each_clusters_latest_state_and_a_torn_last_line_is_skipped(tmp_path):
    path = str(tmp_path / "j.jsonl")
    journal = journaling.Journal(path)
    journal.write("run", action="enable")
    journal.write("planned", cid("a"), action="change")
    journal.write("updated", cid("a"))
    journal.write("failed", cid("a"), error="boom")
    journal.write("planned", cid("b"), action="none")
    journal.write("done", cid("b"))
    journal.close()
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"time": "2026-11-30T00:00:00+00:00", "event": "upd')  # killed mid-write
    entries = journaling.read(path)
    assert journaling.action_of(entries) == "enable"
    stories = journaling.clusters(entries)
    a = stories[cid("a").lower()]
    assert (a["state"], a["steps"], a["detail"]["error"]) == ("failed", ["planned", "updated", "failed"], "boom")
    assert stories[cid("b").lower()]["state"] == "done"


def test_a_file_that_is_not_a_journal_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n{\"event\": \"run\"}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="line 1 is not one of its entries"):
        journaling.read(str(path))
    assert journaling.read(str(tmp_path / "missing.jsonl")) == []


def test_a_journal_line_cut_short_does_not_break_the_runs_after_it(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"time": "t", "event": "run", "action": "enable"}\n{"time": "t", "event": "upd',
                    encoding="utf-8")  # killed mid-write
    journal = journaling.Journal(str(path))  # the next run
    journal.write("run", action="enable")
    journal.close()
    warnings = []
    entries = journaling.read(str(path), warn=warnings.append)
    assert [e["event"] for e in entries] == ["run", "run"]
    assert warnings == [f"The journal '{path}': line 2 is an entry cut short (the process killed, the power cut or "
                        "the disk full while writing it); it was skipped."]
    # A journal broken by an earlier version (the next entry glued onto the cut line) is read again too.
    path.write_text('{"time": "t", "event": "run", "action": "enable"}\n{"time": "t", "event": "upd{"time": "t", '
                    '"event": "run"}\n{"time": "t", "event": "run", "action": "enable"}\n', encoding="utf-8")
    assert len(journaling.read(str(path))) == 2


def test_a_journal_saved_with_a_utf8_bom_is_read(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"time": "t", "event": "run", "action": "disable"}\n', encoding="utf-8-sig")
    assert journaling.action_of(journaling.read(str(path))) == "disable"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev are POSIX")
def test_a_journal_that_is_not_a_regular_file_is_refused_before_anything_is_read(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", "/dev/full", str(fifo)):
        for use in (journaling.read, journaling.Journal):
            outcome = []
            worker = threading.Thread(target=_refusal, args=(use, path, outcome), daemon=True)
            worker.start()
            worker.join(5)  # a FIFO would hang, /dev/zero be read until the memory is gone
            assert outcome == [f"The journal '{path}' is a device, pipe or socket, not a regular file: pass the "
                               "path of a file (it is created if missing). Nothing was changed."], (use, path)


def _refusal(use, path, outcome):
    try:
        use(path)
    except ConfigurationError as ex:
        outcome.append(str(ex))
    else:
        outcome.append(None)


def test_a_journal_larger_than_any_rollout_writes_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "big.jsonl"
    path.write_text('{"time": "t", "event": "run"}\n' * 100, encoding="utf-8")
    monkeypatch.setattr(journaling, "MAX_BYTES", 1000)
    with pytest.raises(ConfigurationError, match="is larger than"):
        journaling.read(str(path))


@pytest.mark.parametrize("line, problem", [
    ('{"time": "t", "event": "done", "cluster": 5}', 'its "cluster" is 5, not a managed cluster\'s resource ID'),
    ('{"time": "t", "event": "done", "cluster": "c1"}', 'its "cluster" is "c1", not'),
    ('{"event": "done"}', 'its "time" is null, not a string'),
    ('[1, 2]', "not a JSON object"),
])
def test_a_journal_entry_of_the_wrong_shape_is_refused_naming_its_line(tmp_path, line, problem):
    path = tmp_path / "j.jsonl"
    path.write_text('{"time": "t", "event": "run", "action": "enable"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="line 2 is not one of its entries") as caught:
        journaling.read(str(path))
    assert problem in str(caught.value)


# -- the request budget ------------------------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_bucket_lets_a_burst_through_then_paces_requests_at_its_rate():
    clock = Clock()
    bucket = budget.TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0, 0, 0]
    assert bucket.take() == pytest.approx(0.1)  # the fourth waits for a token
    assert bucket.take() == pytest.approx(0.2)  # and the fifth queues behind it
    clock.now = 10.0  # long idle: the bucket is full again, not fuller
    assert [bucket.take() for _ in range(3)] == [0, 0, 0] and bucket.take() > 0


def test_reads_and_writes_draw_on_their_own_buckets_and_zero_means_no_limit():
    slept = []
    policy = budget.RequestBudget(reads_per_second=1, writes_per_second=0, sleep=slept.append)

    def request(method):
        return SimpleNamespace(http_request=SimpleNamespace(method=method))

    for _ in range(11):
        policy.on_request(request("GET"))
    assert slept == [pytest.approx(1.0, abs=0.05)]  # a burst of ten seconds' worth, then one per second
    for _ in range(100):
        policy.on_request(request("PUT"))
    assert len(slept) == 1


def test_a_rollouts_clients_carry_the_budget_of_their_subscription(monkeypatch):
    from imds_ext.core.clients import ArmClients
    from imds_ext.core.settings import ArmSettings

    monkeypatch.setenv("AZIMDS_ARM_READS_PER_SECOND", "5")
    clients = ArmClients(ArmSettings("https://arm.example", "s1", aks_api_version="2026-05-02-preview"),
                         credential=object())
    rollout = fleet.Rollout(clients, None, enable=True)
    sdk = rollout._clients("s2").container_service
    budgets = [p for p in sdk._client._pipeline._impl_policies if isinstance(getattr(p, "_policy", p),
                                                                             budget.RequestBudget)]
    assert len(budgets) == 1 and budgets[0]._policy._reads.rate == 5
    monkeypatch.setenv("AZIMDS_ARM_READS_PER_SECOND", "fast")
    with pytest.raises(ConfigurationError, match="AZIMDS_ARM_READS_PER_SECOND='fast'"):
        fleet.Rollout(clients, None, enable=True)


# -- --fallback network-policy (issue 19) ------------------------------------------------------------------------
def test_the_fallback_takes_only_clusters_blocked_by_what_they_run_and_sees_one_already_protected():
    from imds_ext.core import netpolicy as np
    from imds_ext.core.netpolicy_flow import ClusterPolicies, pending
    from tests.support.clusters import cluster_body, pool
    from tests.support.policies import allow_all_egress, namespace

    insights = {"omsagent": {"enabled": True}}

    def plan(**options):
        body = cluster_body(addonProfiles=insights, **options)
        _, blockers, _ = fleet.classify(body, READY, True, "rg", "c")
        return body, blockers, fleet.fallback_choice(body, blockers, "rg", "c")

    # Cilium with Container Insights: the cluster-wide policy, nothing written yet, so networkPolicy.
    body, refused, (choice, blockers) = plan(network_dataplane="cilium")
    assert [b.code for b in refused] == ["IncompatibleAddon"] and choice.mechanism == np.CLUSTERWIDE
    empty = ClusterPolicies([namespace("default")], [], [], [], True)
    action, left, warnings = fleet.fallback_plan(body, choice, blockers, *pending(body, choice, empty))
    assert (action, left) == (fleet.NETWORK_POLICY, [])
    assert [w.code for w in warnings] == ["ManagedSettingRefused"] and "Container Insights" in warnings[0].message
    # ... and once the policy is there, apply would write nothing: none (done), the re-run leaves it alone.
    applied = ClusterPolicies([], [], [], [np.clusterwide_policy()], True)
    assert pending(body, choice, applied) == ([], [])
    assert fleet.fallback_plan(body, choice, blockers, [], [])[0] == fleet.NONE
    # The CRD not served: no object, so not done (apply then says why).
    assert pending(body, choice, ClusterPolicies([], [], [], [], False))[0]

    # NPM with Container Insights and a Windows pool: per namespace, the pool said not covered.
    body, _, (choice, blockers) = plan(network_policy="azure", pools=["nodepool1", pool("win", os_type="Windows")])
    assert [b.code for b in blockers] == ["WindowsNodePool", "IncompatibleAddon"]
    assert choice.mechanism == np.PER_NAMESPACE
    nss = [namespace("default"), namespace("shop"), namespace("kube-system")]
    writes, reopened = pending(body, choice, ClusterPolicies(nss, [], [], [], False))
    assert sorted(w.namespace for w in writes) == ["default", "shop"] and reopened == []
    action, _, warnings = fleet.fallback_plan(body, choice, blockers, writes, reopened)
    assert action == fleet.NETWORK_POLICY and "PoolNotCovered" in [w.code for w in warnings]
    # Every namespace covered but another policy reopens IMDS in one: nothing apply can do, so blocked by it.
    owned = [np.namespace_policy("default"), np.namespace_policy("shop")]
    writes, reopened = pending(body, choice, ClusterPolicies(nss, owned, [allow_all_egress("shop")], [], False))
    assert writes == [] and [r["policy"] for r in reopened] == ["allow-all-egress"]
    action, left, _ = fleet.fallback_plan(body, choice, blockers, writes, reopened)
    assert action == fleet.BLOCKED and [b.code for b in left] == ["PolicyReopensImds"]
    assert "shop/allow-all-egress" in left[0].message and "169.254.169.254/32" in left[0].fix
    assert fleet.fallback_plan(body, choice, blockers, [], [])[0] == fleet.NONE

    # No engine: still blocked, with the engine's fix added.
    _, _, (choice, blockers) = plan()
    assert choice is None and [b.code for b in blockers] == ["IncompatibleAddon", "NoNetworkPolicyEngine"]
    # Any other blocker holds the cluster, whatever its engine.
    _, _, (choice, blockers) = plan(oidc=False, network_dataplane="cilium")
    assert choice is None and [b.code for b in blockers] == ["OIDCIssuerDisabled", "IncompatibleAddon"]
    unregistered = cluster_body(addonProfiles=insights, network_dataplane="cilium")
    _, blockers, _ = fleet.classify(unregistered, preflight.Environment(), True, "rg", "c")
    assert fleet.fallback_choice(unregistered, blockers, "rg", "c")[0] is None
    # A cluster with no blocker is not the fallback's.
    assert fleet.fallback_choice(cluster_body(network_dataplane="cilium"), [], "rg", "c") == (None, [])
