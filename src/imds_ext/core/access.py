"""Getting at a cluster's Kubernetes API: its kubeconfig from ARM (`listClusterUserCredential`, or the local admin
account's with `admin`), or the user's own kubeconfig file and context, which must point at the named cluster's own
API server (its `fqdn`, `privateFQDN` or `azurePortalFQDN`, or the server ARM's own kubeconfig names) before any
credential is sent (docs/kubernetes-access.md)."""
from __future__ import annotations

import os
from typing import List, Optional, Tuple
from urllib.parse import urlsplit

import yaml

from imds_ext.core import files
from imds_ext.core.clients import ArmClients
from imds_ext.core.errors import ConfigurationError, ResourceNotFound, service_message
from imds_ext.core.kube import KubeClient
from imds_ext.core.settings import kubeconfig_paths


def _arm_kubeconfig(clients: ArmClients, resource_group: str, name: str, admin: bool) -> dict:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    operations = clients.container_service.managed_clusters
    try:
        results = (operations.list_cluster_admin_credentials if admin else
                   operations.list_cluster_user_credentials)(resource_group, name)
    except ResourceNotFoundError as ex:
        raise ResourceNotFound(service_message(ex)) from ex
    except HttpResponseError as ex:
        raise ConfigurationError(f"Cannot get the cluster's credentials: {service_message(ex)}") from ex
    kubeconfigs = getattr(results, "kubeconfigs", None) or []
    value = getattr(kubeconfigs[0], "value", None) if kubeconfigs else None
    if not value:
        raise ConfigurationError(f"The service answered cluster '{name}''s credentials request with no kubeconfig; "
                                 "try again, or use --kubeconfig.")
    try:
        return yaml.safe_load(value.decode() if isinstance(value, (bytes, bytearray)) else value)
    except (UnicodeDecodeError, yaml.YAMLError) as ex:
        raise ConfigurationError(f"The kubeconfig the service gave for cluster '{name}' cannot be read: {ex}.") from ex


def _addresses(cluster: Optional[dict]) -> set:
    props = (cluster or {}).get("properties") or {}
    return {str(props[k]).lower() for k in ("fqdn", "privateFQDN", "azurePortalFQDN") if props.get(k)}


def _same_server(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return (a.hostname or "").lower() == (b.hostname or "").lower() and (a.port or 443) == (b.port or 443) \
        and a.path.rstrip("/") == b.path.rstrip("/")


def check_own_server(clients: ArmClients, resource_group: str, name: str, server: str,
                     cluster: Optional[dict]) -> None:
    """Refuse a kubeconfig whose server is not the named cluster's own: the probes would prove another cluster, and
    a Microsoft Entra token for the AKS server application (an audience every Entra AKS cluster shares) would go
    to a server that is not the cluster's."""
    host = (urlsplit(server).hostname or "").lower()
    if host in _addresses(cluster):
        return
    try:
        own = _arm_kubeconfig(clients, resource_group, name, admin=False)
        own_servers = [c["cluster"]["server"] for c in own.get("clusters") or []]
    except (ConfigurationError, ResourceNotFound, KeyError, TypeError):
        own_servers = []
    if any(_same_server(server, s) for s in own_servers):
        return
    known = ", ".join(sorted(_addresses(cluster))) or "none known"
    raise ConfigurationError(
        f"The kubeconfig's server {server} is not the API server of cluster '{name}' (its addresses: {known}). "
        f"Nothing was sent to it. Use the cluster's own kubeconfig ('az aks get-credentials -g {resource_group} "
        f"-n {name}'), or --context to pick its context.")


MAX_KUBECONFIG_BYTES = 16 * 2 ** 20


def read_kubeconfig(path: str) -> dict:
    """A kubeconfig file, refused before reading when it is not a regular file (a FIFO would hang, /dev/zero never
    ends) or larger than any kubeconfig is."""
    data = files.read_regular(path, MAX_KUBECONFIG_BYTES, "kubeconfig", "; no kubeconfig is.")
    try:
        return yaml.safe_load(data.decode("utf-8-sig")) or {}
    except UnicodeDecodeError:
        raise ConfigurationError(f"The kubeconfig '{path}' is not UTF-8 text.") from None
    except yaml.YAMLError as ex:
        raise ConfigurationError(f"The kubeconfig '{path}' is not valid YAML: {ex}.") from ex


def merged_kubeconfig(paths: List[str], context: str) -> Tuple[dict, str]:
    """The user's kubeconfig files merged as kubectl merges them (the first file that names a context, cluster or
    user wins for it; a file that does not exist is skipped), and the file whose context `context` is, for the
    messages: (merged config, source)."""
    merged: dict = {"clusters": [], "contexts": [], "users": []}
    seen: dict = {section: set() for section in merged}
    source = None
    read = []
    for path in paths:
        if not os.path.lexists(path):
            continue
        config = read_kubeconfig(path)
        if not isinstance(config, dict):
            raise ConfigurationError(f"The kubeconfig '{path}' is not a kubeconfig (a mapping with clusters, "
                                     "contexts and users).")
        read.append(path)
        for section in merged:
            entries = config.get(section) or []
            for entry in entries if isinstance(entries, list) else []:
                entry_name = entry.get("name") if isinstance(entry, dict) else None
                if isinstance(entry_name, str) and entry_name not in seen[section]:
                    seen[section].add(entry_name)
                    merged[section].append(entry)
                    if section == "contexts" and entry_name == context:
                        source = path
    where = " and ".join(f"'{p}'" for p in paths)
    if not read:
        raise ConfigurationError(f"--context '{context}': no kubeconfig file to pick it from ({where} "
                                 f"{'do' if len(paths) > 1 else 'does'} not exist; set KUBECONFIG, or give "
                                 "--kubeconfig).")
    if source is None:
        known = ", ".join(sorted(seen["contexts"])) or "none"
        raise ConfigurationError(f"--context '{context}' is not a context of the kubeconfig ({where}); its "
                                 f"contexts: {known}.")
    return merged, source


def kube_client(clients: ArmClients, resource_group: str, name: str, admin: bool = False,
                kubeconfig: Optional[str] = None, context: Optional[str] = None,
                cluster: Optional[dict] = None) -> KubeClient:
    """The named cluster's API client. With `kubeconfig`, or `context` alone (a context of the user's kubeconfig
    files, $KUBECONFIG or ~/.kube/config, as kubectl picks it), its server is checked against the cluster
    (`cluster`: the ARM resource, wire format) before anything is sent."""
    if kubeconfig or (context and not admin):
        if kubeconfig:
            config, source = read_kubeconfig(kubeconfig), kubeconfig
        else:
            config, source = merged_kubeconfig(kubeconfig_paths(), context)
        client = KubeClient.from_kubeconfig(config, context, clients.credential, source=source)
        try:
            check_own_server(clients, resource_group, name, client.server, cluster)
        except BaseException:
            client.close()
            raise
        return client
    return KubeClient.from_kubeconfig(_arm_kubeconfig(clients, resource_group, name, admin), context,
                                      clients.credential,
                                      source="the cluster's admin credentials" if admin else
                                      "the cluster's user credentials (listClusterUserCredential)")
