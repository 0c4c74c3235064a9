"""A rollout's progress: the live line on a terminal, the ETA, the event lines of a CI log."""
import io

from imds_ext.core.discovery import Target
from imds_ext.frontend.progress import FleetProgress, describe_event, describe_step


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def fleet(n):
    return [Target("sub", "rg", f"c{i}", action="change") for i in range(n)]


def test_the_live_line_counts_the_queued_apart_and_names_each_cluster_in_flight_with_its_step():
    clock = Clock()
    targets = fleet(5)
    progress = FleetProgress(targets, parallel=2, terminal=False, clock=clock)
    targets[0].result, targets[0].seconds = "done", 600.0
    targets[1].step, targets[1].started_at = "updating", clock.now
    targets[2].step, targets[2].started_at = "reimaging", clock.now - 60
    targets[2].pools_due, targets[2].pools_done = ["nodepool1", "userpool"], ["nodepool1"]
    clock.now += 100
    line = progress.live_line()
    assert line.startswith("Rollout 1m40s: 1 done, 2 running, 2 queued, 0 failed, 0 blocked, of 5")
    assert "c2: reimaging userpool (nodepool1 done) 2m40s; c1: updating 1m40s" in line  # the oldest first


def test_the_eta_is_what_the_running_have_left_of_the_mean_then_the_queued_in_batches():
    clock = Clock()
    targets = fleet(6)
    progress = FleetProgress(targets, parallel=2, terminal=False, clock=clock)
    assert progress.eta([], 6, clock.now) is None  # nothing done yet: no guess
    targets[0].result, targets[0].seconds = "done", 300.0
    targets[1].result, targets[1].seconds = "done", 500.0
    targets[2].step, targets[2].started_at = "updating", clock.now - 100
    # mean 400 s: the running one has 300 s left, then 3 queued clusters in 2 batches of 2
    assert progress.eta([targets[2]], 3, clock.now) == 300 + 2 * 400
    assert "ETA 18m20s" in progress.live_line()


def test_event_lines_name_the_cluster_where_it_is_and_what_happened():
    target = Target("sub1", "rg", "c1")
    assert describe_event(target, "started", {"wave": "canary"}) == "c1 (rg, sub1): started (canary wave)"
    assert describe_event(target, "poolReimaged", {"pool": "userpool", "ok": False, "status": "Failed"}) == \
        "c1 (rg, sub1): pool userpool reimage failed"
    assert describe_event(target, "ended", {"result": "failed", "error": "boom", "seconds": 65}) == \
        "c1 (rg, sub1): failed after 1m05s: boom"
    target.step, target.pools_due = "reimaging", ["a", "b"]
    assert describe_step(target) == "reimaging a, b"


def test_without_a_terminal_every_event_is_written_and_quiet_writes_none():
    target = Target("sub1", "rg", "c1")
    stream = io.StringIO()
    FleetProgress([target], parallel=1, stream=stream, terminal=False).event(target, "updated",
                                                                               {"podLinkLocalAccess": "None"})
    assert stream.getvalue().rstrip().endswith("c1 (rg, sub1): updated, podLinkLocalAccess=None")
    silent = io.StringIO()
    FleetProgress([target], parallel=1, stream=silent, terminal=False, quiet=True).event(target, "started", {})
    assert silent.getvalue() == ""
