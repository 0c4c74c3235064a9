"""Entra token flow, ARM authentication failures, subscriptions, resource groups, features, providers, metadata."""
import time

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError
from azure.identity import ClientSecretCredential, DefaultAzureCredential
from azure.mgmt.resource.resources import ResourceManagementClient
from cryptography.hazmat.primitives.asymmetric import rsa

from imds_ext.emulator import WELL_KNOWN_CLIENT_ID, WELL_KNOWN_TENANT_ID
from tests.support.constants import FEATURE, SUB

SUBS = f"/subscriptions/{SUB}"


def claims(emulator, **over):
    now = int(time.time())
    return {"aud": emulator.arm_endpoint, "iss": f"https://sts.windows.net/{WELL_KNOWN_TENANT_ID}/", "iat": now,
            "nbf": now, "exp": now + 600, **over}


@pytest.mark.parametrize("case, code", [
    ("missing", "AuthenticationFailed"), ("basic", "AuthenticationFailed"), ("garbage", "InvalidAuthenticationToken"),
    ("expired", "ExpiredAuthenticationToken"), ("bad-signature", "InvalidAuthenticationToken"),
    ("wrong-audience", "InvalidAuthenticationTokenAudience"),
    # Entra access tokens carry one audience, a string: a list is refused even when it names ARM.
    ("audience-list-naming-arm", "InvalidAuthenticationTokenAudience"),
])
def test_bad_tokens_are_401_with_a_challenge(emulator, admin, case, code):
    good = emulator.app.tokens.sign
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = {
        "missing": None, "basic": "Basic dXNlcjpwYXNz", "garbage": "Bearer not.a.jwt",
        "expired": "Bearer " + good(claims(emulator, exp=int(time.time()) - 10)),
        "bad-signature": "Bearer " + jwt.encode(claims(emulator), other_key, algorithm="RS256"),
        "wrong-audience": "Bearer " + good(claims(emulator, aud="https://graph.microsoft.com/")),
        "audience-list-naming-arm": "Bearer " + good(claims(emulator, aud=["https://graph.microsoft.com/",
                                                                           "https://management.azure.com/"])),
    }[case]
    r = requests.get(f"{emulator.arm_endpoint}/subscriptions?api-version=2022-12-01", verify=emulator.ca_bundle_path,
                     headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.json()["error"]["code"] == code
    assert r.headers["WWW-Authenticate"].startswith('Bearer authorization_uri="') and 'error="invalid_token"' in \
        r.headers["WWW-Authenticate"]


@pytest.mark.parametrize("aud", ["https://management.azure.com/", "https://management.core.windows.net/", "SELF/"])
def test_accepted_audiences(emulator, admin, aud):
    token = emulator.app.tokens.sign(claims(emulator, aud=aud.replace("SELF", emulator.arm_endpoint)))
    r = requests.get(f"{emulator.arm_endpoint}/subscriptions?api-version=2022-12-01", verify=emulator.ca_bundle_path,
                     headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["value"][0]["displayName"] == "Emulated Subscription"


def test_wrong_secret_is_an_entra_error(emulator, admin):
    cred = ClientSecretCredential(WELL_KNOWN_TENANT_ID, WELL_KNOWN_CLIENT_ID, "wrong",
                                  authority=emulator.authority_host, connection_verify=emulator.ca_bundle_path,
                                  disable_instance_discovery=True)
    with pytest.raises(ClientAuthenticationError) as e:
        cred.get_token(emulator.arm_endpoint + "/.default")
    assert "AADSTS7000215" in str(e.value)
    r = requests.post(f"{emulator.authority_host}/{WELL_KNOWN_TENANT_ID}/oauth2/v2.0/token",
                      verify=emulator.ca_bundle_path,
                      data={"grant_type": "client_credentials", "client_id": WELL_KNOWN_CLIENT_ID,
                            "client_secret": "wrong", "scope": "https://management.azure.com/.default"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_environment_credential_and_v1_token_endpoint(emulator, admin, monkeypatch):
    for k, v in emulator.env().items():
        monkeypatch.setenv(k, v)
    cred = DefaultAzureCredential(disable_instance_discovery=True, exclude_managed_identity_credential=True,
                                  exclude_cli_credential=True)
    client = ResourceManagementClient(cred, SUB, base_url=emulator.arm_endpoint,
                                      credential_scopes=["https://management.azure.com/.default"])
    assert list(client.resource_groups.list()) == []
    r = requests.post(f"{emulator.authority_host}/{WELL_KNOWN_TENANT_ID}/oauth2/token", verify=emulator.ca_bundle_path,
                      data={"grant_type": "client_credentials", "client_id": WELL_KNOWN_CLIENT_ID,
                            "client_secret": emulator.env()["AZURE_CLIENT_SECRET"],
                            "resource": "https://management.core.windows.net/"})
    assert r.status_code == 200 and r.json()["resource"] == "https://management.core.windows.net/"


def test_log_never_holds_tokens(emulator, admin, arm):
    arm("GET", "/subscriptions", api="2022-12-01")
    text = str(admin.requests())
    assert "Bearer" not in text and "Authorization" not in text and "/subscriptions" in text


def test_subscriptions_tenants_metadata(arm, emulator, admin):
    assert arm("GET", SUBS, api="2016-06-01").json()["state"] == "Enabled"
    assert arm("GET", "/subscriptions/11111111-1111-1111-1111-111111111111", api="2022-12-01").status_code == 404
    assert arm("GET", "/tenants", api="2022-12-01").json()["value"][0]["tenantId"] == WELL_KNOWN_TENANT_ID
    meta = requests.get(f"{emulator.arm_endpoint}/metadata/endpoints?api-version=2022-09-01",
                        verify=emulator.ca_bundle_path).json()
    assert meta["authentication"]["loginEndpoint"] == emulator.authority_host
    assert "https://management.core.windows.net/" in meta["authentication"]["audiences"]
    assert meta["resourceManager"].rstrip("/") == emulator.arm_endpoint


def test_resource_groups(resources, admin):
    rg = resources.resource_groups.create_or_update("Rg-A", {"location": "eastus", "tags": {"a": "b"}})
    assert rg.id.endswith("/resourceGroups/Rg-A") and rg.tags == {"a": "b"}
    assert resources.resource_groups.check_existence("rg-a") is True
    assert [g.name for g in resources.resource_groups.list()] == ["Rg-A"]
    resources.resource_groups.begin_delete("rg-a").result()
    assert resources.resource_groups.check_existence("rg-a") is False
    with pytest.raises(ResourceNotFoundError):
        resources.resource_groups.get("rg-a")


def test_features_transition_over_the_delay(features, admin):
    ns, name = FEATURE.split("/")
    assert features.features.get(ns, name).properties.state == "NotRegistered"
    admin.config(registration_delay=600)
    assert features.features.register(ns, name).properties.state == "Registering"
    assert features.features.get(ns, name).properties.state == "Registering"
    admin.reset()
    assert features.features.register(ns, name).properties.state == "Registering"  # delay 0: answer, then done
    assert features.features.get(ns, name).properties.state == "Registered"
    assert features.features.unregister(ns, name).properties.state == "Unregistering"
    assert features.features.get(ns, name).properties.state == "Unregistered"
    assert FEATURE in [f.name for f in features.features.list(ns)]
    assert len(list(features.features.list_all())) >= 5
    with pytest.raises(ResourceNotFoundError):
        features.features.get(ns, "NoSuchFeature")


def test_providers(resources, admin):
    assert resources.providers.get("Microsoft.ContainerService").registration_state == "Registered"
    assert resources.providers.get("microsoft.compute").registration_state == "NotRegistered"
    assert resources.providers.register("Microsoft.Compute").registration_state == "Registered"  # delay 0
    admin.config(registration_delay=600)
    assert resources.providers.unregister("Microsoft.Compute").registration_state == "Unregistering"
    assert {p.namespace for p in resources.providers.list()} >= {"Microsoft.Features", "Microsoft.Resources"}
    with pytest.raises(ResourceNotFoundError):
        resources.providers.get("Microsoft.Nope")


def test_the_providers_list_answers_only_the_properties_select_names(resources, arm, admin):
    """The Azure CLI's `az aks create --enable-azure-monitor-metrics` lists the registrations with
    `$select=namespace,registrationstate`: the service answers those properties alone, whatever their case."""
    admin.seed(providers={"microsoft.insights": "Registered"})
    r = arm("GET", f"{SUBS}/providers", api="2021-04-01", params={"$select": "namespace,registrationstate"})
    assert r.status_code == 200
    assert {tuple(p) for p in r.json()["value"]} == {("namespace", "registrationState")}
    assert {"namespace": "microsoft.insights", "registrationState": "Registered"} in r.json()["value"]
    assert r.json()["value"][-1]["namespace"] == "microsoft.insights"  # as seeded: the seed's order and spelling
    listed = list(resources.providers.list(params={"$select": "namespace"}))
    assert {p.namespace for p in listed} >= {"Microsoft.ContainerService", "microsoft.insights"}
    assert {(p.id, p.registration_state) for p in listed} == {(None, None)}
    assert all(p.id for p in resources.providers.list())  # no $select: every property


def test_an_unregistered_namespace_is_409_and_the_sdk_registers_it(aks, rg, arm, admin):
    """ARM's front door refuses a namespace the subscription is not registered for; azure-mgmt-core's
    pipeline then registers it and retries (it waits 10 s between checks: the one slow test here)."""
    admin.seed({"providers": {"Microsoft.ContainerService": "NotRegistered"}})
    r = arm("GET", f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "MissingSubscriptionRegistration"
    assert "namespace 'Microsoft.ContainerService'" in r.json()["error"]["message"]
    assert list(aks.managed_clusters.list_by_resource_group(rg)) == []
    registrations = [e["path"].lower() for e in admin.requests() if e["path"].lower().endswith("/register")]
    assert registrations == [f"/subscriptions/{SUB}/providers/microsoft.containerservice/register"]
