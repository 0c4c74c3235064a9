"""Managed namespaces (`{cluster}/managedNamespaces/{name}`) through azure-mgmt-containerservice's own operations
group, and ARM's generic resource list through azure-mgmt-resource, as test_aks_managed_namespace (2025-10-29)
answered."""
import pytest
import yaml
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerservice.models import ManagedNamespace, NamespaceProperties

from tests.support.clusters import cluster_body
from tests.support.constants import SUB

TYPE = "Microsoft.ContainerService/managedClusters/managedNamespaces"
QUOTA = {"cpuRequest": "500m", "cpuLimit": "800m", "memoryRequest": "1Gi", "memoryLimit": "2Gi"}
POLICY = {"ingress": "AllowSameNamespace", "egress": "AllowAll"}


@pytest.fixture
def cluster(aks, rg):
    aks.managed_clusters.begin_create_or_update(rg, "c1", cluster_body()).result()
    return "c1"


def namespace(labels=None, **properties):
    return ManagedNamespace(location="westeurope", properties=NamespaceProperties({
        "labels": labels or {}, "annotations": {}, "defaultResourceQuota": QUOTA, "defaultNetworkPolicy": POLICY,
        "adoptionPolicy": "Never", "deletePolicy": "Keep", **properties}))


def test_a_managed_namespace_is_created_read_listed_updated_and_deleted_through_the_sdk(aks, rg, cluster):
    created = aks.managed_namespaces.begin_create_or_update(rg, cluster, "team-a", namespace()).result()
    assert (created.name, created.type, created.properties.provisioning_state) == ("team-a", TYPE, "Succeeded")
    assert created.properties.labels is None  # sent empty, answered absent, as the service does
    assert dict(created.properties.default_resource_quota) == QUOTA
    fqdn = aks.managed_clusters.get(rg, cluster).azure_portal_fqdn
    assert created.properties.portal_fqdn == fqdn and created.system_data.created_at
    assert [n.name for n in aks.managed_namespaces.list_by_managed_cluster(rg, cluster)] == ["team-a"]

    updated = aks.managed_namespaces.begin_create_or_update(rg, cluster, "team-a", namespace({"x": "y"})).result()
    assert updated.properties.labels == {"x": "y"} and updated.e_tag != created.e_tag
    assert updated.system_data.created_at == created.system_data.created_at

    aks.managed_namespaces.begin_delete(rg, cluster, "team-a").result()
    with pytest.raises(ResourceNotFoundError):
        aks.managed_namespaces.get(rg, cluster, "team-a")
    assert list(aks.managed_namespaces.list_by_managed_cluster(rg, cluster)) == []


def test_a_namespace_credential_is_the_cluster_users_kubeconfig(aks, rg, cluster):
    aks.managed_namespaces.begin_create_or_update(rg, cluster, "team-a", namespace()).result()
    got = aks.managed_namespaces.list_credential(rg, cluster, "team-a").kubeconfigs
    user = aks.managed_clusters.list_cluster_user_credentials(rg, cluster).kubeconfigs
    assert [k.name for k in got] == ["clusterUser"]
    assert yaml.safe_load(got[0].value) == yaml.safe_load(user[0].value)
    with pytest.raises(ResourceNotFoundError):
        aks.managed_namespaces.list_credential(rg, cluster, "nobody")


def test_an_entra_clusters_kubeconfig_names_the_aks_client_application(aks, rg):
    body = cluster_body()
    body["properties"]["aadProfile"] = {"managed": True}
    aks.managed_clusters.begin_create_or_update(rg, "entra", body).result()
    config = yaml.safe_load(aks.managed_clusters.list_cluster_user_credentials(rg, "entra").kubeconfigs[0].value)
    args = config["users"][0]["user"]["exec"]["args"]
    # The AKS client application, as the service's kubeconfig names it (test_aks_managed_namespace #37).
    assert args[args.index("--client-id") + 1] == "80faf920-1908-4b52-b5ef-a8e7bedfc67a"


@pytest.mark.parametrize("name, properties, target", [
    ("Team_A", {}, "name"),
    ("team-a", {"adoptionPolicy": "Sometimes"}, "properties.adoptionPolicy"),
    ("team-a", {"defaultNetworkPolicy": {"egress": "DenyIMDS"}}, "properties.defaultNetworkPolicy.egress"),
])
def test_a_managed_namespace_the_service_would_refuse_gets_a_400_and_nothing_is_made(arm, cluster, name, properties,
                                                                                       target):
    path = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/" \
           "managedNamespaces"
    body = {"location": "westeurope", "properties": {"adoptionPolicy": "Never", **properties}}
    r = arm("PUT", f"{path}/{name}", json=body)
    assert r.status_code == 400, r.text
    assert target.split(".")[-1] in r.text
    assert arm("GET", path).json()["value"] == []


def test_managed_namespaces_need_an_api_version_that_has_them(arm, cluster):
    path = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/" \
           "managedNamespaces"
    r = arm("GET", path, api="2025-02-02-preview")
    assert r.status_code == 400 and r.json()["error"]["code"] == "NoRegisteredProviderFound"
    assert arm("GET", path, api="2025-09-01").status_code == 200


def test_the_generic_resource_list_shows_clusters_and_namespaces_filtered_and_expanded(aks, resources, rg, cluster):
    aks.managed_namespaces.begin_create_or_update(rg, cluster, "team-a", namespace()).result()
    resources.resource_groups.create_or_update("rg2", {"location": "westeurope"})
    aks.managed_clusters.begin_create_or_update("rg2", "c2", cluster_body()).result()

    everything = {r.id.lower(): r for r in resources.resources.list(expand="createdTime,changedTime,provisioningState")}
    assert len(everything) == 3
    ns = next(r for r in everything.values() if r.type == TYPE)
    assert ns.name == "c1/team-a" and ns.provisioning_state == "Succeeded" and ns.created_time and ns.changed_time

    only = list(resources.resources.list(filter=f"resourceType eq '{TYPE}' and resourceGroup eq 'RG1'"))
    assert [r.name for r in only] == ["c1/team-a"] and only[0].created_time is None  # not expanded
    assert sorted(r.name for r in resources.resources.list_by_resource_group("rg2")) == ["c2"]
    clusters = list(resources.resources.list(filter="resourceType eq 'Microsoft.ContainerService/managedClusters'"))
    assert sorted(r.name for r in clusters) == ["c1", "c2"]


def test_the_generic_resource_list_pages_with_top_and_its_links(resources, aks, rg):
    for name in ("c1", "c2", "c3"):
        aks.managed_clusters.begin_create_or_update(rg, name, cluster_body()).result()
    pages = list(resources.resources.list(top=2).by_page())
    assert [sorted(r.name for r in page) for page in pages] == [["c1", "c2"], ["c3"]]


@pytest.mark.parametrize("query", ["$filter=substringof('c', name)", "$filter=name ne 'c1'", "$expand=properties",
                                   "$top=0", "$top=many"])
def test_a_generic_list_query_the_emulator_cannot_evaluate_is_refused_not_ignored(arm, rg, query):
    r = arm("GET", f"/subscriptions/{SUB}/resources?{query}", api="2024-11-01")
    assert r.status_code == 400 and r.json()["error"]["code"].startswith("Invalid"), r.text


def test_a_clusters_namespaces_go_with_it(aks, rg, cluster, resources):
    aks.managed_namespaces.begin_create_or_update(rg, cluster, "team-a", namespace()).result()
    aks.managed_clusters.begin_delete(rg, cluster).result()
    assert list(resources.resources.list()) == []
    with pytest.raises(HttpResponseError):
        aks.managed_namespaces.get(rg, cluster, "team-a")
