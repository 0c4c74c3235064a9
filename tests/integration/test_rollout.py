"""`az-imds aks imds-restriction rollout start/status`: a fleet across subscriptions, planned, in waves, journaled."""
import json
import os
import pty
import resource
import signal
import subprocess
import sys
import time

import pytest

from tests.support.cli import read_terminal
from tests.support.clusters import cluster_body
from tests.support.constants import FEATURE, SUB

OTHER = "11111111-1111-1111-1111-111111111111"
START = ("aks", "imds-restriction", "rollout", "start")
STATUS = ("aks", "imds-restriction", "rollout", "status")


def cluster_id(sub, group, name):
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name}"


def seed_fleet(admin, clusters, other_feature="Registered"):
    """clusters: (subscription, group, name, body options). The well-known subscription has the feature registered;
    OTHER has `other_feature`."""
    groups = {(sub, group) for sub, group, _, _ in clusters}
    admin.seed(
        subscriptions=[{"subscriptionId": OTHER, "displayName": "Contoso Prod", "features": {FEATURE: other_feature}}],
        features={FEATURE: "Registered"},
        resourceGroups=[{"name": group, "location": "westus2", "subscription": sub} for sub, group in sorted(groups)],
        clusters=[{"subscription": sub, "resourceGroup": group, "name": name, "cluster": body(options)}
                  for sub, group, name, options in clusters])
    admin.clear_requests()


def body(options):
    """cluster_body's options, and the cluster's tags."""
    options = dict(options)
    tags = options.pop("tags", None)
    return {**cluster_body(**options), **({"tags": tags} if tags else {})}


def enforced(admin, group, name, sub=SUB):
    """What each pool's nodes enforce, in any subscription."""
    return {pool: v["podLinkLocalAccess"] for pool, v in admin.nodes(group, name, subscription=sub)["pools"].items()}


def by_name(rows):
    return {row["name"]: row for row in rows}


def changes(admin):
    return [r for r in admin.requests() if r["method"] in ("PUT", "POST", "PATCH", "DELETE")
            and "/subscriptions/" in r["path"] and "listCluster" not in r["path"]]  # not the token requests


MIXED = [
    (SUB, "rg-a", "ready", {}),
    (SUB, "rg-a", "nooidc", {"oidc": False}),
    (SUB, "rg-b", "already", {"restricted": True}),
    (OTHER, "rg-a", "unregistered", {}),
]


def test_dry_run_plans_every_cluster_of_two_subscriptions_and_changes_nothing(az_imds, admin):
    seed_fleet(admin, MIXED, other_feature="NotRegistered")
    r = az_imds(*START, "--enable", "--subscriptions", SUB, OTHER, "--dry-run", "-o", "json")
    assert r.code == 1, r.err  # blocked clusters: the plan cannot fully succeed
    rows = by_name(r.json)
    assert {n: row["action"] for n, row in rows.items()} == {
        "ready": "change", "nooidc": "blocked", "already": "none", "unregistered": "blocked"}
    assert rows["unregistered"]["subscription"] == OTHER
    assert [b["code"] for b in rows["nooidc"]["blockers"]] == ["OIDCIssuerDisabled"]
    assert [b["code"] for b in rows["unregistered"]["blockers"]] == ["FeatureNotRegistered"]
    # The plan on stderr names each cluster, its blockers and their fixes.
    assert "Rollout plan: enable IMDS restriction on 4 cluster(s) in 2 subscription(s)." in r.err
    assert f"{OTHER}/rg-a/unregistered: podLinkLocalAccess=IMDS -> blocked" in r.err
    assert "Fix: az-imds feature register --namespace Microsoft.ContainerService --name IMDSRestrictionPreview" in r.err
    # A fix copied as printed works on the cluster's own subscription: it names it unless it is the default one.
    [register] = rows["unregistered"]["blockers"]
    assert register["fix"] == (f"az-imds feature register --namespace Microsoft.ContainerService --name "
                               f"IMDSRestrictionPreview --wait --subscription {OTHER} && az-imds provider register "
                               f"--namespace Microsoft.ContainerService --wait --subscription {OTHER}")
    assert "--subscription" not in rows["nooidc"]["blockers"][0]["fix"]
    assert "--dry-run: nothing was changed." in r.err
    assert changes(admin) == []
    # Each row carries the wave it would start in (none for a cluster left as it is).
    assert {n: row["wave"] for n, row in rows.items()} == {"ready": "canary", "nooidc": None, "already": None,
                                                           "unregistered": None}
    # The subscription-level reads are made once per subscription, not once per cluster.
    assert len(admin.requests("GET", f"/subscriptions/{SUB}/providers/Microsoft.Features/")) == 1


def test_dry_run_json_carries_each_rows_wave_and_warnings_as_objects(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(4)]
               + [(SUB, "rg", "nowi", {"workload_identity": False}), (SUB, "rg", "zdone", {"restricted": True})])
    r = az_imds(*START, "--enable", "--canary", "2", "--dry-run", "-o", "json")
    assert r.code == 0, r.err
    assert [(row["name"], row["action"], row["wave"]) for row in r.json] == [
        ("c0", "change", "canary"), ("c1", "change", "canary"), ("c2", "change", "main"), ("c3", "change", "main"),
        ("nowi", "change", "main"), ("zdone", "none", None)]
    [warning] = by_name(r.json)["nowi"]["warnings"]
    assert warning["code"] == "WorkloadIdentityDisabled" and warning["message"].startswith("Workload identity is off")
    assert warning["fix"] == "az aks update -g rg -n nowi --enable-workload-identity"
    assert "Warning: Workload identity is off" in r.err and "Fix: az aks update -g rg -n nowi" in r.err
    none = az_imds(*START, "--enable", "--canary", "0", "--dry-run", "-o", "json")
    assert {row["wave"] for row in none.json if row["action"] == "change"} == {"main"}
    table = az_imds(*START, "--enable", "--canary", "2", "--dry-run", "-o", "table")
    assert table.out.splitlines()[0].split() == ["Subscription", "ResourceGroup", "Name", "PodLinkLocalAccess",
                                                 "Action", "Wave", "Result", "Detail", "Warnings"]
    assert "WorkloadIdentityDisabled" in next(line for line in table.out.splitlines() if " nowi " in line)
    assert changes(admin) == []


def test_rollout_changes_the_ready_clusters_leaves_the_blocked_and_journals_it(az_imds, admin, tmp_path):
    seed_fleet(admin, MIXED + [(OTHER, "rg-c", "ready2", {})])
    journal = str(tmp_path / "rollout.jsonl")
    r = az_imds(*START, "--enable", "--subscriptions", SUB, OTHER, "--journal", journal, "--yes", "-o", "json")
    assert r.code == 1, r.err  # one cluster is blocked
    rows = by_name(r.json)
    assert {n: row["result"] for n, row in rows.items()} == {
        "ready": "done", "nooidc": "blocked", "already": "done", "unregistered": "done", "ready2": "done"}
    assert rows["ready"]["wave"] == "canary" and rows["ready2"]["wave"] == "main"
    for sub, group, name in ((SUB, "rg-a", "ready"), (OTHER, "rg-a", "unregistered"), (OTHER, "rg-c", "ready2")):
        assert set(enforced(admin, group, name, sub).values()) == {"None"}, name
    # The blocked cluster was not touched.
    assert not [c for c in changes(admin) if "/managedClusters/nooidc" in c["path"]]
    assert "Rollout: 4 of 5 cluster(s) done, 1 blocked, 0 failed, 0 not started" in r.err

    s = az_imds(*STATUS, "--journal", journal, "-o", "json")
    assert s.code == 1  # not every cluster is done
    stories = by_name(s.json)
    assert stories["ready"]["steps"] == ["planned", "started", "updating", "updated", "reimaging", "poolReimaged",
                                         "poolReimaged", "reimaged", "done"]
    assert stories["already"]["steps"] == ["planned", "done"]
    assert stories["nooidc"]["state"] == "blocked"
    assert stories["nooidc"]["blockers"][0]["code"] == "OIDCIssuerDisabled"
    table = az_imds(*STATUS, "--journal", journal, "-o", "table")
    assert "planned > started > updating > updated > reimaging > poolReimaged > poolReimaged > reimaged > done" \
        in table.out


def test_every_subscription_and_tag_filter_selects_and_all_done_exits_0(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg-a", "prod1", {"tags": {"env": "prod"}}),
                       (SUB, "rg-a", "dev1", {"tags": {"env": "dev"}}),
                       (OTHER, "rg-z", "prod2", {"tags": {"Env": "prod", "team": "x"}})])
    r = az_imds(*START, "--enable", "--all-subscriptions", "--tag", "env=prod", "--canary", "0", "--yes", "-o",
                "json")
    assert r.code == 0, r.err
    assert {row["name"]: row["result"] for row in r.json} == {"prod1": "done", "prod2": "done"}
    assert enforced(admin, "rg-a", "dev1") == {"nodepool1": "IMDS", "userpool": "IMDS"}
    again = az_imds(*START, "--enable", "--all-subscriptions", "--tag", "env=prod", "--yes", "-o", "json")
    assert again.code == 0 and {row["action"] for row in again.json} == {"none"}


def test_a_failed_canary_starts_no_other_cluster(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(4)])
    admin.fault(method="PUT", path="/managedClusters/c0", failOperation={"code": "InternalError", "message": "boom"})
    r = az_imds(*START, "--enable", "--canary", "1", "--yes", "-o", "json")
    assert r.code == 1
    rows = by_name(r.json)
    assert rows["c0"]["result"] == "failed" and "boom" in rows["c0"]["error"]
    assert {rows[n]["result"] for n in ("c1", "c2", "c3")} == {"notStarted"}
    assert "the canary wave did not fully succeed" in r.err
    assert not [c for c in changes(admin) if "/managedClusters/c0" not in c["path"]]


def test_max_failures_stops_new_starts_and_the_same_command_finishes_the_job(az_imds, admin, tmp_path):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(4)])
    admin.fault(method="POST", path="/managedClusters/c1/agentPools/userpool/upgradeNodeImageVersion", status=500,
                count=50)
    journal = str(tmp_path / "j.jsonl")
    args = (*START, "--enable", "--canary", "1", "--max-parallel", "1", "--max-failures", "1", "--journal", journal,
            "--yes", "-o", "json")
    r = az_imds(*args)
    assert r.code == 1
    rows = by_name(r.json)
    assert [rows[f"c{i}"]["result"] for i in range(4)] == ["done", "failed", "notStarted", "notStarted"]
    assert "userpool" in rows["c1"]["error"]
    assert "--max-failures 1" in r.err
    admin.clear_faults()
    again = az_imds(*args)
    assert again.code == 0, again.err
    assert {row["name"]: row["action"] for row in again.json} == {"c0": "none", "c1": "finish", "c2": "change",
                                                                  "c3": "change"}
    assert enforced(admin, "rg", "c1") == {"nodepool1": "None", "userpool": "None"}
    assert az_imds(*STATUS, "--journal", journal).code == 0


def test_an_interrupted_rollout_is_finished_by_the_same_command(cli_env, az_imds, admin, tmp_path):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(3)])
    admin.config(lro_delay=2)
    journal = tmp_path / "j.jsonl"
    args = (*START, "--enable", "--canary", "0", "--max-parallel", "1", "--journal", str(journal), "--yes")
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *args], env=cli_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and '"event": "updated"' not in (journal.read_text() if journal.exists() else ""):
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "Interrupted: 0 cluster(s) done, 1 stopped mid-way" in err and "2 not started" in err
    assert "Run the same command again to finish the job." in err
    status = az_imds(*STATUS, "--journal", str(journal), "-o", "json")
    assert {row["name"]: row["state"] for row in status.json} == {"c0": "interrupted", "c1": "notStarted",
                                                                 "c2": "notStarted"}
    admin.config(lro_delay=0)
    again = az_imds(*args, "-o", "json")
    assert again.code == 0, again.err
    assert by_name(again.json)["c0"]["action"] == "finish"  # the setting was in place, its reimage was due
    for name in ("c0", "c1", "c2"):
        assert enforced(admin, "rg", name) == {"nodepool1": "None", "userpool": "None"}
    assert az_imds(*STATUS, "--journal", str(journal)).code == 0


def test_without_a_terminal_and_without_yes_nothing_changes(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", "c0", {})])
    r = az_imds(*START, "--enable")
    assert r.code == 1 and "Pass --yes" in r.err
    assert changes(admin) == []


@pytest.mark.parametrize("args, message", [
    (("--enable", "--ids", cluster_id(SUB, "rg", "c0"), "--subscriptions", SUB), "--ids names the clusters itself"),
    (("--enable", "--ids", "/subscriptions/x/resourceGroups/rg"), "is not the resource ID of a managed cluster"),
    (("--enable", "--disable"), "Cannot specify"),
    (("--enable", "--max-parallel", "0"), "--max-parallel must be 1 or more"),
    (("--enable", "--canary", "-1"), "--canary must be 0 or more"),
    (("--enable", "--max-failures", "0"), "--max-failures must be 1 or more"),
    (("--enable", "--tag", "=prod"), "--tag '=prod' has no key"),
    (("--enable", "--all-subscriptions", "--subscriptions", SUB), "--all-subscriptions cannot go with"),
    (("--enable", "--resource-groups", "bad/name"), "--resource-groups 'bad/name' is not a valid name"),
    (("--disable", "--enable-oidc-issuer"), "--enable-oidc-issuer goes with --enable-imds-restriction"),
])
def test_bad_input_is_a_usage_error_before_any_request(az_imds, admin, args, message):
    r = az_imds(*START, *args, "--yes")
    assert r.code == 2, r.err
    assert message in r.err
    assert admin.requests() == []


def test_unknown_subscription_or_group_exits_3_and_a_journal_of_the_other_action_is_refused(az_imds, admin,
                                                                                           tmp_path):
    seed_fleet(admin, [(SUB, "rg", "c0", {})])
    r = az_imds(*START, "--enable", "--subscriptions", "22222222-2222-2222-2222-222222222222", "--yes")
    assert r.code == 3 and "22222222-2222-2222-2222-222222222222" in r.err
    r = az_imds(*START, "--enable", "--resource-groups", "nope", "--yes")
    assert r.code == 3 and "nope" in r.err
    journal = tmp_path / "j.jsonl"
    journal.write_text(json.dumps({"time": "t", "event": "run", "action": "disable"}) + "\n", encoding="utf-8")
    r = az_imds(*START, "--enable", "--journal", str(journal), "--yes")
    assert r.code == 1 and "records a rollout that disables IMDS restriction" in r.err
    assert changes(admin) == []


def test_live_progress_on_a_terminal_only(cli_env, az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(3)])
    admin.config(lro_delay=1)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *START, "--enable", "--canary", "0", "--yes", "-o",
                             "none"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=cli_env)
    os.close(slave)
    proc.communicate(timeout=120)
    text = read_terminal(master)
    assert proc.returncode == 0, text
    assert "running" in text and "of 3" in text  # the live line: done, running, failed, ... of the total
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(3)])
    piped = az_imds(*START, "--enable", "--canary", "0", "--yes", "-o", "none")
    assert piped.code == 0 and "running" not in piped.err


FORBIDDEN = {"error": {"code": "AuthorizationFailed", "message": "The client does not have authorization."}}


def test_what_cannot_be_read_holds_only_its_own_cluster_or_subscription(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", "c0", {}), (SUB, "rg", "c1", {"workload_identity": False}),
                       (OTHER, "rg", "c2", {})])
    admin.fault(method="GET", path="/managedClusters/c0/providers/Microsoft.KubernetesConfiguration/extensions",
                status=403, body=FORBIDDEN, count=100)
    admin.fault(method="GET", path=f"/subscriptions/{OTHER}/providers/Microsoft.ContainerService/managedClusters",
                status=403, body=FORBIDDEN, count=100)
    r = az_imds(*START, "--enable", "--all-subscriptions", "--canary", "0", "--yes", "-o", "json")
    assert r.code == 1
    rows = by_name(r.json)
    assert set(rows) == {"c0", "c1"}  # OTHER's clusters could not be listed
    assert f"Subscription {OTHER} was skipped: its clusters could not be listed ((AuthorizationFailed)" in r.err
    assert rows["c0"]["result"] == "blocked" and rows["c0"]["blockers"][0]["code"] == "ReadFailed"
    assert "AuthorizationFailed" in rows["c0"]["blockers"][0]["message"]
    assert rows["c1"]["result"] == "done"
    assert "Warning: Workload identity is off" in r.err  # the plan shows each cluster's warnings
    # Named explicitly, a subscription that cannot be listed is an error, before any change.
    admin.clear_requests()
    explicit = az_imds(*START, "--enable", "--subscriptions", SUB, OTHER, "--yes")
    assert explicit.code == 1 and "AuthorizationFailed" in explicit.err
    assert changes(admin) == []


LEGACY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "legacy", "namespace": "shop"},
          "spec": {"template": {"metadata": {"labels": {"aadpodidbinding": "legacy"}}, "spec": {"containers": []}}}}


def test_check_workloads_blocks_the_clusters_whose_workloads_would_break_unless_force(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", "c0", {}), (SUB, "rg", "c1", {}), (OTHER, "rg", "c2", {})])
    admin.seed(kubernetes=[{"resourceGroup": "rg", "cluster": "c1", "objects": [LEGACY]}])
    admin.clear_requests()
    r = az_imds(*START, "--enable", "--all-subscriptions", "--check-workloads", "--yes", "-o", "json")
    assert r.code == 1
    rows = by_name(r.json)
    assert {n: row["result"] for n, row in rows.items()} == {"c0": "done", "c1": "blocked", "c2": "done"}
    [blocker] = rows["c1"]["blockers"]
    assert blocker["code"] == "WorkloadsWouldBreak" and "Deployment shop/legacy" in blocker["message"]
    assert "az-imds aks imds-restriction scan -g rg -n c1" in blocker["fix"]
    assert not [c for c in changes(admin) if "/managedClusters/c1" in c["path"] and "listCluster" not in c["path"]]
    forced = az_imds(*START, "--enable", "--all-subscriptions", "--check-workloads", "--force", "--yes", "-o", "json")
    assert forced.code == 0, forced.err
    [warning] = [w for w in by_name(forced.json)["c1"]["warnings"] if w["message"].startswith("--force:")]
    assert warning["code"] == "WorkloadsWouldBreak" and "shop/legacy" in warning["message"]
    assert "az-imds aks imds-restriction scan -g rg -n c1" in warning["fix"]


def test_check_workloads_blocks_a_cluster_that_cannot_be_scanned(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", "c0", {}), (SUB, "rg", "c1", {})])
    admin.fault(method="GET", path=f"/kubernetes/{SUB}/rg/c1/", status=403, count=100,
                body={"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
                      "message": "forbidden: the API server refused the scan", "code": 403})
    r = az_imds(*START, "--enable", "--check-workloads", "--canary", "0", "--yes", "-o", "json")
    assert r.code == 1
    rows = by_name(r.json)
    assert rows["c0"]["result"] == "done"
    assert rows["c1"]["result"] == "blocked" and rows["c1"]["blockers"][0]["code"] == "ScanFailed"


def test_a_journal_line_cut_short_by_a_kill_does_not_break_the_next_rollout(az_imds, admin, tmp_path):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(2)])
    journal = tmp_path / "j.jsonl"
    first = az_imds(*START, "--enable", "--ids", cluster_id(SUB, "rg", "c0"), "--journal", str(journal), "--yes")
    assert first.code == 0, first.err
    data = journal.read_bytes()
    journal.write_bytes(data[:-20])  # killed (or the power cut) while it wrote its last entry
    lines = data.count(b"\n")
    r = az_imds(*START, "--enable", "--journal", str(journal), "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert {row["name"]: row["result"] for row in r.json} == {"c0": "done", "c1": "done"}
    # The run after it and every one after that read the journal, the cut line skipped with a warning naming it.
    s = az_imds(*STATUS, "--journal", str(journal), "-o", "json")
    assert s.code == 0, s.err
    assert {row["name"]: row["state"] for row in s.json} == {"c0": "done", "c1": "done"}
    cut = f"The journal '{journal}': line {lines} is an entry cut short"
    assert cut in r.err and cut in s.err
    assert az_imds(*START, "--enable", "--journal", str(journal), "--yes").code == 0


def test_a_rollout_interrupted_in_the_canary_wave_counts_journals_and_shows_the_clusters_never_started(
        cli_env, admin, tmp_path, az_imds):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(5)])
    admin.config(lro_delay=2)
    journal = tmp_path / "j.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *START, "--enable", "--journal", str(journal), "--yes",
                             "-o", "json"], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and '"event": "updated"' not in (journal.read_text() if journal.exists() else ""):
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "Interrupted: 0 cluster(s) done, 1 stopped mid-way" in err and "4 not started" in err
    # The result the message speaks of is the output.
    assert [(row["name"], row["result"]) for row in json.loads(out)] == [
        ("c0", "interrupted")] + [(f"c{i}", "notStarted") for i in range(1, 5)]
    status = az_imds(*STATUS, "--journal", str(journal), "-o", "json")
    assert [row["state"] for row in status.json] == ["interrupted"] + ["notStarted"] * 4


def test_a_journal_that_cannot_be_written_stops_the_rollout_with_a_sentence_and_the_same_command_resumes(
        cli_env, admin, az_imds, tmp_path):
    # Two fleets whose journal entries have the same lengths: the first one's plan measures the second one's.
    seed_fleet(admin, [(SUB, "rg", f"{fleet}{i}", {"tags": {"fleet": fleet}}) for fleet in "ab" for i in range(3)])
    measured = tmp_path / "a.jsonl"
    assert az_imds(*START, "--enable", "--tag", "fleet=a", "--journal", str(measured), "--yes").code == 0
    plan = b"".join(measured.read_bytes().splitlines(keepends=True)[:4])  # the run and its three clusters
    assert [json.loads(line)["event"] for line in plan.splitlines()] == ["run", "planned", "planned", "planned"]
    admin.config(lro_delay=1)
    journal = tmp_path / "b.jsonl"
    args = (*START, "--enable", "--tag", "fleet=b", "--journal", str(journal), "--yes", "-o", "json")

    def full_disk():  # the file may not grow past the plan and 20 bytes of the next entry (as a disk filling up)
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(plan) + 20, len(plan) + 20))

    proc = subprocess.run([sys.executable, "-m", "imds_ext", *args], env=cli_env, capture_output=True, text=True,
                          timeout=180, preexec_fn=full_disk)
    assert proc.returncode == 1, proc.stderr
    assert "Unexpected error" not in proc.stderr
    assert (f"The journal '{journal}' could not be written: File too large. From then on no new cluster was "
            "started") in proc.stderr
    assert "run the same command again to finish the job" in proc.stderr
    assert [(row["name"], row["result"]) for row in json.loads(proc.stdout)] == [
        ("b0", "interrupted"), ("b1", "notStarted"), ("b2", "notStarted")]
    assert enforced(admin, "rg", "b1") == {"nodepool1": "IMDS", "userpool": "IMDS"}  # never started
    admin.config(lro_delay=0)
    again = az_imds(*args)
    assert again.code == 0, again.err
    assert {row["name"]: row["action"] for row in again.json} == {"b0": "finish", "b1": "change", "b2": "change"}
    assert f"The journal '{journal}': line 5 is an entry cut short" in again.err
    status = az_imds(*STATUS, "--journal", str(journal), "-o", "json")
    assert status.code == 0 and {row["state"] for row in status.json} == {"done"}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev are POSIX")
def test_a_journal_that_is_a_device_or_a_fifo_is_refused_and_nothing_changes(az_imds, admin, tmp_path):
    seed_fleet(admin, [(SUB, "rg", "c0", {})])
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", "/dev/full", str(fifo)):
        r = az_imds(*START, "--enable", "--journal", path, "--yes")
        assert r.code == 1, (path, r.err)
        assert f"The journal '{path}' is a device, pipe or socket, not a regular file" in r.err
    assert admin.requests() == []  # refused before the clusters were even read


def test_rollout_status_reads_a_journal_saved_with_a_bom_and_names_a_malformed_line(az_imds, tmp_path):
    journal = tmp_path / "j.jsonl"
    entries = [{"time": "t", "event": "run", "action": "enable"},
               {"time": "t", "event": "planned", "cluster": cluster_id(SUB, "rg", "c0"), "action": "change"},
               {"time": "t", "event": "done", "cluster": cluster_id(SUB, "rg", "c0")}]
    journal.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8-sig")  # as Notepad saves it
    s = az_imds(*STATUS, "--journal", str(journal), "-o", "json")
    assert s.code == 0, s.err
    assert [(row["name"], row["state"]) for row in s.json] == [("c0", "done")]
    with journal.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"time": "t", "event": "done", "cluster": 5}) + "\n")
    s = az_imds(*STATUS, "--journal", str(journal))
    assert s.code == 1 and "Unexpected error" not in s.err
    assert f"The journal '{journal}' is not an imds-ext rollout journal: line 4 is not one of its entries (its " \
           "\"cluster\" is 5, not a managed cluster's resource ID)" in s.err


# -- what the rollout says while it runs and when it ends (issue 18) -------------------------------------------
def test_progress_on_a_terminal_names_the_clusters_in_flight_their_step_the_queue_and_an_eta(cli_env, admin):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(4)])
    admin.config(lro_delay=1)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *START, "--enable", "--canary", "0",
                             "--max-parallel", "2", "--yes", "-o", "none"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=secondary, env=cli_env)
    os.close(secondary)
    proc.communicate(timeout=120)
    text = read_terminal(primary)
    assert proc.returncode == 0, text
    assert "2 running, 2 queued" in text  # not "0 not started" while two wait their turn
    assert "c0: reimaging" in text or "c1: reimaging" in text  # each cluster in flight with its step
    assert ": pool userpool reimaged" in text  # each pool's end, above the live line
    assert "ETA " in text  # once a cluster is done
    assert "c0 (rg, " in text and ": started (main wave)" in text and ": done after " in text


def test_without_a_terminal_each_event_is_one_timestamped_line_on_stderr(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", "c0", {}), (SUB, "rg", "blocked", {"oidc": False})])
    r = az_imds(*START, "--enable", "--canary", "0", "--yes", "-o", "none")
    assert r.code == 1  # one cluster is blocked
    lines = [line for line in r.err.splitlines() if " c0 (rg, " in line]
    events = [line.split(": ", 1)[1] for line in lines]
    assert events[0] == "started (main wave)"
    assert events[1].startswith("updating the cluster") and events[2] == "updated, podLinkLocalAccess=None"
    assert events[3] == "reimaging pool(s) nodepool1, userpool"
    assert sorted(events[4:6]) == ["pool nodepool1 reimaged", "pool userpool reimaged"]
    assert events[6] == "reimage ended" and events[7].startswith("done after ")
    for line in lines:
        time.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S+00:00")  # each one timestamped, in UTC
    assert "running" not in r.err  # no live line in a log


def test_an_interrupted_rollout_still_prints_the_table_of_where_each_cluster_stands(cli_env, admin, tmp_path):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(3)])
    admin.config(lro_delay=2)
    journal = tmp_path / "j.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *START, "--enable", "--canary", "0", "--max-parallel",
                             "1", "--journal", str(journal), "--yes", "-o", "table"], env=cli_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and '"event": "updated"' not in (journal.read_text() if journal.exists() else ""):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "Interrupted:" in err
    rows = {line.split()[2]: line for line in out.splitlines()[2:] if line.strip()}
    assert set(rows) == {"c0", "c1", "c2"}, out
    assert "interrupted" in rows["c0"] and "None" in rows["c0"]  # left with the setting, its reimage not done
    assert "notStarted" in rows["c1"] and "notStarted" in rows["c2"]


def test_rollout_status_mid_run_shows_the_step_each_cluster_is_in(cli_env, az_imds, admin, tmp_path):
    seed_fleet(admin, [(SUB, "rg", "c0", {})])
    admin.config(lro_delay=3)
    journal = tmp_path / "j.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *START, "--enable", "--canary", "0", "--journal",
                             str(journal), "--yes", "-o", "none"], env=cli_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and '"event": "updating"' not in (
                journal.read_text() if journal.exists() else ""):
            time.sleep(0.1)
        status = az_imds(*STATUS, "--journal", str(journal), "-o", "json")
        assert status.json[0]["state"] in ("updating", "updated", "reimaging"), status.json
    finally:
        proc.wait(timeout=120)


def test_a_failed_reimage_row_shows_the_setting_the_cluster_was_left_with(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", "c0", {})])
    admin.fault(method="POST", path="/managedClusters/c0/agentPools/userpool/upgradeNodeImageVersion", status=500,
                count=50)
    r = az_imds(*START, "--enable", "--canary", "0", "--yes", "-o", "json")
    assert r.code == 1
    row = r.json[0]
    assert row["result"] == "failed" and "userpool" in row["error"]
    assert row["podLinkLocalAccess"] == "None"  # the update went through; only the reimage of one pool failed


def test_a_failed_update_says_it_failed_not_that_it_may_still_be_running(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", "c0", {})])
    admin.fault(method="PUT", path="/managedClusters/c0", failOperation={"code": "InternalError", "message": "boom"})
    r = az_imds(*START, "--enable", "--canary", "0", "--yes", "-o", "json")
    assert r.code == 1
    error = r.json[0]["error"]
    assert "boom" in error and "failed in the service" in error and "may still be running" not in error


# -- safety: the canary named, a pause after it, the first failure stops new starts (issue 18) -------------------
def test_by_default_the_first_failure_starts_no_new_cluster(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(4)])
    admin.fault(method="POST", path="/managedClusters/c1/agentPools/userpool/upgradeNodeImageVersion", status=500,
                count=50)
    r = az_imds(*START, "--enable", "--canary", "0", "--max-parallel", "1", "--yes", "-o", "json")
    assert r.code == 1
    assert [by_name(r.json)[f"c{i}"]["result"] for i in range(4)] == ["done", "failed", "notStarted", "notStarted"]
    assert "--max-failures 1" in r.err


def test_canary_ids_go_first_and_pause_after_canary_stops_there_until_the_same_command_runs_again(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(3)])
    args = (*START, "--enable", "--canary-ids", cluster_id(SUB, "rg", "c2"), "--pause-after-canary", "--yes",
            "-o", "json")
    first = az_imds(*args)
    assert first.code == 0, first.err  # paused as asked: the canary stage succeeded
    rows = by_name(first.json)
    assert rows["c2"]["result"] == "done" and rows["c2"]["wave"] == "canary"
    assert rows["c0"]["result"] == rows["c1"]["result"] == "notStarted"
    assert "paused after the canary wave (--pause-after-canary): c2 done" in first.err
    assert "run the same command to go on with the other 2" in first.err
    assert enforced(admin, "rg", "c0") == {"nodepool1": "IMDS", "userpool": "IMDS"}  # not touched
    again = az_imds(*args)
    assert again.code == 0, again.err
    assert {row["name"]: (row["action"], row["result"]) for row in again.json} == {
        "c0": ("change", "done"), "c1": ("change", "done"), "c2": ("none", "done")}


def test_pause_after_a_counted_canary_is_resumed_from_the_journal(az_imds, admin, tmp_path):
    seed_fleet(admin, [(SUB, "rg", f"c{i}", {}) for i in range(3)])
    args = (*START, "--enable", "--canary", "1", "--pause-after-canary", "--journal", str(tmp_path / "j.jsonl"),
            "--yes", "-o", "json")
    first = az_imds(*args)
    assert first.code == 0, first.err
    assert [row["result"] for row in first.json] == ["done", "notStarted", "notStarted"]
    again = az_imds(*args)
    assert again.code == 0, again.err
    assert "paused after its canary wave: going on with the other clusters" in again.err
    assert [row["result"] for row in again.json] == ["done", "done", "done"]
    assert {row["wave"] for row in again.json if row["action"] == "change"} == {"main"}  # no second canary


@pytest.mark.parametrize("extra, message", [
    (("--canary-ids", cluster_id(SUB, "rg", "elsewhere")), "is not among the selected clusters"),
    (("--canary-ids", cluster_id(SUB, "rg", "nooidc")), "cluster 'nooidc' is blocked"),
    (("--pause-after-canary",), "needs --canary-ids or --journal"),
    (("--canary-ids", cluster_id(SUB, "rg", "c0"), "--canary", "2"), "give one of the two"),
])
def test_a_canary_that_cannot_be_one_is_a_usage_error_and_nothing_changes(az_imds, admin, extra, message):
    seed_fleet(admin, [(SUB, "rg", "c0", {}), (SUB, "rg", "nooidc", {"oidc": False})])
    r = az_imds(*START, "--enable", *extra, "--yes")
    assert r.code == 2, r.err
    assert message in r.err
    assert changes(admin) == []


def test_a_resumed_rollout_does_not_reimage_again_the_pools_its_journal_saw_reimaged(az_imds, admin, tmp_path):
    seed_fleet(admin, [(SUB, "rg", "c0", {})])
    admin.fault(method="PATCH", path="/managedClusters/c0$", status=500, count=50)  # the record cannot be rewritten
    args = (*START, "--enable", "--canary", "0", "--journal", str(tmp_path / "j.jsonl"), "--yes", "-o", "json")
    first = az_imds(*args)
    assert first.code == 1 and first.json[0]["result"] == "failed", first.err
    assert len(admin.requests("POST", "/upgradeNodeImageVersion")) == 2
    admin.clear_faults()
    admin.clear_requests()
    again = az_imds(*args)
    assert again.code == 0, again.err
    assert again.json[0]["action"] == "finish"  # the record still named both pools
    said = " ".join(w["message"] for w in again.json[0]["warnings"])
    assert "ran to the end in an earlier run: they are not reimaged again" in said
    assert admin.requests("POST", "/upgradeNodeImageVersion") == []  # hours of draining saved on a real fleet
    shown = az_imds("aks", "show", "-g", "rg", "-n", "c0", "-o", "json")
    assert "imds-ext-reimage-pending" not in (shown.json.get("tags") or {})


def test_the_rollouts_workload_scan_takes_admin_and_admin_without_a_scan_is_a_usage_error(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", "c0", {})])
    r = az_imds(*START, "--enable", "--admin", "--dry-run", "-o", "json")
    assert r.code == 0, r.err
    assert admin.requests("POST", "/listClusterAdminCredential") and not admin.requests(
        "POST", "/listClusterUserCredential")
    bad = az_imds(*START, "--enable", "--skip-workload-check", "--admin", "--yes")
    assert bad.code == 2 and "--admin says how the workload scan reaches each cluster" in bad.err


# -- --fallback network-policy (issue 19) ------------------------------------------------------------------------
INSIGHTS = {"omsagent": {"enabled": True, "config": {"logAnalyticsWorkspaceResourceID": "/subscriptions/x/ws"}}}
AZURE_POLICY = {"azurepolicy": {"enabled": True}}


def test_fallback_protects_by_network_policy_the_clusters_the_managed_setting_cannot_serve(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", "ready", {}),
                       (SUB, "rg", "cilium", {"network_dataplane": "cilium", "addonProfiles": INSIGHTS}),
                       (SUB, "rg", "npm", {"network_policy": "azure", "addonProfiles": AZURE_POLICY}),
                       (SUB, "rg", "noengine", {"addonProfiles": INSIGHTS}),
                       (SUB, "rg", "nooidc", {"oidc": False, "network_dataplane": "cilium",
                                              "addonProfiles": INSIGHTS})])
    args = (*START, "--enable", "--fallback", "network-policy", "--canary", "0", "--yes", "-o", "json")
    dry = az_imds(*args[:-3], "--dry-run", "-o", "json")
    actions = {row["name"]: row["action"] for row in dry.json}
    assert actions == {"ready": "change", "cilium": "networkPolicy", "npm": "networkPolicy",
                       "noengine": "blocked", "nooidc": "blocked"}
    assert "cilium: podLinkLocalAccess=IMDS -> block IMDS by network policy" in dry.err
    rows = by_name(dry.json)
    assert [b["code"] for b in rows["noengine"]["blockers"]] == ["IncompatibleAddon", "NoNetworkPolicyEngine"]
    assert "OIDCIssuerDisabled" in [b["code"] for b in rows["nooidc"]["blockers"]]  # not what the fallback serves
    assert any(w["code"] == "ManagedSettingRefused" and "cilium-clusterwide" in w["message"]
               for w in rows["cilium"]["warnings"])
    assert changes(admin) == []

    r = az_imds(*args)
    assert r.code == 1, r.err  # two clusters stay blocked
    rows = by_name(r.json)
    assert {n: rows[n]["result"] for n in ("ready", "cilium", "npm")} == {"ready": "done", "cilium": "done",
                                                                        "npm": "done"}
    assert rows["cilium"]["podLinkLocalAccess"] == "IMDS"  # the managed setting untouched
    for name, kind in (("cilium", "CiliumClusterwideNetworkPolicy"), ("npm", "NetworkPolicy")):
        shown = az_imds("aks", "imds-restriction", "network-policy", "show", "-g", "rg", "-n", name, "-o", "json")
        assert shown.json["status"] == "protected", shown.json
        assert any(p.startswith(kind) for p in shown.json["policies"])

    # The objects themselves, as the emulated API servers hold them: one cluster-wide policy on Cilium, one
    # NetworkPolicy per covered namespace on NPM, nothing on the clusters the fallback did not serve.
    held = {}
    for o in admin.state()["kubernetes"].values():
        if o["body"].get("kind") in ("CiliumClusterwideNetworkPolicy", "NetworkPolicy"):
            held.setdefault(o["cluster"].split("/")[-1], set()).add((o["body"]["kind"], o["namespace"]))
    assert held["cilium"] == {("CiliumClusterwideNetworkPolicy", "")}
    assert ("NetworkPolicy", "default") in held["npm"] and {k for k, _ in held["npm"]} == {"NetworkPolicy"}
    assert "kube-system" not in {ns for _, ns in held["npm"]}  # exempt
    assert set(held) == {"cilium", "npm"}  # nothing on the clusters the fallback did not serve

    admin.clear_requests()
    again = az_imds(*args)
    rows = by_name(again.json)
    # Already protected: the plan read the owned objects and found nothing to write, so nothing runs.
    assert {n: (rows[n]["action"], rows[n]["result"], rows[n]["mechanism"]) for n in ("cilium", "npm")} == {
        "cilium": ("none", "done", "cilium-clusterwide"), "npm": ("none", "done", "per-namespace")}
    assert "cilium: podLinkLocalAccess=IMDS -> nothing (done): IMDS blocked by network policy (cilium-clusterwide)" \
        in again.err
    assert [e for e in admin.requests() if e["path"].startswith("/kubernetes/") and e["method"] != "GET"
            and "imds-probe" not in e["path"]] == []  # the re-run writes no policy


def test_fallback_goes_with_enable(az_imds, admin):
    r = az_imds(*START, "--disable", "--fallback", "network-policy", "--yes")
    assert r.code == 2 and "--fallback network-policy goes with --enable" in r.err


def test_fallback_per_namespace_converges_a_reopening_policy_holds_it_and_a_new_namespace_is_covered(
        az_imds, admin, tmp_path):
    from tests.support.policies import allow_all_egress, namespace

    seed_fleet(admin, [(SUB, "rg", "calico", {"network_policy": "calico", "addonProfiles": AZURE_POLICY}),
                       (SUB, "rg", "ready", {})])
    admin.seed(kubernetes=[{"resourceGroup": "rg", "cluster": "calico", "objects": [namespace("shop")]}])
    journal = str(tmp_path / "j.jsonl")
    args = (*START, "--enable", "--fallback", "network-policy", "--skip-workload-check", "--journal", journal,
            "--yes", "-o", "json")
    dry = az_imds(*args[:-5], "--dry-run", "-o", "json")
    assert dry.code == 0, dry.err
    # The canary wave may hold a cluster protected by policy: the first to do, as for any other.
    assert [(r["name"], r["action"], r["wave"], r["mechanism"]) for r in dry.json] == [
        ("calico", "networkPolicy", "canary", "per-namespace"), ("ready", "change", "main", None)]
    assert "calico: podLinkLocalAccess=IMDS -> block IMDS by network policy (--fallback network-policy): " \
           "per-namespace" in dry.err
    assert "1 of them get IMDS blocked by network policy instead" in dry.err
    # The plan read through the cluster's API server, and only lists.
    kube = [e for e in admin.requests() if e["path"].startswith("/kubernetes/")]
    assert kube and {e["method"] for e in kube} == {"GET"}

    r = az_imds(*args)
    assert r.code == 0, r.err
    rows = by_name(r.json)
    assert (rows["calico"]["result"], rows["calico"]["wave"]) == ("done", "canary")
    assert rows["calico"]["warnings"] and not [w for w in rows["calico"]["warnings"] if w["code"] == "FlowWarning"]
    entries = [json.loads(line) for line in open(journal, encoding="utf-8")]
    steps = [e["event"] for e in entries if (e.get("cluster") or "").lower() == cluster_id(SUB, "rg", "calico").lower()]
    assert steps == ["planned", "started", "applyingPolicy", "policyApplied", "done"]
    applied = next(e for e in entries if e["event"] == "policyApplied")
    assert applied["mechanism"] == "per-namespace" and applied["writes"] >= 2  # default, shop, ...
    ours = {o["namespace"] for o in admin.state()["kubernetes"].values()
            if o["body"].get("kind") == "NetworkPolicy" and o["cluster"].endswith("/calico")}
    assert {"default", "shop"} <= ours and "kube-system" not in ours

    # A namespace created since: networkPolicy again, and only it is written.
    admin.seed(kubernetes=[{"resourceGroup": "rg", "cluster": "calico", "objects": [namespace("new-team")]}])
    admin.clear_requests()
    later = az_imds(*args)
    assert later.code == 0, later.err
    assert by_name(later.json)["calico"]["action"] == "networkPolicy"
    assert [(e["method"], e["path"].rsplit("/namespaces/", 1)[-1]) for e in admin.requests()
            if e["path"].startswith("/kubernetes/") and e["method"] != "GET"] == [
        ("POST", "new-team/networkpolicies")]

    # Another policy reopens IMDS where everything is in place: nothing to write, so blocked, naming it.
    admin.seed(kubernetes=[{"resourceGroup": "rg", "cluster": "calico", "objects": [allow_all_egress("shop")]}])
    held = az_imds(*args)
    assert held.code == 1
    calico = by_name(held.json)["calico"]
    assert (calico["action"], calico["result"]) == ("blocked", "blocked")
    assert [b["code"] for b in calico["blockers"]] == ["PolicyReopensImds"]
    assert "NetworkPolicy shop/allow-all-egress reopens IMDS" in calico["blockers"][0]["message"]


def _legacy(namespace, name="legacy"):
    """A Deployment that takes its tokens from IMDS (aad-pod-identity's binding label): the scan says it breaks."""
    return {**LEGACY, "metadata": {"name": name, "namespace": namespace}}


def test_fallback_scan_leaves_out_the_exempt_namespaces_whose_pods_keep_imds(az_imds, admin):
    from tests.support.policies import namespace

    seed_fleet(admin, [(SUB, "rg", "cilium", {"network_dataplane": "cilium", "addonProfiles": INSIGHTS}),
                       (SUB, "rg", "calico", {"network_policy": "calico", "addonProfiles": AZURE_POLICY})])
    exempt_only = [namespace("monitoring", {"imds-ext.io/allow-imds": "true"}), _legacy("kube-system", "agent"),
                   _legacy("monitoring")]
    admin.seed(kubernetes=[{"resourceGroup": "rg", "cluster": "cilium", "objects": exempt_only},
                           {"resourceGroup": "rg", "cluster": "calico",
                            "objects": [*exempt_only, namespace("shop"), _legacy("shop")]}])
    admin.clear_requests()
    args = (*START, "--enable", "--fallback", "network-policy", "--canary", "0", "--yes", "-o", "json")
    dry = az_imds(*args[:-3], "--dry-run", "-o", "json")
    rows = by_name(dry.json)
    # The exempt namespaces keep IMDS: their workloads lose nothing, so they hold no cluster ...
    assert (rows["cilium"]["action"], rows["cilium"]["blockers"]) == ("networkPolicy", [])
    # ... while a covered namespace's still does, named alone.
    assert rows["calico"]["action"] == "blocked"
    [blocker] = rows["calico"]["blockers"]
    assert blocker["code"] == "WorkloadsWouldBreak" and "Deployment shop/legacy" in blocker["message"]
    assert "kube-system" not in blocker["message"] and "monitoring" not in blocker["message"]
    assert "cilium: podLinkLocalAccess=IMDS -> block IMDS by network policy" in dry.err

    r = az_imds(*args)
    assert r.code == 1, r.err  # calico stays blocked
    rows = by_name(r.json)
    assert (rows["cilium"]["result"], rows["calico"]["result"]) == ("done", "blocked")


NO_CRD = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
          "message": "the server could not find the requested resource"}


def test_fallback_on_cilium_without_the_clusterwide_crd_is_blocked_in_the_plan_naming_the_fix(az_imds, admin):
    seed_fleet(admin, [(SUB, "rg", "cilium", {"network_dataplane": "cilium", "addonProfiles": INSIGHTS})])
    admin.fault(method="GET", path="ciliumclusterwidenetworkpolicies", status=404, count=1000, body=NO_CRD)
    args = (*START, "--enable", "--fallback", "network-policy", "--canary", "0", "--yes", "-o", "json")
    dry = az_imds(*args[:-3], "--dry-run", "-o", "json")
    [row] = dry.json
    # Not "networkPolicy": apply would refuse it, so the plan says so, with the fix.
    assert row["action"] == "blocked", row
    assert [b["code"] for b in row["blockers"]] == ["IncompatibleAddon", "ClusterwidePolicyNotServed"]
    assert "kubectl get crd ciliumclusterwidenetworkpolicies.cilium.io" in row["blockers"][1]["fix"]
    assert "network-policy apply -g rg -n cilium --mechanism per-namespace" in row["blockers"][1]["fix"]
    assert "[ClusterwidePolicyNotServed]" in dry.err
    r = az_imds(*args)
    assert r.code == 1
    [row] = r.json
    assert row["result"] == "blocked" and row["mechanism"] is None
    assert [e for e in admin.requests() if e["path"].startswith("/kubernetes/") and e["method"] != "GET"] == []


@pytest.mark.parametrize("fault, said", [
    ({"status": 403, "body": {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
                              "code": 403, "message": "networkpolicies.networking.k8s.io is forbidden: User "
                                                      "\"entra-user\" cannot list resource \"networkpolicies\""}},
     "cannot list resource \"networkpolicies\""),
    ({"drop": True}, "is unreachable")])
def test_fallback_whose_api_server_cannot_be_read_is_blocked_by_policy_read_failed(az_imds, admin, fault, said):
    seed_fleet(admin, [(SUB, "rg", "npm", {"network_policy": "azure", "addonProfiles": AZURE_POLICY}),
                       (SUB, "rg", "ready", {})])
    admin.fault(method="GET", path=f"/kubernetes/{SUB}/rg/npm/", count=1000, **fault)
    args = (*START, "--enable", "--fallback", "network-policy", "--canary", "0", "--yes", "-o", "json")
    dry = az_imds(*args[:-3], "--dry-run", "-o", "json")
    rows = by_name(dry.json)
    assert rows["ready"]["action"] == "change"  # one cluster unreadable holds no one else
    npm = rows["npm"]
    assert npm["action"] == "blocked" and npm["mechanism"] is None
    assert [b["code"] for b in npm["blockers"]] == ["IncompatibleAddon", "PolicyReadFailed"]
    read_failed = npm["blockers"][1]
    assert "nobody can tell what an apply would write" in read_failed["message"] and said in read_failed["message"]
    assert "az-imds aks imds-restriction network-policy show -g rg -n npm" in read_failed["fix"]
    assert "docs/kubernetes-access.md" in read_failed["fix"]
    assert "[PolicyReadFailed]" in dry.err
    r = az_imds(*args)
    assert r.code == 1, r.err
    rows = by_name(r.json)
    assert (rows["npm"]["result"], rows["ready"]["result"]) == ("blocked", "done")
