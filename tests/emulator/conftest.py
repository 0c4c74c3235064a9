"""Fixtures of the emulator tier: the real Azure SDK clients, authenticated by ClientSecretCredential."""
import pytest
import requests
from azure.identity import ClientSecretCredential
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.resource.features import FeatureClient
from azure.mgmt.resource.resources import ResourceManagementClient

from imds_ext.emulator import WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_TENANT_ID
from tests.support.constants import GA_API, PREVIEW_API, SUB


@pytest.fixture
def admin(admin):
    """Retry-After 0, so that the SDK clients of this tier poll at their polling_interval=0."""
    admin.config(retry_after=0)
    yield admin
    admin.reset()


@pytest.fixture(scope="session")
def credential(emulator):
    # The emulator is not an authority login.microsoftonline.com knows: MSAL's instance discovery would ask
    # it (over the internet) and be refused, so it is turned off, as `az config set core.instance_discovery=false`.
    return ClientSecretCredential(WELL_KNOWN_TENANT_ID, WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET,
                                  authority=emulator.authority_host, connection_verify=emulator.ca_bundle_path,
                                  disable_instance_discovery=True)


def client_kwargs(emulator):
    return dict(base_url=emulator.arm_endpoint, credential_scopes=[emulator.arm_endpoint + "/.default"],
                connection_verify=emulator.ca_bundle_path, polling_interval=0)


@pytest.fixture(scope="session")
def aks(emulator, credential):
    return ContainerServiceClient(credential, SUB, api_version=PREVIEW_API, **client_kwargs(emulator))


@pytest.fixture(scope="session")
def aks_ga(emulator, credential):
    return ContainerServiceClient(credential, SUB, api_version=GA_API, **client_kwargs(emulator))


@pytest.fixture(scope="session")
def features(emulator, credential):
    return FeatureClient(credential, SUB, **client_kwargs(emulator))


@pytest.fixture(scope="session")
def resources(emulator, credential):
    return ResourceManagementClient(credential, SUB, **client_kwargs(emulator))


@pytest.fixture(scope="session")
def token(emulator):
    resp = requests.post(f"{emulator.authority_host}/{WELL_KNOWN_TENANT_ID}/oauth2/v2.0/token",
                         data={"grant_type": "client_credentials", "client_id": WELL_KNOWN_CLIENT_ID,
                               "client_secret": WELL_KNOWN_CLIENT_SECRET,
                               "scope": emulator.arm_endpoint + "/.default"},
                         verify=emulator.ca_bundle_path, timeout=30)
    resp.raise_for_status()
    return resp.json()["access_token"]


@pytest.fixture
def arm(emulator, token):
    """Raw ARM calls with a valid token: arm("GET", "/subscriptions/...", api="2021-07-01", json=..., headers=...)."""

    def call(method, path, api=PREVIEW_API, headers=None, **kwargs):
        url = emulator.arm_endpoint + path
        if api:
            url += ("&" if "?" in url else "?") + "api-version=" + api
        h = {"Authorization": f"Bearer {token}", **(headers or {})}
        return requests.request(method, url, headers=h, verify=emulator.ca_bundle_path, timeout=30, **kwargs)

    return call


@pytest.fixture
def rg(resources, admin):
    resources.resource_groups.create_or_update("rg1", {"location": "westeurope"})
    return "rg1"
