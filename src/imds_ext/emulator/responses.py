"""The thin HTTP layer: each handler maps one werkzeug request onto one back-end call and renders the result.

Handlers take (ctx, **captured path parameters) and return a werkzeug Response. The URL table is urls.py.
"""
from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from werkzeug.wrappers import Request, Response

from imds_ext.emulator.constants import (
    CUSTOM_FEATURES_HEADER, PUBLIC_ARM_AUDIENCES, WELL_KNOWN_SUBSCRIPTION_ID, parse_version,
)
from imds_ext.emulator.errors import EmulatorError

OPERATION_API_VERSION = "2025-03-01"  # what AKS puts in Azure-AsyncOperation / Location (the recording)


@dataclass
class Ctx:
    request: Request
    app: Any  # the EmulatorApp: backend, tokens, log, faults, base_url
    api_version: Optional[str] = None
    failure: Optional[dict] = None  # an injected operation failure (fault `failOperation`)

    @property
    def backend(self):
        return self.app.backend

    @property
    def base(self) -> str:
        return self.app.base_url()


# ---- rendering helpers (one of each) -------------------------------------------------------------
def json_response(body, status: int = 200, headers: Optional[dict] = None) -> Response:
    headers = dict(headers or {})
    headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
    if body is None:
        return Response(status=status, headers=headers)
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def render_error(err: EmulatorError) -> Response:
    return json_response(err.body(), err.status, err.headers)


def listing(items: list) -> dict:
    return {"value": items}


def json_body(ctx: Ctx, required: bool = True):
    raw = ctx.request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise EmulatorError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                                "deserialized: the body is empty.")
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise EmulatorError(400, "InvalidRequestContent", f"The request content was invalid and could not be "
                            f"deserialized: {e}.") from None


def retry_after(ctx: Ctx) -> str:
    """Whole seconds (the AKS SDK parses the header as int). By default at least 1: azure-core reads 0 as
    "absent" and then waits the client's polling_interval (30 s by default). Configurable (retryAfterSeconds)."""
    fixed = ctx.backend.retry_after
    return str(int(fixed) if fixed is not None else max(1, math.ceil(ctx.backend.lro_delay)))


def lro_response(ctx: Ctx, status: int, body, op: dict, with_location: bool) -> Response:
    """201/200/202 of an AKS long-running operation: Azure-AsyncOperation (+ Location) and Retry-After."""
    base = (f"{ctx.base}/subscriptions/{WELL_KNOWN_SUBSCRIPTION_ID}/providers/Microsoft.ContainerService/"
            f"locations/{op['location']}")
    headers = {"Azure-AsyncOperation": f"{base}/operations/{op['id']}?api-version={OPERATION_API_VERSION}",
               "Retry-After": retry_after(ctx)}
    if with_location:
        headers["Location"] = f"{base}/operationresults/{op['id']}?api-version={OPERATION_API_VERSION}"
    return json_response(body, status, headers)


def _precondition_headers(ctx: Ctx) -> dict:
    h = ctx.request.headers
    return {"if_match": h.get("If-Match"), "if_none_match": h.get("If-None-Match")}


# ---- identity ------------------------------------------------------------------------------------
def openid_configuration_v2(ctx, tenant):
    return json_response(ctx.app.tokens.openid_configuration(tenant, v2=True))


def openid_configuration_v1(ctx, tenant):
    return json_response(ctx.app.tokens.openid_configuration(tenant, v2=False))


def token_v2(ctx, tenant):
    return json_response(ctx.app.tokens.token(ctx.request, tenant, v2=True), headers={"Cache-Control": "no-store"})


def token_v1(ctx, tenant):
    return json_response(ctx.app.tokens.token(ctx.request, tenant, v2=False), headers={"Cache-Control": "no-store"})


def instance_discovery(ctx):
    return json_response(ctx.app.tokens.instance_discovery(ctx.request.args.get("authorization_endpoint")))


def jwks(ctx, tenant):
    return json_response(ctx.app.tokens.jwks())


# ---- cloud metadata, subscriptions, tenants ------------------------------------------------------
def metadata_endpoints(ctx):
    base, parsed = ctx.base, parse_version(ctx.api_version or "")
    audiences = [PUBLIC_ARM_AUDIENCES[1], PUBLIC_ARM_AUDIENCES[0], base + "/"]
    if parsed and parsed[0].year < 2019:  # the legacy single-cloud shape az < 2.40 read
        return json_response({"galleryEndpoint": base + "/", "graphEndpoint": "https://graph.windows.net/",
                              "portalEndpoint": base + "/", "authentication": {"loginEndpoint": base,
                                                                               "audiences": audiences}})
    cloud = {"name": "Emulator", "portal": base, "resourceManager": base + "/", "gallery": base + "/",
             "graph": "https://graph.windows.net/", "graphAudience": "https://graph.windows.net/",
             "microsoftGraphResourceId": "https://graph.microsoft.com/", "media": base + "/",
             "batch": "https://batch.core.windows.net/", "sqlManagement": base + "/",
             "activeDirectoryDataLake": "https://datalake.azure.net/",
             "vmImageAliasDoc": base + "/metadata/vm-image-aliases",
             "authentication": {"loginEndpoint": base, "audiences": audiences, "tenant": "common",
                                "identityProvider": "AAD"},
             "suffixes": {"acrLoginServer": "azurecr.io", "azureDataLakeAnalyticsCatalogAndJob":
                          "azuredatalakeanalytics.net", "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
                          "keyVaultDns": "vault.azure.net", "sqlServerHostname": "database.windows.net",
                          "storage": "core.windows.net"}}
    if parsed and parsed[0].isoformat() < "2022-09-01":  # 2019-05-01 ... : a list of clouds
        return json_response([cloud])
    return json_response(cloud)


def list_subscriptions(ctx):
    return json_response({**listing([ctx.backend.subscription()]), "count": {"type": "Total", "value": 1}})


def get_subscription(ctx, sub):
    return json_response(ctx.backend.subscription(sub))


def list_tenants(ctx):
    return json_response(listing(ctx.backend.tenants()))


# ---- resource groups -----------------------------------------------------------------------------
def list_resource_groups(ctx, sub):
    return json_response(listing(ctx.backend.list_resource_groups(sub)))


def put_resource_group(ctx, sub, rg):
    status, body = ctx.backend.put_resource_group(sub, rg, json_body(ctx))
    return json_response(body, status)


def get_resource_group(ctx, sub, rg):
    return json_response(ctx.backend.get_resource_group(sub, rg))


def head_resource_group(ctx, sub, rg):
    try:
        ctx.backend.get_resource_group(sub, rg)
    except EmulatorError as e:
        return json_response(None, e.status)
    return json_response(None, 204)


def delete_resource_group(ctx, sub, rg):
    ctx.backend.delete_resource_group(sub, rg)
    return json_response(None, 200)


# ---- providers and features ----------------------------------------------------------------------
def list_providers(ctx, sub):
    return json_response(listing(ctx.backend.list_providers(sub)))


def get_provider(ctx, sub, ns):
    return json_response(ctx.backend.get_provider(sub, ns))


def register_provider(ctx, sub, ns, action):
    return json_response(ctx.backend.register_provider(sub, ns, register=action.lower() == "register"))


def list_all_features(ctx, sub):
    return json_response(listing(ctx.backend.list_features(sub)))


def list_provider_features(ctx, sub, ns):
    return json_response(listing(ctx.backend.list_features(sub, ns)))


def get_feature(ctx, sub, ns, name):
    return json_response(ctx.backend.get_feature(sub, ns, name))


def register_feature(ctx, sub, ns, name, action):
    return json_response(ctx.backend.register_feature(sub, ns, name, register=action.lower() == "register"))


# ---- managed clusters and agent pools ------------------------------------------------------------
def list_clusters(ctx, sub):
    return json_response(listing(ctx.backend.list_clusters(sub, ctx.api_version)))


def list_clusters_in_group(ctx, sub, rg):
    return json_response(listing(ctx.backend.list_clusters(sub, ctx.api_version, rg)))


def get_cluster(ctx, sub, rg, cluster):
    return json_response(ctx.backend.get_cluster(sub, rg, cluster, ctx.api_version))


def put_cluster(ctx, sub, rg, cluster):
    status, body, op = ctx.backend.put_cluster(
        sub, rg, cluster, json_body(ctx), ctx.api_version, failure=ctx.failure,
        custom_features=ctx.request.headers.get(CUSTOM_FEATURES_HEADER, ""), **_precondition_headers(ctx))
    return lro_response(ctx, status, body, op, with_location=False)


def delete_cluster(ctx, sub, rg, cluster):
    op = ctx.backend.delete_cluster(sub, rg, cluster, if_match=ctx.request.headers.get("If-Match"),
                                    failure=ctx.failure)
    return json_response(None, 204) if op is None else lro_response(ctx, 202, None, op, with_location=True)


def list_pools(ctx, sub, rg, cluster):
    return json_response(listing(ctx.backend.list_pools(sub, rg, cluster)))


def get_pool(ctx, sub, rg, cluster, pool):
    return json_response(ctx.backend.get_pool(sub, rg, cluster, pool))


def put_pool(ctx, sub, rg, cluster, pool):
    status, body, op = ctx.backend.put_pool(sub, rg, cluster, pool, json_body(ctx), ctx.api_version,
                                            failure=ctx.failure, **_precondition_headers(ctx))
    return lro_response(ctx, status, body, op, with_location=False)


def delete_pool(ctx, sub, rg, cluster, pool):
    op = ctx.backend.delete_pool(sub, rg, cluster, pool, if_match=ctx.request.headers.get("If-Match"),
                                 failure=ctx.failure)
    return json_response(None, 204) if op is None else lro_response(ctx, 202, None, op, with_location=True)


def upgrade_node_image(ctx, sub, rg, cluster, pool):
    body, op = ctx.backend.upgrade_node_image(sub, rg, cluster, pool, ctx.api_version, failure=ctx.failure)
    return lro_response(ctx, 202, body, op, with_location=True)


def operation_status(ctx, sub, location, op_id):
    op = ctx.backend.get_operation(sub, op_id)
    headers = {"Retry-After": retry_after(ctx)} if op["status"] == "InProgress" else None
    return json_response(ctx.backend.operation_status(op), 200, headers)


def operation_result(ctx, sub, location, op_id):
    op = ctx.backend.get_operation(sub, op_id)
    if op["status"] == "InProgress":
        return lro_response(ctx, 202, None, op, with_location=True)
    if op["status"] != "Succeeded":
        return json_response(ctx.backend.operation_status(op), 200)
    status, body = ctx.backend.operation_result(op)
    return json_response(body, status)


def kubernetes_versions(ctx, sub, location):
    ctx.backend.subscription(sub)
    return json_response(ctx.backend.kubernetes_versions())


# ---- cluster extensions --------------------------------------------------------------------------
def list_extensions(ctx, sub, rg, cluster):
    return json_response(listing(ctx.backend.list_extensions(sub, rg, cluster)))


def get_extension(ctx, sub, rg, cluster, name):
    return json_response(ctx.backend.get_extension(sub, rg, cluster, name))


def put_extension(ctx, sub, rg, cluster, name):
    status, body = ctx.backend.put_extension(sub, rg, cluster, name, json_body(ctx))
    return json_response(body, status)


def delete_extension(ctx, sub, rg, cluster, name):
    return json_response(None, 200 if ctx.backend.delete_extension(sub, rg, cluster, name) else 204)


# ---- admin API (/_emulator, no auth, loopback only) ----------------------------------------------
def admin_reset(ctx):
    ctx.backend.reset()
    ctx.app.faults.clear()
    ctx.app.log.clear()
    return json_response({"reset": True})


def admin_requests(ctx):
    return json_response(ctx.app.log.entries())


def admin_clear_requests(ctx):
    ctx.app.log.clear()
    return json_response(None, 204)


def admin_seed(ctx):
    return json_response({"seeded": ctx.backend.seed(json_body(ctx))})


def admin_nodes(ctx, sub, rg, cluster):
    return json_response(ctx.backend.nodes(sub, rg, cluster))


def admin_get_config(ctx):
    return json_response(ctx.backend.configure())


def admin_put_config(ctx):
    body = json_body(ctx) or {}
    return json_response(ctx.backend.configure(lro_delay=body.get("lroDelaySeconds"),
                                               registration_delay=body.get("registrationDelaySeconds"),
                                               retry_after=body.get("retryAfterSeconds", ...)))


def admin_list_faults(ctx):
    return json_response(ctx.app.faults.list())


def admin_add_fault(ctx):
    body = json_body(ctx)
    specs = body if isinstance(body, list) else [body]
    return json_response([ctx.app.faults.add(s) for s in specs], 201)


def admin_clear_faults(ctx):
    ctx.app.faults.clear()
    return json_response(None, 204)


def admin_state(ctx):
    return json_response(ctx.backend.snapshot())
