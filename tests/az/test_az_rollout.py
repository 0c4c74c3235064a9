"""`az aks imds-restriction rollout start/status` through the real `az`: the same rollout as `az-imds`, over az's
login, with az's exit codes and output."""
import pytest

from tests.integration.test_rollout import OTHER, by_name, changes, enforced, seed_fleet
from tests.support.constants import SUB

pytestmark = pytest.mark.az

START = ("aks", "imds-restriction", "rollout", "start")


def test_a_rollout_over_two_subscriptions_inside_az(az_logged_in, admin, tmp_path):
    seed_fleet(admin, [(SUB, "rg-a", "ready", {}), (SUB, "rg-a", "nooidc", {"oidc": False}),
                       (OTHER, "rg-b", "other", {})])
    dry = az_logged_in(*START, "--enable", "--subscriptions", SUB, OTHER, "--dry-run", "-o", "table")
    assert dry.code == 1, dry.err  # one cluster is blocked
    assert "OIDCIssuerDisabled" in dry.out and "Fix: az aks update -g rg-a -n nooidc --enable-oidc-issuer" in dry.err
    assert changes(admin) == []

    journal = str(tmp_path / "j.jsonl")
    r = az_logged_in(*START, "--enable", "--subscriptions", SUB, OTHER, "--journal", journal, "--yes", "-o", "json")
    assert r.code == 1, r.err
    assert {n: row["result"] for n, row in by_name(r.json).items()} == {"ready": "done", "nooidc": "blocked",
                                                                       "other": "done"}
    assert set(enforced(admin, "rg-b", "other", OTHER).values()) == {"None"}
    status = az_logged_in("aks", "imds-restriction", "rollout", "status", "--journal", journal, "-o", "json")
    assert status.code == 1 and by_name(status.json)["other"]["state"] == "done"

    fixed = az_logged_in(*START, "--enable", "--all-subscriptions", "--journal", journal, "--enable-oidc-issuer",
                         "--yes", "-o", "json")  # az's own SubscriptionClient lists both
    assert fixed.code == 0, fixed.err
    assert {n: row["action"] for n, row in by_name(fixed.json).items()} == {"ready": "none", "nooidc": "change",
                                                                           "other": "none"}
    assert az_logged_in("aks", "imds-restriction", "rollout", "status", "--journal", journal).code == 0


def test_bad_input_is_azs_usage_error(az_logged_in, admin):
    r = az_logged_in(*START, "--enable", "--max-parallel", "0", "--yes")
    assert r.code == 2 and "--max-parallel must be 1 or more" in r.err
    assert admin.requests() == []
