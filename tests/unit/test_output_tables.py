"""The short `-o table` transformers az's verify and scan use: no reason wider than REASON_WIDTH."""
from imds_ext.frontend.output import REASON_WIDTH, scan_short_table, verify_short_table

LONG = "image not pulled (ImagePullBackOff: " + "x" * 200 + ")"


def test_verify_table_cuts_the_reason_and_keeps_the_rest():
    report = {"nodes": [{"pool": "p", "node": "n1", "expected": "enforced", "verdict": "inconclusive",
                         "reason": LONG}],
              "notProbed": [{"pool": "win", "node": "n2", "reason": "Windows node"}]}
    rows = verify_short_table(report)
    assert [len(r["Reason"]) for r in rows] == [REASON_WIDTH, len("Windows node")]
    assert rows[0]["Reason"].endswith("...") and rows[1]["Verdict"] == "not probed"
    assert report["nodes"][0]["reason"] == LONG  # the report (-o json) keeps it whole


def test_scan_table_gives_the_first_reason_and_how_many_more():
    report = {"workloads": [
        {"namespace": "shop", "kind": "Deployment", "name": "legacy", "verdict": "breaks", "pods": 3,
         "reasons": [LONG, "second", "third"]},
        {"namespace": "ops", "kind": "Pod", "name": "debug", "verdict": "unaffected", "pods": 1,
         "reasons": ["no sign of IMDS use"]},
        {"namespace": "ops", "kind": "CronJob", "name": "idle", "verdict": "unaffected", "pods": 0, "reasons": []}]}
    rows = scan_short_table(report)
    assert len(rows[0]["Reason"]) == REASON_WIDTH and rows[0]["Reason"].endswith("... (+2 more)")
    assert [r["Reason"] for r in rows[1:]] == ["no sign of IMDS use", "-"]
    assert [r["Pods"] for r in rows] == [3, 1, 0]


def test_verify_table_shows_the_exempt_namespace_probe_after_the_nodes():
    report = {"nodes": [{"pool": "p", "node": "n1", "expected": "enforced", "verdict": "enforced", "reason": "ok"}],
              "notProbed": [],
              "exemptProbe": {"namespace": "imds-probe-x-exempt", "node": "n1", "expected": "reachable",
                              "verdict": "blocked",
                              "reason": "IMDS timed out for a pod in the exempt namespace; the reference answered"}}
    rows = verify_short_table(report)
    assert [(r["Pool"], r["Node"], r["Expected"], r["Verdict"]) for r in rows] == [
        ("p", "n1", "enforced", "enforced"), ("p", "n1", "reachable", "blocked")]
    assert rows[1]["Reason"].startswith("IMDS timed out for a pod in the exempt namespace")
    assert len(rows[1]["Reason"]) <= REASON_WIDTH
