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
import os
import tempfile
from typing import Any, Optional
from urllib.parse import quote

from azure.core import PipelineClient
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError
from azure.core.pipeline.policies import (BearerTokenCredentialPolicy, HeadersPolicy, RetryPolicy,
                                          SansIOHTTPPolicy)
from azure.core.rest import HttpRequest

from imds_ext.core.errors import ConfigurationError, ImdsExtError

# The Microsoft Entra application of the AKS API server: the audience of the tokens kubelogin gets.
AKS_SERVER_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"


class ClusterUnreachable(ImdsExtError):
    """The API server could not be reached (a private cluster from outside its network, a firewall)."""


class _StaticToken(SansIOHTTPPolicy):
    """A local account's token from the kubeconfig, as a bearer token."""

    def __init__(self, token: str):
        self._header = f"Bearer {token}"

    def on_request(self, request):
        request.http_request.headers["Authorization"] = self._header


class KubeClient:
    def __init__(self, server: str, ca_data: Optional[str], token: Optional[str] = None, credential: Any = None):
        if not server.startswith("https://"):
            raise ConfigurationError(f"The cluster's API server '{server}' is not an https URL; imds-ext only talks "
                                     "to Kubernetes over TLS.")
        self.server = server.rstrip("/")
        self._ca_file = None
        trust: Any = True  # connection_verify: the system CAs, or the kubeconfig's
        if ca_data:
            fd, self._ca_file = tempfile.mkstemp(prefix="imds-ext-kube-ca-", suffix=".pem")
            with os.fdopen(fd, "wb") as f:
                f.write(base64.b64decode(ca_data))
            trust = self._ca_file
        auth = _StaticToken(token) if token else BearerTokenCredentialPolicy(credential, AKS_SERVER_SCOPE)
        self._client = PipelineClient(self.server, policies=[HeadersPolicy(), RetryPolicy(), auth],
                                      connection_verify=trust)

    @classmethod
    def from_kubeconfig(cls, config: dict, context: Optional[str] = None, credential: Any = None) -> "KubeClient":
        """The client of a kubeconfig's context: its server and CA; its user's token, or (kubelogin exec plugin)
        a Microsoft Entra token for the AKS server application from `credential`."""
        def named(section, name):
            found = next((item for item in config.get(section) or [] if item.get("name") == name), None)
            if found is None:
                raise ConfigurationError(f"The kubeconfig has no {section[:-1]} named '{name}'.")
            return found
        current = context or config.get("current-context")
        ctx = named("contexts", current)["context"]
        cluster = named("clusters", ctx["cluster"])["cluster"]
        if cluster.get("insecure-skip-tls-verify"):
            raise ConfigurationError("The kubeconfig turns TLS verification off for this cluster; imds-ext does not.")
        user = named("users", ctx["user"])["user"]
        token = user.get("token")
        if not token and "exec" not in user:
            raise ConfigurationError(f"The kubeconfig's user '{ctx['user']}' has neither a token nor the kubelogin "
                                     "exec plugin; imds-ext cannot authenticate as it.")
        return cls(cluster["server"], cluster.get("certificate-authority-data"), token, credential)

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
        except ServiceRequestError as ex:
            raise ClusterUnreachable(
                f"The cluster's API server at {self.server} cannot be reached ({ex.message}). A private cluster is "
                "reachable only from its network: run the command from there (docs/kubernetes-access.md).") from ex
        if response.status_code == 404:
            raise ResourceNotFoundError(response=response)
        if response.status_code >= 400:
            message = response.text()[:300]
            raise HttpResponseError(response=response, message=f"Kubernetes API {method} {path}: "
                                                                f"{response.status_code} {message}")
        return response

    def get(self, path: str) -> dict:
        return self._send("GET", path).json()

    def items(self, path: str) -> list:
        return self.get(path).get("items") or []

    def create(self, path: str, body: dict) -> dict:
        return self._send("POST", path, body).json()

    def delete(self, path: str) -> None:
        try:
            self._send("DELETE", path)
        except ResourceNotFoundError:
            pass

    def log(self, namespace: str, pod: str) -> str:
        return self._send("GET", f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(pod)}/log").text()
