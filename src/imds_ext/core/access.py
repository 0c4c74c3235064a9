"""Getting at a cluster's Kubernetes API: its kubeconfig from ARM (`listClusterUserCredential`, or the local admin
account's with `admin`), or the user's own kubeconfig file and context."""
from __future__ import annotations

from typing import Optional

import yaml

from imds_ext.core.clients import ArmClients
from imds_ext.core.errors import ConfigurationError, ResourceNotFound, service_message
from imds_ext.core.kube import KubeClient


def kube_client(clients: ArmClients, resource_group: str, name: str, admin: bool = False,
                kubeconfig: Optional[str] = None, context: Optional[str] = None) -> KubeClient:
    if kubeconfig:
        try:
            with open(kubeconfig, encoding="utf-8") as f:
                config = yaml.safe_load(f)
        except OSError as ex:
            raise ConfigurationError(f"Cannot read the kubeconfig '{kubeconfig}': {ex.strerror or ex}.") from ex
        except yaml.YAMLError as ex:
            raise ConfigurationError(f"The kubeconfig '{kubeconfig}' is not valid YAML: {ex}.") from ex
        return KubeClient.from_kubeconfig(config or {}, context, clients.credential)
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    operations = clients.container_service.managed_clusters
    try:
        results = (operations.list_cluster_admin_credentials if admin else
                   operations.list_cluster_user_credentials)(resource_group, name)
    except ResourceNotFoundError as ex:
        raise ResourceNotFound(service_message(ex)) from ex
    except HttpResponseError as ex:
        raise ConfigurationError(f"Cannot get the cluster's credentials: {service_message(ex)}") from ex
    value = results.kubeconfigs[0].value
    config = yaml.safe_load(value.decode() if isinstance(value, (bytes, bytearray)) else value)
    return KubeClient.from_kubeconfig(config, context, clients.credential)
