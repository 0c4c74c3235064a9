"""A cluster's kubeconfig as `az aks get-credentials` writes it: from the emulator's listClusterUserCredential, over
the real Azure SDK and the emulator's Microsoft Entra endpoint."""
import base64
import json

from azure.identity import ClientSecretCredential
from azure.mgmt.containerservice import ContainerServiceClient

from imds_ext.emulator import WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_TENANT_ID
from tests.support.constants import PREVIEW_API, SUB


def arm_kubeconfig(emulator, resource_group: str, name: str, admin: bool = False) -> dict:
    credential = ClientSecretCredential(WELL_KNOWN_TENANT_ID, WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET,
                                        authority=emulator.authority_host, connection_verify=emulator.ca_bundle_path,
                                        disable_instance_discovery=True)
    client = ContainerServiceClient(credential, SUB, api_version=PREVIEW_API, base_url=emulator.arm_endpoint,
                                    credential_scopes=[emulator.arm_endpoint + "/.default"],
                                    connection_verify=emulator.ca_bundle_path)
    operations = client.managed_clusters
    results = (operations.list_cluster_admin_credentials if admin else
               operations.list_cluster_user_credentials)(resource_group, name)
    value = results.kubeconfigs[0].value
    try:
        return json.loads(value)
    except ValueError:
        return json.loads(base64.b64decode(value))
