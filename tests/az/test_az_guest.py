"""The extension as a quiet guest in az: az's own `aks upgrade --node-image-only` unless the IMDS reimage is due,
the results of the commands it wraps printed as az prints them, help for everything it adds, short tables."""
import time

import pytest

from imds_ext.core import marker
from tests.az.conftest import logged_in
from tests.support.clusters import cluster_body, seed_cluster
from tests.support.constants import FEATURE, PREVIEW_API

pytestmark = pytest.mark.az

RG = "rg1"
UPGRADE = ("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--yes", "-o", "json")


@pytest.fixture(scope="module")
def az_without_extension(fresh_az, emulator):
    """The same az with no extension: what az itself does."""
    return logged_in(fresh_az("az-plain"), emulator)


def arm_requests(admin):
    """The requests az sent to ARM, in order: method, path and api-version."""
    return [(e["method"], e["path"], e["query"].get("api-version")) for e in admin.requests()]


def seed_due(admin, pools=("userpool",)):
    """A restricted cluster whose pools named by imds-ext's record (core/marker.py) still let pods reach IMDS."""
    body = {**cluster_body(restricted=True), "tags": {marker.TAG: marker.value("None", pools)}}
    admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}], features={FEATURE: "Registered"},
               clusters=[{"resourceGroup": RG, "name": "c1", "cluster": body,
                          "nodes": {p: {"podLinkLocalAccess": "IMDS"} for p in pools}}])
    admin.clear_requests()


def leaves(value, path=""):
    """{path: leaf} of a JSON document: the keys it prints, each with its value."""
    if isinstance(value, dict):
        return {p: v for key, item in value.items() for p, v in leaves(item, f"{path}.{key}" if path else key).items()}
    if isinstance(value, list):
        return {p: v for i, item in enumerate(value) for p, v in leaves(item, f"{path}[{i}]").items()} or {path: []}
    return {path: value}


# What the emulator makes up anew for each seeded cluster: the only values two runs over the same seed differ in.
GENERATED = {"eTag", "resourceUid", "issuerUrl", "fqdn", "azurePortalFqdn", "principalId", "clientId", "objectId",
             "resourceId", "tenantId"}


def generated(path):
    return path.rsplit(".", 1)[-1] in GENERATED or ".effectiveOutboundIPs[" in path  # the public IP's own name


def same_answer(one, other):
    """The same keys, and the same values apart from the ones generated for each seeded cluster."""
    a, b = leaves(one), leaves(other)
    assert sorted(a) == sorted(b)
    assert [(p, a[p], b[p]) for p in sorted(a) if a[p] != b[p] and not generated(p)] == []


def timed(run, *args):
    start = time.monotonic()
    result = run(*args)
    return result, time.monotonic() - start


def test_node_image_only_upgrade_with_nothing_due_is_azs_own(az_logged_in, az_without_extension, admin):
    admin.config(lro_delay=2)
    seed_cluster(admin, RG, "c1")
    alone, alone_seconds = timed(az_without_extension, *UPGRADE)
    assert alone.code == 0, alone.err
    alone_requests = arm_requests(admin)

    admin.reset()
    admin.config(lro_delay=2)
    seed_cluster(admin, RG, "c1")
    guest, guest_seconds = timed(az_logged_in, *UPGRADE)
    assert guest.code == 0, guest.err
    # The same requests (az's api-version, no polling of the operations), the same answer, nothing on stderr.
    assert arm_requests(admin) == alone_requests
    assert not [r for r in alone_requests if "/operations/" in r[1]]
    same_answer(guest.json, alone.json)
    assert guest.err == alone.err
    assert "imds-ext" not in guest.err
    # az starts the upgrades and returns: it does not wait for the 2 s operations.
    assert guest_seconds < alone_seconds + 2, (guest_seconds, alone_seconds)
    admin.reset()
    admin.config(lro_delay=2)
    seed_cluster(admin, RG, "c1")
    waited, waited_seconds = timed(az_logged_in, *UPGRADE, "--wait-for-node-images")  # what it did before
    assert waited.code == 0, waited.err
    print(f"\naks upgrade --node-image-only, 2 s operations: {alone_seconds:.1f} s and {len(alone_requests)} requests "
          f"without the extension, {guest_seconds:.1f} s and {len(alone_requests)} with it; waited for "
          f"(--wait-for-node-images, as it always was before): {waited_seconds:.1f} s and "
          f"{len(arm_requests(admin))} requests")


def test_node_image_only_upgrade_when_the_imds_reimage_is_due_runs_the_imds_job_and_says_so(az_logged_in, admin):
    seed_due(admin)
    result = az_logged_in(*UPGRADE)
    assert result.code == 0, result.err
    assert "imds-ext: the IMDS restriction of cluster 'c1' is not yet enforced by pool(s) userpool" in result.err
    assert set(admin.enforced(RG, "c1").values()) == {"None"}
    posts = admin.requests("POST", "upgradeNodeImageVersion")
    assert len(posts) == 2 and {e["query"]["api-version"] for e in posts} == {PREVIEW_API}
    assert admin.requests("GET", "/operations/")  # waited for
    assert marker.TAG not in (result.json.get("tags") or {})  # the record cleared: nothing due any more
    again = az_logged_in(*UPGRADE)
    assert again.code == 0 and "imds-ext" not in again.err  # az's own from now on


def test_a_stale_record_leaves_the_upgrade_azs_own(az_logged_in, admin):
    """A record for the other setting (the setting was changed again since) is no record."""
    seed_cluster(admin, RG, "c1")
    admin.seed(clusters=[{"resourceGroup": RG, "name": "c1",
                          "cluster": {**cluster_body(restricted=False), "tags": {marker.TAG: "None:userpool"}}}])
    admin.clear_requests()
    result = az_logged_in(*UPGRADE)
    assert result.code == 0, result.err
    assert "imds-ext" not in result.err
    assert {e["query"]["api-version"] for e in admin.requests("POST", "upgradeNodeImageVersion")} != {PREVIEW_API}
    assert not admin.requests("GET", "/operations/")


def test_wait_for_node_images_asks_for_the_waited_upgrade(az_logged_in, admin):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in(*UPGRADE, "--wait-for-node-images")
    assert result.code == 0, result.err
    posts = admin.requests("POST", "upgradeNodeImageVersion")
    assert len(posts) == 2 and {e["query"]["api-version"] for e in posts} == {PREVIEW_API}
    assert admin.requests("GET", "/operations/")
    assert {p["provisioningState"] for p in result.json["agentPoolProfiles"]} == {"Succeeded"}


@pytest.mark.parametrize("args, message", [
    (("--no-wait",), "--wait-for-node-images waits for the nodes to be reimaged: it cannot go with --no-wait."),
    (("--kubernetes-version", "1.33.1"), "--wait-for-node-images waits for a node-image-only upgrade: it goes with "
                                         "--node-image-only and no other 'az aks upgrade' option (also given: "
                                         "--kubernetes-version). Nothing was changed.")])
def test_wait_for_node_images_goes_with_node_image_only_alone(az_logged_in, admin, args, message):
    seed_cluster(admin, RG, "c1")
    result = az_logged_in(*UPGRADE, "--wait-for-node-images", *args)
    assert result.code == 2, result.err
    assert message in result.err
    assert admin.requests() == []


def key_paths(value):
    return set(leaves(value))


# What az's `aks show` leaves out and its `aks update` keeps (az's _remove_nulls): the only keys the update's result
# may have beyond show's, with the setting az's model does not declare.
SHOW_REMOVES = {"tags", "osDiskSizeGb", "vnetSubnetId", "secret"}


def prints_as_show(result, shown):
    """Every key `az aks show` prints, in az's casing, and beyond them only the nulls show leaves out and the
    setting az's model does not declare."""
    extra = key_paths(result) - key_paths(shown)
    assert key_paths(shown) - key_paths(result) == set()
    assert {p for p in extra if p.rsplit(".", 1)[-1] not in SHOW_REMOVES} == {"networkProfile.podLinkLocalAccess"}
    for key in ("enableRbac", "azurePortalFqdn", "resourceUid"):
        assert key in result
    assert not {"enableRBAC", "azurePortalFQDN", "resourceUID", "properties"} & set(result)


@pytest.mark.parametrize("flag, setting", [("--enable-imds-restriction", "None"),
                                           ("--disable-imds-restriction", "IMDS")])
def test_update_with_the_flag_prints_the_cluster_as_az_aks_show_does(az_logged_in, admin, flag, setting):
    seed_cluster(admin, RG, "c1", restricted=setting == "IMDS")
    updated = az_logged_in("aks", "update", "-g", RG, "-n", "c1", flag, "--yes", "-o", "json")
    assert updated.code == 0, updated.err
    shown = az_logged_in("aks", "show", "-g", RG, "-n", "c1", "-o", "json")
    assert shown.code == 0, shown.err
    prints_as_show(updated.json, shown.json)
    assert updated.json["networkProfile"]["podLinkLocalAccess"] == setting
    query = az_logged_in("aks", "update", "-g", RG, "-n", "c1", flag, "--yes", "--query",
                         "[enableRbac, networkProfile.podLinkLocalAccess]", "-o", "tsv")
    assert query.code == 0 and query.out.split() == ["true", setting], query.err


def test_create_with_the_flag_prints_the_cluster_as_az_aks_show_does(az_logged_in, admin):
    admin.seed({"resourceGroups": [{"name": RG, "location": "westus2"}], "features": {FEATURE: "Registered"},
                "providers": {"Microsoft.ContainerService": "Registered"}})
    created = az_logged_in("aks", "create", "-g", RG, "-n", "c2", "--enable-oidc-issuer", "--enable-imds-restriction",
                           "--no-ssh-key", "-o", "json")
    assert created.code == 0, created.err
    prints_as_show(created.json, az_logged_in("aks", "show", "-g", RG, "-n", "c2", "-o", "json").json)
    assert created.json["networkProfile"]["podLinkLocalAccess"] == "None"


def test_the_imds_jobs_upgrade_prints_the_cluster_as_az_aks_show_does(az_logged_in, admin):
    seed_due(admin)
    upgraded = az_logged_in(*UPGRADE)
    assert upgraded.code == 0, upgraded.err
    prints_as_show(upgraded.json, az_logged_in("aks", "show", "-g", RG, "-n", "c1", "-o", "json").json)


ADDED_COMMANDS = [("aks", "imds-restriction"), ("aks", "imds-restriction", "show"), ("aks", "imds-restriction", "list"),
                  ("aks", "imds-restriction", "scan"), ("aks", "imds-restriction", "verify"),
                  ("aks", "imds-restriction", "rollout"), ("aks", "imds-restriction", "rollout", "start"),
                  ("aks", "imds-restriction", "rollout", "status")]


def help_sections(text):
    """az's help page as {section: its lines} (Group, Command, Arguments, Examples...)."""
    sections, current = {}, None
    for line in text.splitlines():
        if line and not line[0].isspace():
            current = line.split(" ")[0] if line.split(" ")[0] in ("Group", "Command", "Examples") else line
            sections.setdefault(current, [])
        elif current is not None and line.strip():
            sections[current].append(line.strip())
    return sections


@pytest.mark.parametrize("command", ADDED_COMMANDS, ids=" ".join)
def test_every_command_and_group_the_extension_adds_has_a_description_and_examples(az, command):
    helped = az(*command, "--help")
    assert helped.code == 0, helped.err
    sections = help_sections(helped.out)
    [title] = [lines for name, lines in sections.items() if name in ("Group", "Command")]
    head, _, summary = " ".join(title).partition(" : ")
    assert head.startswith("az " + " ".join(command)) and len(summary.strip()) > 20, title
    examples = [line for line in sections.get("Examples", []) if line.startswith("az aks imds-restriction")]
    assert examples, helped.out
    assert "az-imds" not in helped.out


@pytest.mark.parametrize("command, example", [
    ("create", "az aks create -g MyResourceGroup -n MyManagedCluster --enable-oidc-issuer"),
    ("update", "az aks update -g MyResourceGroup -n MyManagedCluster --enable-imds-restriction"),
    ("update", "az aks update -g MyResourceGroup -n MyManagedCluster --disable-imds-restriction"),
    ("upgrade", "az aks upgrade -g MyResourceGroup -n MyManagedCluster --node-image-only --wait-for-node-images")])
def test_azs_own_commands_help_has_an_imds_example_beside_azs_examples(az, command, example):
    helped = az("aks", command, "--help")
    assert helped.code == 0, helped.err
    examples = help_sections(helped.out)["Examples"]
    unwrapped = "".join(examples).replace(" ", "")  # az wraps long examples, at hyphens too
    assert example.replace(" ", "") in unwrapped, examples
    assert sum(line.startswith(f"az aks {command}") for line in examples) > 1  # az's own are still there


def column_widths(table):
    """The width of each column of az's `-o table`, from the rule under the header."""
    rule = table.splitlines()[1]
    assert set(rule) <= {"-", " "}, table
    return [len(dashes) for dashes in rule.split()]


WIDEST = 64  # the cut reasons (60) and the longest names; -o json has every text whole


def test_the_extensions_tables_have_short_columns_and_json_keeps_the_whole_text(az_logged_in, admin):
    from tests.integration.test_scan import COMPONENTS, WORKLOADS

    seed_cluster(admin, RG, "c1", oidc=False)
    admin.seed(kubernetes=[{"resourceGroup": RG, "cluster": "c1", "objects": WORKLOADS + COMPONENTS}])
    base = ("-g", RG, "-n", "c1")
    commands = {"show": ("show", *base), "list": ("list",), "scan": ("scan", *base),
                "verify": ("verify", *base, "--probe-image", "registry.invalid/curl:8", "--sample", "1")}
    longest = {}
    for name, args in commands.items():
        table = az_logged_in("aks", "imds-restriction", *args, "-o", "table")
        assert table.out.strip(), (name, table.err)
        widths = column_widths(table.out)
        assert max(widths) <= WIDEST, (name, table.out)
        as_json = az_logged_in("aks", "imds-restriction", *args, "-o", "json").json
        longest[name] = max(len(text) for text in leaves(as_json).values() if isinstance(text, str))
    # Long texts there are, in the JSON: the tables cut them, they do not lose them.
    assert longest["scan"] > WIDEST and longest["verify"] > WIDEST and longest["list"] > WIDEST, longest
