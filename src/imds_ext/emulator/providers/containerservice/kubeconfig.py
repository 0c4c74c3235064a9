"""The kubeconfig `listClusterUserCredential` / `listClusterAdminCredential` answer with (base64, as the service
does): the cluster's API server, the CA to trust, and the user: a static token for local accounts, or, for a
cluster with Microsoft Entra integration, the kubelogin exec plugin for the AKS server application."""
from __future__ import annotations

import base64
import json

from imds_ext.emulator.constants import WELL_KNOWN_TENANT_ID

# The Microsoft Entra applications of the AKS API server and of its public client: the audience and client every
# AKS-managed Entra cluster's kubeconfig names (test_aks_managed_namespace #37; docs/aks-kubernetes.md).
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
AKS_CLIENT_APP_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
INSTALL_HINT = ("\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\n"
                "To learn more, please go to https://aka.ms/aks/kubelogin\n")


def kubeconfig(cluster: dict, server: str, ca_pem: str, user: str, token: str, entra: bool) -> dict:
    name = cluster["name"]
    if entra:
        credential = {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
            "args": ["get-token", "--environment", "AzurePublicCloud", "--server-id", AKS_SERVER_APP_ID,
                     "--client-id", AKS_CLIENT_APP_ID, "--tenant-id", WELL_KNOWN_TENANT_ID, "--login", "devicecode"],
            "env": None, "installHint": INSTALL_HINT,
            "provideClusterInfo": False}}
    else:
        credential = {"token": token}
    user_name = f"{user}_{cluster['id'].split('/')[4]}_{name}"
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": name,
        "clusters": [{"name": name, "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode()}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user_name}}],
        "users": [{"name": user_name, "user": credential}],
    }


def credential_results(name: str, config: dict) -> dict:
    """The body of a list*Credential answer."""
    value = base64.b64encode(json.dumps(config, indent=2).encode()).decode()  # JSON is YAML: clients read both
    return {"kubeconfigs": [{"name": name, "value": value}]}
