"""A cluster's Kubernetes API, through azure-core's pipeline (the HTTP stack, retries and TLS handling every other
call of the tool uses).

Why not a Kubernetes client library (docs/kubernetes-access.md): the official `kubernetes` package would put a
second copy of requests and urllib3 into az's extension folder, in front of az's own (what
docs/azure-cli-extension.md rules out), and tens of megabytes of generated models for the handful of calls made
here; lightkube and kr8s bring httpx and its stack. The calls are few and of the stable core API (nodes,
namespaces, pods, their log, workloads): a thin typed wrapper over a pipeline the tool already trusts is less to
ship and to audit.
"""
from __future__ import annotations

import base64
import binascii
import os
import tempfile
from typing import Any, Iterator, Optional
from urllib.parse import quote, urlencode

from azure.core import PipelineClient
from azure.core.exceptions import (ResourceNotFoundError, ServiceRequestError,
                                   ServiceResponseError)
from azure.core.pipeline.policies import (BearerTokenCredentialPolicy, HeadersPolicy, RetryPolicy,
                                          SansIOHTTPPolicy)
from azure.core.rest import HttpRequest

from imds_ext.core.errors import ConfigurationError, ImdsExtError

# The Microsoft Entra application of the AKS API server: the audience of the tokens kubelogin gets.
AKS_SERVER_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"
PAGE_SIZE = 500  # kubectl's chunk size
CONNECT_TIMEOUT, READ_TIMEOUT = 5, 30  # seconds


class ClusterUnreachable(ImdsExtError):
    """The API server could not be reached (a private cluster from outside its network, a firewall)."""


class KubernetesRefused(ImdsExtError):
    """The API server refused a call (`status_code`): its own sentence (its `Status` message) with who asked whom,
    rather than azure-core's reading of the `Status` body as an OData error ("(401) Unauthorized")."""

    def __init__(self, message: str, status_code: int):
        super().__init__(message)
        self.status_code = status_code


class _StaticToken(SansIOHTTPPolicy):
    """A local account's token from the kubeconfig, as a bearer token."""

    def __init__(self, token: str):
        self._header = f"Bearer {token}"

    def on_request(self, request):
        request.http_request.headers["Authorization"] = self._header


def kubelogin_scope(user_name: str, exec_config: dict) -> str:
    """The Entra scope a kubeconfig user's exec plugin asks for: only kubelogin's `get-token` with its
    `--server-id` (AKS's server application when absent); any other plugin (`aws eks get-token`,
    `gke-gcloud-auth-plugin`) belongs to another cloud, and no Entra token of ours goes to its server."""
    command = os.path.basename(str(exec_config.get("command") or ""))
    args = [str(a) for a in exec_config.get("args") or []]
    if command not in ("kubelogin", "kubelogin.exe") or (args and args[0] != "get-token"):
        shown = " ".join([command, *args[:2]]).strip()
        raise ConfigurationError(
            f"The kubeconfig's user '{user_name}' gets its token from the exec plugin '{shown}', which is not "
            "kubelogin for an AKS cluster; imds-ext sends no Microsoft Entra token to its server. Use the AKS "
            "cluster's own kubeconfig ('az aks get-credentials'), or --admin.")
    server_id = AKS_SERVER_SCOPE.split("/", 1)[0]
    for index, arg in enumerate(args):
        if arg.startswith("--server-id="):
            server_id = arg.split("=", 1)[1]
        elif arg == "--server-id" and index + 1 < len(args):
            server_id = args[index + 1]
    return f"{server_id}/.default"


class KubeClient:
    def __init__(self, server: str, ca_data: Optional[str], token: Optional[str] = None, credential: Any = None,
                 scope: str = AKS_SERVER_SCOPE, source: str = "the kubeconfig"):
        if not server.startswith("https://"):
            raise ConfigurationError(f"The cluster's API server '{server}' is not an https URL; imds-ext only talks "
                                     "to Kubernetes over TLS.")
        self.server = server.rstrip("/")
        self.source = source  # named in a 401 or 403: which credential the server refused
        self.identity = "its static token" if token else f"a Microsoft Entra token for {scope.split('/')[0]}"
        self._ca_file = None
        trust: Any = True  # connection_verify: the system CAs, or the kubeconfig's
        if ca_data:
            try:
                pem = base64.b64decode(str(ca_data), validate=True)
            except (binascii.Error, ValueError):
                raise ConfigurationError(f"The certificate-authority-data of {source} is not base64; get the "
                                         "cluster's kubeconfig again ('az aks get-credentials').") from None
            fd, self._ca_file = tempfile.mkstemp(prefix="imds-ext-kube-ca-", suffix=".pem")
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            trust = self._ca_file
        auth = _StaticToken(token) if token else BearerTokenCredentialPolicy(credential, scope)
        # A server that does not answer (a private cluster from outside its network) fails within seconds: one
        # retry, a short connect timeout, instead of azure-core's defaults (minutes per try, three retries).
        retry = RetryPolicy(retry_total=1, retry_connect=1, retry_read=1, retry_backoff_factor=0.5)
        self._client = PipelineClient(self.server, policies=[HeadersPolicy(), retry, auth],
                                      connection_verify=trust, connection_timeout=CONNECT_TIMEOUT,
                                      read_timeout=READ_TIMEOUT)

    @classmethod
    def from_kubeconfig(cls, config: dict, context: Optional[str] = None, credential: Any = None,
                        source: str = "the kubeconfig") -> "KubeClient":
        """The client of a kubeconfig's context: its server and CA; its user's token, or (kubelogin exec plugin)
        a Microsoft Entra token for kubelogin's server id from `credential`."""
        if not isinstance(config, dict):
            raise ConfigurationError(f"{source} is not a kubeconfig (a mapping with clusters, contexts and users).")

        def named(section, name):
            entries = config.get(section) or []
            found = next((item for item in entries if isinstance(item, dict) and item.get("name") == name), None) \
                if isinstance(entries, list) else None
            if found is None:
                raise ConfigurationError(f"The kubeconfig ({source}) has no {section[:-1]} named '{name}'.")
            inner = found.get(section[:-1])
            if not isinstance(inner, dict):
                raise ConfigurationError(f"The kubeconfig's {section[:-1]} '{name}' ({source}) has no "
                                         f"'{section[:-1]}' mapping.")
            return inner
        current = context or config.get("current-context")
        ctx = named("contexts", current)
        for key in ("cluster", "user"):
            if not ctx.get(key):
                raise ConfigurationError(f"The kubeconfig's context '{current}' ({source}) names no {key}.")
        cluster = named("clusters", ctx["cluster"])
        if cluster.get("insecure-skip-tls-verify"):
            raise ConfigurationError("The kubeconfig turns TLS verification off for this cluster; imds-ext does not.")
        if not isinstance(cluster.get("server"), str):
            raise ConfigurationError(f"The kubeconfig's cluster '{ctx['cluster']}' ({source}) names no server.")
        user = named("users", ctx["user"])
        token = user.get("token")
        if not token and not isinstance(user.get("exec"), dict):
            raise ConfigurationError(f"The kubeconfig's user '{ctx['user']}' has neither a token nor the kubelogin "
                                     "exec plugin; imds-ext cannot authenticate as it.")
        scope = AKS_SERVER_SCOPE if token else kubelogin_scope(ctx["user"], user["exec"])
        return cls(cluster["server"], cluster.get("certificate-authority-data"), token, credential, scope,
                   source=f"{source}, context '{current}'")

    def close(self):
        self._client.close()
        if self._ca_file and os.path.exists(self._ca_file):
            os.unlink(self._ca_file)
            self._ca_file = None

    # ---- calls -----------------------------------------------------------------------------------
    def _send(self, method: str, path: str, body: Optional[dict] = None):
        request = HttpRequest(method, self.server + path, json=body)
        try:
            response = self._client.send_request(request)
        except (ServiceRequestError, ServiceResponseError) as ex:
            raise ClusterUnreachable(
                f"The cluster's API server at {self.server} is unreachable ({ex.message}). A private cluster? It is "
                "reachable only from its network: run the command from there (docs/kubernetes-access.md).") from ex
        if response.status_code == 404:
            raise ResourceNotFoundError(response=response)
        if response.status_code >= 400:
            raise KubernetesRefused(self._refusal(method, path, response), response.status_code)
        return response

    def _refusal(self, method: str, path: str, response) -> str:
        """The API server's own sentence (its `Status` message), with who asked whom when it is about access."""
        try:
            message = response.json().get("message") or ""
        except ValueError:
            message = response.text()[:300]
        code = response.status_code
        if code == 401:
            return (f"The API server at {self.server} refused the credential from {self.source} ({self.identity}): "
                    "401 Unauthorized. Get fresh credentials ('az aks get-credentials') or log in again.")
        if code == 403:
            return (f"The API server at {self.server} refused {method} {path.split('?')[0]} to the credential from "
                    f"{self.source}: {message}. The permissions each command needs are in "
                    "docs/kubernetes-access.md ('Permissions').")
        return f"Kubernetes API {method} {path.split('?')[0]}: {code} {message}"

    def get(self, path: str) -> dict:
        return self._send("GET", path).json()

    def items(self, path: str, label_selector: Optional[str] = None, field_selector: Optional[str] = None,
              page_size: int = PAGE_SIZE) -> Iterator[dict]:
        """Every object of a list, read a page at a time (`limit`/`continue`, as kubectl and client-go's pager do),
        so that memory is bounded by a page, not by the cluster. A continue token that expired (410 Gone, after
        about five minutes) is a sentence: the list cannot be finished consistently."""
        token = None
        while True:
            query = {"limit": str(page_size)}
            if token:
                query["continue"] = token
            if label_selector:
                query["labelSelector"] = label_selector
            if field_selector:
                query["fieldSelector"] = field_selector
            try:
                page = self.get(f"{path}?{urlencode(query)}")
            except KubernetesRefused as ex:
                if token and ex.status_code == 410:
                    raise ImdsExtError(f"The list of {path} changed too much while it was read (its continue token "
                                       "expired); run the command again.") from ex
                raise
            yield from page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return

    def create(self, path: str, body: dict) -> dict:
        return self._send("POST", path, body).json()

    def replace(self, path: str, body: dict) -> dict:
        """PUT: the whole object, at the `metadata.resourceVersion` it was read at (a 409 if it changed since)."""
        return self._send("PUT", path, body).json()

    def delete(self, path: str) -> None:
        try:
            self._send("DELETE", path)
        except ResourceNotFoundError:
            pass

    def log(self, namespace: str, pod: str) -> str:
        return self._send("GET", f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(pod)}/log").text()
