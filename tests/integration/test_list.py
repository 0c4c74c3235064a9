"""`az-imds aks imds-restriction list`: the fleet view, read-only, selected as a rollout selects."""
import re

import pytest

from imds_ext.core import marker
from tests.integration.test_rollout import FORBIDDEN, OTHER, by_name, changes, seed_fleet
from tests.support.constants import SUB

LIST = ("aks", "imds-restriction", "list")

FLEET = [
    (SUB, "rg-a", "open1", {"tags": {"env": "prod"}}),
    (SUB, "rg-a", "nooidc", {"oidc": False, "tags": {"env": "prod"}}),
    (SUB, "rg-b", "done", {"restricted": True, "tags": {"env": "dev"}}),
    # restricted, its userpool still to reimage: the record as the update flow writes it (core/marker.py)
    (OTHER, "rg-c", "due", {"restricted": True, "tags": {marker.TAG: marker.value("None", ["userpool"]),
                                                           "env": "prod"}}),
]


def test_list_across_two_subscriptions_tells_each_clusters_state_and_blockers_and_changes_nothing(az_imds, admin):
    seed_fleet(admin, FLEET)
    r = az_imds(*LIST, "--subscriptions", SUB, OTHER, "-o", "json")
    assert r.code == 0, r.err
    rows = by_name(r.json)
    assert [row["name"] for row in r.json] == ["nooidc", "open1", "done", "due"]  # by subscription, group, name
    assert {n: (row["podLinkLocalAccess"], row["state"], row["canEnable"]) for n, row in rows.items()} == {
        "open1": ("IMDS", "open", True), "nooidc": ("IMDS", "open", False), "done": ("None", "enforced", True),
        "due": ("None", "reimageDue", True)}
    assert rows["due"]["subscription"] == OTHER and rows["due"]["reimageDue"] == ["userpool"]
    assert rows["due"]["nextCommand"] == (f"az-imds aks upgrade -g rg-c -n due --node-image-only --yes "
                                          f"--subscription {OTHER}")
    assert rows["open1"]["reimageDue"] == [] and rows["open1"]["nextCommand"] is None
    # Blockers as `show` gives them: {code, message, fix}.
    [blocker] = rows["nooidc"]["blockers"]
    assert set(blocker) == {"code", "message", "fix", "cost"} and blocker["code"] == "OIDCIssuerDisabled"
    assert blocker["fix"].startswith("az-imds aks update -g rg-a -n nooidc --enable-imds-restriction "
                                     "--enable-oidc-issuer")  # a command az-imds has
    assert all(w.keys() == {"code", "message", "fix", "cost"} for row in r.json for w in row["warnings"])
    # Read-only; the registrations read once per subscription, the extensions only of the clusters not restricted.
    assert changes(admin) == []
    for sub in (SUB, OTHER):
        assert len(admin.requests("GET", f"/subscriptions/{sub}/providers/Microsoft.Features/")) <= 1
    assert len(admin.requests("GET", f"/subscriptions/{SUB}/providers/Microsoft.Features/")) == 1
    extensions = admin.requests("GET", "/providers/Microsoft.KubernetesConfiguration/extensions")
    assert sorted(e["path"].split("/managedClusters/")[1].split("/")[0] for e in extensions) == ["nooidc", "open1"]

    # The same through `show`: one cluster's report agrees with its row.
    show = az_imds("aks", "imds-restriction", "show", "-g", "rg-a", "-n", "nooidc", "-o", "json")
    assert show.json["blockers"] == rows["nooidc"]["blockers"]


def test_list_as_a_table_is_short(az_imds, admin):
    seed_fleet(admin, FLEET)
    r = az_imds(*LIST, "--all-subscriptions", "-o", "table")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].split() == ["Subscription", "ResourceGroup", "Name", "Setting", "State", "ReimageDue",
                                "CanEnable", "Blockers"]
    assert max(len(cell) for line in lines for cell in re.split(r"\s{2,}", line)) <= 60  # no column runs long
    row = next(line for line in lines if " nooidc " in line)
    assert "OIDCIssuerDisabled" in row and "open" in row and "False" in row
    assert "reimageDue" in next(line for line in lines if " due " in line)
    tsv = az_imds(*LIST, "--all-subscriptions", "--query", "[].[name, state]", "-o", "tsv")
    assert tsv.out.split("\n")[0].split("\t") == ["nooidc", "open"]
    yaml = az_imds(*LIST, "--all-subscriptions", "-o", "yaml")
    assert "state: reimageDue" in yaml.out


def test_tags_and_resource_groups_select_as_the_rollout_does(az_imds, admin):
    seed_fleet(admin, FLEET + [(OTHER, "rg-a", "other1", {"tags": {"Env": "prod"}})])
    r = az_imds(*LIST, "--all-subscriptions", "--tag", "env=prod", "-o", "json")
    assert r.code == 0, r.err
    assert [row["name"] for row in r.json] == ["nooidc", "open1", "other1", "due"]
    r = az_imds(*LIST, "--all-subscriptions", "--resource-groups", "rg-a", "--tag", "env", "-o", "json")
    assert [row["name"] for row in r.json] == ["nooidc", "open1", "other1"]
    # No subscription named: the current one (AZURE_SUBSCRIPTION_ID) alone, as in the rollout.
    r = az_imds(*LIST, "--resource-groups", "rg-b", "-o", "json")
    assert [row["name"] for row in r.json] == ["done"]
    none = az_imds(*LIST, "--tag", "team=nobody", "-o", "json")
    assert none.code == 0 and none.json == [] and "No cluster matches the selection." in none.err


def test_an_unreadable_cluster_is_a_row_of_its_own_and_the_exit_code_stays_0(az_imds, admin):
    seed_fleet(admin, FLEET)
    admin.fault(method="GET", path="/managedClusters/open1/providers/Microsoft.KubernetesConfiguration/extensions",
                status=403, body=FORBIDDEN, count=100)
    r = az_imds(*LIST, "--subscriptions", SUB, OTHER, "-o", "json")
    assert r.code == 0, r.err
    rows = by_name(r.json)
    assert rows["open1"]["state"] == "unknown" and rows["open1"]["canEnable"] is None
    assert "AuthorizationFailed" in rows["open1"]["reason"]
    assert rows["open1"]["podLinkLocalAccess"] == "IMDS"  # as listed
    assert [b["code"] for b in rows["open1"]["blockers"]] == ["ReadFailed"]
    assert {n: row["state"] for n, row in rows.items() if n != "open1"} == {
        "nooidc": "open", "done": "enforced", "due": "reimageDue"}
    table = az_imds(*LIST, "--subscriptions", SUB, OTHER, "-o", "table")
    assert table.code == 0 and "unknown" in table.out


def test_an_unknown_subscription_or_group_is_an_error_as_in_the_rollout(az_imds, admin):
    seed_fleet(admin, FLEET)
    r = az_imds(*LIST, "--subscriptions", "22222222-2222-2222-2222-222222222222")
    assert r.code == 3 and "22222222-2222-2222-2222-222222222222" in r.err
    r = az_imds(*LIST, "--resource-groups", "nope")
    assert r.code == 3 and "Resource group(s) nope could not be found" in r.err
    assert "Nothing was changed" not in r.err  # a list changes nothing anyway


@pytest.mark.parametrize("args, message", [
    (("--tag", "=prod"), "--tag '=prod' has no key"),
    (("--all-subscriptions", "--subscriptions", SUB), "--all-subscriptions cannot go with"),
    (("--subscriptions", SUB, "--subscription", SUB), "Use --subscriptions for several subscriptions"),
    (("--resource-groups", "bad/name"), "--resource-groups 'bad/name' is not a valid name"),
    (("--subscriptions", ""), "--subscriptions is empty"),
    (("--ids", "/subscriptions/x"), "unrecognized arguments: --ids"),
    (("--enable",), "unrecognized arguments: --enable"),
])
def test_bad_input_is_a_usage_error_before_any_request(az_imds, admin, args, message):
    r = az_imds(*LIST, *args)
    assert r.code == 2, r.err
    assert message in r.err
    assert admin.requests() == []
