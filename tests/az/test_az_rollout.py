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


def test_az_aks_imds_restriction_list_over_two_subscriptions(az_logged_in, admin):
    from imds_ext.core import marker

    seed_fleet(admin, [(SUB, "rg-a", "open1", {}), (SUB, "rg-a", "nooidc", {"oidc": False}),
                       (SUB, "rg-b", "done", {"restricted": True}),
                       (OTHER, "rg-c", "due", {"restricted": True,
                                               "tags": {marker.TAG: marker.value("None", ["userpool"])}})])
    r = az_logged_in("aks", "imds-restriction", "list", "--subscriptions", SUB, OTHER, "-o", "json")
    assert r.code == 0, r.err
    rows = by_name(r.json)
    assert {n: (row["state"], row["canEnable"]) for n, row in rows.items()} == {
        "open1": ("open", True), "nooidc": ("open", False), "done": ("enforced", True), "due": ("reimageDue", True)}
    assert rows["due"]["reimageDue"] == ["userpool"]
    assert rows["due"]["nextCommand"].startswith("az aks upgrade -g rg-c -n due --node-image-only")
    assert [b["code"] for b in rows["nooidc"]["blockers"]] == ["OIDCIssuerDisabled"]
    table = az_logged_in("aks", "imds-restriction", "list", "--all-subscriptions", "--tag", "nope", "-o", "table")
    assert table.code == 0 and table.out.strip() == "" and "No cluster matches the selection." in table.err
    table = az_logged_in("aks", "imds-restriction", "list", "--resource-groups", "rg-a", "-o", "table")
    assert table.code == 0 and "OIDCIssuerDisabled" in table.out and "CanEnable" in table.out
    assert changes(admin) == []
    bad = az_logged_in("aks", "imds-restriction", "list", "--tag", "=x")
    assert bad.code == 2 and "--tag '=x' has no key" in bad.err
    helped = az_logged_in("aks", "imds-restriction", "list", "--help")
    assert helped.code == 0 and "Examples" in helped.out and "az aks imds-restriction list" in helped.out
