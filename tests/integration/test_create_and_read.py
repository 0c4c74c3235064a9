"""`aks create`, the reads, and the readiness report, through the real CLI."""
from tests.support.constants import FEATURE, RG


def test_create_with_restriction_requires_the_oidc_issuer(az_imds, admin):
    admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}], features={FEATURE: "Registered"})
    r = az_imds("aks", "create", "-g", RG, "-n", "new1", "--enable-imds-restriction", "--yes")
    assert r.code == 1
    assert "--enable-oidc-issuer" in r.err and "cannot be turned off" in r.err
    assert admin.requests("PUT") == []


def test_create_with_restriction_refuses_an_unregistered_feature(az_imds, admin):
    admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}])
    r = az_imds("aks", "create", "-g", RG, "-n", "new1", "--enable-oidc-issuer", "--enable-imds-restriction")
    assert r.code == 1 and "FeatureNotRegistered" in r.err
    assert admin.requests("PUT") == []


def test_create_with_restriction_and_an_incompatible_addon_is_refused(az_imds, admin):
    admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}], features={FEATURE: "Registered"})
    r = az_imds("aks", "create", "-g", RG, "-n", "new1", "--enable-oidc-issuer", "--enable-imds-restriction",
                "--enable-addons", "monitoring")
    assert r.code == 1 and "Container Insights" in r.err
    assert admin.requests("PUT") == []


def test_create_restricted_cluster_whose_new_nodes_enforce_it(az_imds, admin):
    admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}], features={FEATURE: "Registered"})
    r = az_imds("aks", "create", "-g", RG, "-n", "new1", "--enable-oidc-issuer", "--enable-workload-identity",
                "--enable-imds-restriction", "--node-count", "2", "--tags", "env=ci", "team")
    assert r.code == 0, r.err
    mc = r.json
    assert mc["networkProfile"]["podLinkLocalAccess"] == "None"
    assert mc["provisioningState"] == "Succeeded"
    assert mc["location"] == "westus2"  # the resource group's, as az does
    assert mc["tags"] == {"env": "ci", "team": ""}
    assert mc["agentPoolProfiles"][0]["count"] == 2
    assert admin.enforced(RG, "new1") == {"nodepool1": "None"}
    assert admin.requests("POST", "/upgradeNodeImageVersion") == []  # new nodes need no reimage


def test_create_plain_cluster_with_az_defaults(az_imds, admin):
    admin.seed(resourceGroups=[{"name": RG, "location": "eastus"}])
    r = az_imds("aks", "create", "-g", RG, "-n", "plain", "-l", "westus2")
    assert r.code == 0, r.err
    mc = r.json
    assert mc["location"] == "westus2"
    assert mc["agentPoolProfiles"][0]["count"] == 3 and mc["agentPoolProfiles"][0]["mode"] == "System"
    assert mc["networkProfile"].get("podLinkLocalAccess", "IMDS") == "IMDS"


def test_create_existing_cluster_is_an_error(az_imds, admin, seed_cluster):
    seed_cluster()
    r = az_imds("aks", "create", "-g", RG, "-n", "c1")
    assert r.code == 1 and "already exists" in r.err
    assert admin.requests("PUT") == []


def test_create_in_a_missing_resource_group_exits_3(az_imds, admin):
    r = az_imds("aks", "create", "-g", "nogroup", "-n", "c")
    assert r.code == 3 and "nogroup" in r.err


def test_show_list_and_query(az_imds, admin, seed_cluster):
    seed_cluster()
    assert az_imds("aks", "show", "-g", RG, "-n", "c1", "--query", "name", "-o", "tsv").out.strip() == "c1"
    listed = az_imds("aks", "list", "-g", RG, "--query", "[].name").json
    assert listed == ["c1"]
    assert az_imds("aks", "list", "--query", "length(@)").json == 1
    table = az_imds("aks", "list", "-o", "table").out.splitlines()
    assert table[0].split() == ["Name", "Location", "ResourceGroup", "KubernetesVersion", "ProvisioningState",
                                "PodLinkLocalAccess", "Fqdn"]
    assert table[2].split()[:3] == ["c1", "westus2", RG] and table[2].split()[5] == "IMDS"
    assert az_imds("aks", "show", "-g", RG, "-n", "missing").code == 3


def test_imds_restriction_show_reports_state_blockers_and_plans(az_imds, admin, seed_cluster):
    seed_cluster(feature="NotRegistered", addonProfiles={"azurepolicy": {"enabled": True}})
    report = az_imds("aks", "imds-restriction", "show", "-g", RG, "-n", "c1").json
    assert report["podLinkLocalAccess"] == "IMDS" and report["restricted"] is False
    assert report["feature"] == {"name": FEATURE, "state": "NotRegistered"}
    assert report["provider"]["registrationState"] == "Registered"
    assert report["oidcIssuer"] == {"enabled": True}
    assert [p["name"] for p in report["pools"]] == ["nodepool1", "userpool"]
    assert report["canEnable"] is False
    assert [b["code"] for b in report["blockers"]] == ["FeatureNotRegistered", "IncompatibleAddon"]
    assert all(b["fix"] for b in report["blockers"])
    assert [p["name"] for p in report["ifEnabled"]["reimage"]] == ["nodepool1", "userpool"]
    assert report["ifDisabled"]["changesCluster"] is False
    # Nothing changed: no write; the one POST is the credentials read the workload scan needs.
    assert admin.requests("PUT") == [] and [e for e in admin.requests("POST", "/subscriptions/")
                                            if not e["path"].endswith("/listClusterUserCredential")] == []
    table = az_imds("aks", "imds-restriction", "show", "-g", RG, "-n", "c1", "-o", "table").out.splitlines()
    assert table[0].split()[-2:] == ["CanEnable", "Blockers"] and table[2].split()[-2:] == ["False", "2"]


def test_upgrade_requires_node_image_only(az_imds, admin, seed_cluster):
    seed_cluster()
    r = az_imds("aks", "upgrade", "-g", RG, "-n", "c1", "--yes")
    assert r.code == 2 and "--node-image-only" in r.err
    assert [e for e in admin.requests("POST", "/subscriptions/")
            if not e["path"].endswith("/listClusterUserCredential")] == []


def test_nodepool_upgrade_reimages_one_pool(az_imds, admin, seed_cluster):
    seed_cluster(networkProfile={"networkPlugin": "azure", "podLinkLocalAccess": "None"},
                 nodes={"nodepool1": {"podLinkLocalAccess": "IMDS"}, "userpool": {"podLinkLocalAccess": "IMDS"}})
    r = az_imds("aks", "nodepool", "upgrade", "-g", RG, "--cluster-name", "c1", "-n", "userpool", "--node-image-only",
                "--yes")
    assert r.code == 0, r.err
    assert admin.enforced(RG, "c1") == {"nodepool1": "IMDS", "userpool": "None"}


def test_upgrade_reimages_every_pool_as_az_does(az_imds, admin, seed_cluster):
    seed_cluster(pools=[
        {"name": "nodepool1", "count": 1, "osType": "Linux", "mode": "System", "vmSize": "Standard_DS2_v2"},
        {"name": "win1", "count": 1, "osType": "Windows", "mode": "User", "vmSize": "Standard_DS2_v2"}])
    r = az_imds("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only", "--yes")
    assert r.code == 0, r.err
    started = admin.requests("POST", "/upgradeNodeImageVersion")
    assert sorted(e["path"].rsplit("/", 2)[1] for e in started) == ["nodepool1", "win1"]
    assert {p["provisioningState"] for p in r.json["agentPoolProfiles"]} == {"Succeeded"}


def test_upgrade_without_yes_and_without_a_terminal_changes_nothing(az_imds, admin, seed_cluster):
    seed_cluster()
    r = az_imds("aks", "upgrade", "-g", RG, "-n", "c1", "--node-image-only")
    assert r.code == 1 and "--yes" in r.err
    assert [e for e in admin.requests("POST", "/subscriptions/")
            if not e["path"].endswith("/listClusterUserCredential")] == []


def test_create_no_wait_returns_at_once(az_imds, admin):
    admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}])
    admin.config(lro_delay=30)
    r = az_imds("aks", "create", "-g", RG, "-n", "later", "--no-wait")
    assert r.code == 0, r.err
    assert r.out.strip() == ""
    assert len(admin.requests("PUT", "/managedClusters/later")) == 1
    assert admin.requests("GET", "/operations/") == []
    state = az_imds("aks", "show", "-g", RG, "-n", "later", "--query", "provisioningState", "-o", "tsv")
    assert state.out.strip() == "Creating"


def test_unknown_addon_is_a_usage_error_before_any_request(az_imds, admin):
    r = az_imds("aks", "create", "-g", RG, "-n", "c9", "--enable-addons", "monitoring,bogus")
    assert r.code == 2 and "unknown add-on(s) bogus" in r.err
    assert admin.requests() == []


CREATE = ("aks", "create", "-g", RG, "-n", "new1", "--enable-oidc-issuer", "--enable-imds-restriction")


def test_a_create_whose_answer_is_lost_succeeds_and_the_same_command_then_converges(az_imds, admin):
    admin.seed(resourceGroups=[{"name": RG, "location": "westus2"}], features={FEATURE: "Registered"})
    admin.fault(method="PUT", path="/managedClusters/new1$", count=1, dropResponse=True)
    r = az_imds(*CREATE)
    assert r.code == 0, r.err
    # Created but unanswered; the pipeline's retry, If-None-Match: *, gets 412 for the cluster it has just made.
    assert [e["status"] for e in admin.requests("PUT", "/managedClusters/new1")] == [0, 412]
    assert "already exists" not in r.err and "PreconditionFailed" not in r.err
    assert r.json["networkProfile"]["podLinkLocalAccess"] == "None" and r.json["provisioningState"] == "Succeeded"
    admin.clear_requests()
    again = az_imds(*CREATE)
    assert again.code == 0, again.err
    assert "already exists as this command creates it" in again.err
    assert admin.requests("PUT") == []
    assert admin.enforced(RG, "new1") == {"nodepool1": "None"}


def test_a_create_of_a_cluster_made_otherwise_is_still_refused(az_imds, admin, seed_cluster):
    seed_cluster(name="new1")  # two pools and a DNS prefix of its own: not what CREATE asks for
    r = az_imds(*CREATE)
    assert r.code == 1 and "already exists" in r.err
    assert admin.requests("PUT") == []


def test_a_nodepool_upgrade_whose_wait_is_cut_is_finished_by_the_same_command(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.config(lro_delay=8)
    admin.fault(method="GET", path="/operations/", count=4, drop=True)  # the poll's connection, and its retries
    upgrade = ("aks", "nodepool", "upgrade", "-g", RG, "--cluster-name", "c1", "-n", "userpool", "--node-image-only",
               "--yes")
    r = az_imds(*upgrade)
    assert r.code == 1
    assert ("The node-image upgrade of pool 'userpool' of cluster 'c1' was started and may still be running. Run "
            f"'az-imds {' '.join(upgrade)}' to finish the job: it waits for the upgrade.") in r.err
    admin.clear_faults()
    again = az_imds(*upgrade)
    assert again.code == 0, again.err
    assert "An operation is in progress (node pool(s) userpool of cluster 'c1' are busy)" in again.err
    assert "that was in progress has finished; no other was started" in again.err
    assert len(admin.requests("POST", "/upgradeNodeImageVersion")) == 1
    assert again.json["provisioningState"] == "Succeeded"
    assert admin.enforced(RG, "c1") == {"nodepool1": "IMDS", "userpool": "IMDS"}
