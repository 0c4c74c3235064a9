"""Several subscriptions, all visible to the well-known principal, each with its own resource groups, clusters
(their extensions and Kubernetes objects) and registrations, through the real Azure SDKs."""
import base64
import json

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.resource.features import FeatureClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient

from imds_ext.emulator import WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_TENANT_ID, Emulator
from imds_ext.emulator.client import AdminClient
from imds_ext.emulator.errors import StateFileError
from tests.emulator.conftest import client_kwargs
from tests.support.clusters import cluster_body
from tests.support.constants import FEATURE, PREVIEW_API, SUB

SUB2 = "2b2b2b2b-0000-4000-8000-00000000000b"
SUB3 = "3c3c3c3c-0000-4000-8000-00000000000c"
UNDECLARED = "9d9d9d9d-0000-4000-8000-00000000000d"
# SUB2 declared in upper case: ids compare case-insensitively and render lower case.
SUBSCRIPTIONS = [{"subscriptionId": SUB2.upper(), "displayName": "Second"},
                 {"subscriptionId": SUB3, "features": {FEATURE: "Registered"},
                  "providers": {"Microsoft.Compute": "Registered"}}]
NS, NAME = FEATURE.split("/")


def mc_path(sub, rg="rg1", name="c1"):
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"


@pytest.fixture
def subs(admin):
    """The well-known subscription and two more, declared through the seed document."""
    assert admin.seed(subscriptions=SUBSCRIPTIONS)["seeded"]["subscriptions"] == 2
    return admin


@pytest.fixture(scope="module")
def clients(emulator, credential):
    """The SDK clients of each subscription: clients(sub).aks, .resources, .features."""
    made = {}

    class Clients:
        def __init__(self, sub):
            kwargs = client_kwargs(emulator)
            self.aks = ContainerServiceClient(credential, sub, api_version=PREVIEW_API, **kwargs)
            self.resources = ResourceManagementClient(credential, sub, **kwargs)
            self.features = FeatureClient(credential, sub, **kwargs)

    return lambda sub: made.setdefault(sub, Clients(sub))


@pytest.fixture(scope="module")
def subscriptions(emulator, credential):
    kwargs = client_kwargs(emulator)
    kwargs.pop("polling_interval")
    return SubscriptionClient(credential, **kwargs)


def test_seeded_subscriptions_are_listed_and_read(subs, subscriptions, arm):
    listed = {s.subscription_id: s for s in subscriptions.subscriptions.list()}
    assert set(listed) == {SUB, SUB2, SUB3}
    assert listed[SUB].display_name == "Emulated Subscription" and listed[SUB2].display_name == "Second"
    assert listed[SUB3].display_name and listed[SUB3].state == "Enabled"
    assert listed[SUB2].id == f"/subscriptions/{SUB2}" and listed[SUB2].tenant_id == WELL_KNOWN_TENANT_ID
    assert subscriptions.subscriptions.get(SUB2.upper()).subscription_id == SUB2
    assert arm("GET", "/subscriptions", api="2022-12-01").json()["count"] == {"type": "Total", "value": 3}


def test_an_unknown_subscription_is_404_subscription_not_found(subs, subscriptions, clients):
    with pytest.raises(ResourceNotFoundError) as e:
        subscriptions.subscriptions.get(UNDECLARED)
    assert e.value.error.code == "SubscriptionNotFound" and UNDECLARED in e.value.error.message
    with pytest.raises(ResourceNotFoundError) as e:
        list(clients(UNDECLARED).resources.resource_groups.list())
    assert e.value.error.code == "SubscriptionNotFound"


def test_same_group_and_cluster_names_in_two_subscriptions_are_independent(subs, clients):
    one, two = clients(SUB), clients(SUB2)
    one.resources.resource_groups.create_or_update("rg1", {"location": "westeurope"})
    with pytest.raises(ResourceNotFoundError) as e:
        two.resources.resource_groups.get("rg1")
    assert e.value.error.code == "ResourceGroupNotFound"
    group = two.resources.resource_groups.create_or_update("rg1", {"location": "eastus"})
    assert group.id == f"/subscriptions/{SUB2}/resourceGroups/rg1" and group.location == "eastus"

    mc = two.aks.managed_clusters.begin_create_or_update("rg1", "c1", cluster_body("eastus")).result()
    assert mc.id == mc_path(SUB2).replace("resourceGroups", "resourcegroups")
    assert mc.agent_pool_profiles[0].provisioning_state == "Succeeded"
    assert two.aks.agent_pools.get("rg1", "c1", "nodepool1").id.startswith(f"/subscriptions/{SUB2}/")
    kubelet = mc.as_dict()["properties"]["identityProfile"]["kubeletidentity"]["resourceId"]
    assert kubelet.startswith(f"/subscriptions/{SUB2}/")
    with pytest.raises(ResourceNotFoundError):
        one.aks.managed_clusters.get("rg1", "c1")
    assert list(one.aks.managed_clusters.list()) == []
    assert [c.id for c in two.aks.managed_clusters.list()] == [mc.id]

    first = one.aks.managed_clusters.begin_create_or_update("rg1", "c1", cluster_body("westeurope")).result()
    assert first.id.startswith(f"/subscriptions/{SUB}/") and first.fqdn != mc.fqdn
    two.resources.resource_groups.begin_delete("rg1").result()
    assert one.aks.managed_clusters.get("rg1", "c1").location == "westeurope"
    assert [g.name for g in one.resources.resource_groups.list()] == ["rg1"]
    assert list(two.resources.resource_groups.list()) == []
    with pytest.raises(ResourceNotFoundError) as e:
        two.aks.managed_clusters.get("rg1", "c1")
    assert e.value.error.code == "ResourceGroupNotFound"


def test_operations_are_under_their_subscription_and_the_sdk_polls_them(subs, clients, arm, emulator):
    two = clients(SUB2)
    two.resources.resource_groups.create_or_update("rg1", {"location": "westeurope"})
    subs.config(lro_delay=60)
    r = arm("PUT", mc_path(SUB2, name="slow"), json=cluster_body("westeurope"))
    op_url = r.headers["Azure-AsyncOperation"]
    assert r.status_code == 201 and op_url.startswith(
        f"{emulator.arm_endpoint}/subscriptions/{SUB2}/providers/Microsoft.ContainerService/locations/westeurope/")
    path = op_url.replace(emulator.arm_endpoint, "").split("?")[0]
    assert arm("GET", path, api="2025-03-01").json()["status"] == "InProgress"
    elsewhere = arm("GET", path.replace(SUB2, SUB), api="2025-03-01")  # another subscription's operation
    assert elsewhere.status_code == 404

    subs.config(lro_delay=0.3)  # the SDK polls the operations below at their URLs in SUB2
    poller = two.aks.managed_clusters.begin_create_or_update("rg1", "c2", cluster_body("westeurope"))
    assert poller.result().provisioning_state == "Succeeded"
    two.aks.agent_pools.begin_delete("rg1", "c2", "userpool").result()  # 202 with Location
    assert [p.name for p in two.aks.agent_pools.list("rg1", "c2")] == ["nodepool1"]
    deleting = arm("DELETE", mc_path(SUB2, name="c2"))
    assert deleting.status_code == 202 and deleting.headers["Location"].startswith(
        f"{emulator.arm_endpoint}/subscriptions/{SUB2}/providers/Microsoft.ContainerService/locations/westeurope/")


def test_registrations_are_per_subscription(subs, clients, arm):
    one, two, three = clients(SUB), clients(SUB2), clients(SUB3)
    assert two.features.features.register(NS, NAME).properties.state in ("Registering", "Registered")
    feature = two.features.features.get(NS, NAME)
    assert feature.properties.state == "Registered" and feature.id.startswith(f"/subscriptions/{SUB2}/")
    assert one.features.features.get(NS, NAME).properties.state == "NotRegistered"
    assert three.features.features.get(NS, NAME).properties.state == "Registered"  # seeded
    assert three.resources.providers.get("Microsoft.Compute").registration_state == "Registered"
    assert one.resources.providers.get("Microsoft.Compute").registration_state == "NotRegistered"
    assert two.resources.providers.get("Microsoft.Compute").id == f"/subscriptions/{SUB2}/providers/Microsoft.Compute"

    # The IMDS rule reads the registration of the cluster's own subscription.
    for c in (one, two):
        c.resources.resource_groups.create_or_update("rg1", {"location": "westus2"})
    assert arm("PUT", mc_path(SUB2), json=cluster_body(restricted=True)).status_code == 201
    refused = arm("PUT", mc_path(SUB), json=cluster_body(restricted=True))
    assert refused.status_code == 400 and refused.json()["code"] == "FeatureNotRegistered"

    # ARM's front door too: a namespace one subscription is not registered for.
    subs.seed(subscriptions=[{"subscriptionId": SUB3, "providers": {"Microsoft.ContainerService": "NotRegistered"}}])
    assert arm("GET", f"/subscriptions/{SUB3}/providers/Microsoft.ContainerService/managedClusters").status_code == 409
    assert arm("GET", f"/subscriptions/{SUB}/providers/Microsoft.ContainerService/managedClusters").status_code == 200


def test_seeded_resources_land_in_their_subscription(subs, arm, emulator):
    subs.seed(
        resourceGroups=[{"name": "rg1", "location": "westus2"}],
        clusters=[{"resourceGroup": "rg1", "name": "c1", "cluster": cluster_body(restricted=False)},
                  {"subscription": SUB2, "resourceGroup": "rg1", "name": "c1", "cluster": cluster_body(restricted=True),
                   "nodes": {"userpool": {"podLinkLocalAccess": "IMDS"}}}],
        extensions=[{"subscription": SUB2.upper(), "resourceGroup": "rg1", "cluster": "c1", "name": "flux",
                     "extensionType": "microsoft.flux"}],
        kubernetes=[{"subscription": SUB2, "resourceGroup": "rg1", "cluster": "c1",
                     "objects": [{"kind": "Namespace", "metadata": {"name": "only-in-two"}}]}])
    assert subs.nodes("rg1", "c1")["podLinkLocalAccess"] == "IMDS"
    assert subs.nodes("rg1", "c1", subscription=SUB2)["pools"]["userpool"]["podLinkLocalAccess"] == "IMDS"
    assert subs.nodes("rg1", "c1", subscription=SUB2)["podLinkLocalAccess"] == "None"
    extensions = "/providers/Microsoft.KubernetesConfiguration/extensions"
    assert [e["name"] for e in arm("GET", mc_path(SUB2) + extensions, api="2023-05-01").json()["value"]] == ["flux"]
    assert arm("GET", mc_path(SUB) + extensions, api="2023-05-01").json()["value"] == []

    def kube(sub):
        answer = arm("POST", f"{mc_path(sub)}/listClusterUserCredential").json()
        config = json.loads(base64.b64decode(answer["kubeconfigs"][0]["value"]))
        return config["clusters"][0]["cluster"]["server"], config["users"][0]["user"]["token"]

    (server1, token1), (server2, token2) = kube(SUB), kube(SUB2)
    assert server2 == f"{emulator.arm_endpoint}/kubernetes/{SUB2}/rg1/c1" and server1.endswith(f"/{SUB}/rg1/c1")

    def namespaces(server, token):
        r = requests.get(server + "/api/v1/namespaces", headers={"Authorization": f"Bearer {token}"},
                         verify=emulator.ca_bundle_path, timeout=30)
        return r.status_code, [n["metadata"]["name"] for n in r.json().get("items", [])]

    assert "only-in-two" in namespaces(server2, token2)[1]
    assert "only-in-two" not in namespaces(server1, token1)[1]
    assert namespaces(server1, token2)[0] == 401  # each cluster has its own tokens


def test_a_seed_naming_an_undeclared_subscription_is_400_and_loads_nothing(subs):
    with pytest.raises(requests.HTTPError) as e:
        subs.seed(resourceGroups=[{"name": "rg1", "location": "westus2"},
                                  {"subscription": UNDECLARED, "name": "rg2", "location": "westus2"}])
    error = e.value.response.json()["error"]
    assert e.value.response.status_code == 400 and error["code"] == "InvalidSeed" and UNDECLARED in error["message"]
    assert subs.state()["resourceGroups"] == {}


def test_reset_leaves_the_well_known_subscription_alone(subs, subscriptions):
    subs.reset()
    assert [s.subscription_id for s in subscriptions.subscriptions.list()] == [SUB]
    with pytest.raises(ResourceNotFoundError):
        subscriptions.subscriptions.get(SUB2)


def test_the_state_file_keeps_the_subscriptions(tmp_path):
    path = tmp_path / "state.json"
    with Emulator(state_file=str(path)) as emu:
        admin = AdminClient.for_emulator(emu)
        admin.seed(subscriptions=SUBSCRIPTIONS, resourceGroups=[{"subscription": SUB2, "name": "rg9",
                                                                 "location": "westus2"}],
                   clusters=[{"subscription": SUB2, "resourceGroup": "rg9", "name": "c9", "cluster": cluster_body()}])
    with Emulator(state_file=str(path)) as emu:
        credential = ClientSecretCredential(WELL_KNOWN_TENANT_ID, WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET,
                                            authority=emu.authority_host, connection_verify=emu.ca_bundle_path,
                                            disable_instance_discovery=True)
        kwargs = client_kwargs(emu)
        listed = SubscriptionClient(credential, **{k: v for k, v in kwargs.items() if k != "polling_interval"})
        assert {s.subscription_id: s.display_name for s in listed.subscriptions.list()}[SUB2] == "Second"
        aks = ContainerServiceClient(credential, SUB2, api_version=PREVIEW_API, **kwargs)
        assert aks.managed_clusters.get("rg9", "c9").id == mc_path(SUB2, "rg9", "c9").replace("resourceGroups",
                                                                                               "resourcegroups")
        features = FeatureClient(credential, SUB3, **kwargs)
        assert features.features.get(NS, NAME).properties.state == "Registered"
    state = json.loads(path.read_text())
    assert state["version"] == 3 and set(state["subscriptions"]) == {SUB, SUB2, SUB3}
    state["version"] = 2  # a state file of the emulator before several subscriptions
    path.write_text(json.dumps(state))
    with pytest.raises(StateFileError) as e:
        Emulator(state_file=str(path))
    assert "version 3" in str(e.value)


def test_a_malformed_subscription_id_is_refused(admin):
    with pytest.raises(requests.HTTPError) as e:
        admin.seed(subscriptions=[{"subscriptionId": "not-a-guid"}])
    assert e.value.response.json()["error"]["code"] == "InvalidSeed"
