"""Microsoft.ContainerService: managed clusters, agent pools, node-image upgrades, Deployment Safeguards, managed
namespaces, operations, versions."""
from __future__ import annotations

from imds_ext.emulator.constants import CUSTOM_FEATURES_HEADER
from imds_ext.emulator.operations import IN_PROGRESS, SUCCEEDED
from imds_ext.emulator.responses import json_body, json_response, listing, lro_response, precondition_headers, \
    retry_after


def list_clusters(ctx, sub):
    return json_response(listing(ctx.backend.container_service.list_clusters(sub, ctx.api_version)))


def list_clusters_in_group(ctx, sub, rg):
    return json_response(listing(ctx.backend.container_service.list_clusters(sub, ctx.api_version, rg)))


def get_cluster(ctx, sub, rg, cluster):
    return json_response(ctx.backend.container_service.get_cluster(sub, rg, cluster, ctx.api_version))


def put_cluster(ctx, sub, rg, cluster):
    status, body, op = ctx.backend.container_service.put_cluster(
        sub, rg, cluster, json_body(ctx), ctx.api_version, failure=ctx.failure,
        custom_features=ctx.request.headers.get(CUSTOM_FEATURES_HEADER, ""), **precondition_headers(ctx))
    if status == 201:  # the service's answer to a create carries no eTag yet (the recordings); a GET then does
        body.pop("eTag", None)
        for pool in body.get("properties", {}).get("agentPoolProfiles") or []:
            pool.pop("eTag", None)
    return lro_response(ctx, status, body, op, with_location=False)


def list_user_credentials(ctx, sub, rg, cluster):
    return json_response(ctx.backend.container_service.credentials(sub, rg, cluster, admin=False, base=ctx.base,
                                                                   ca_pem=ctx.app.ca_pem()))


def list_admin_credentials(ctx, sub, rg, cluster):
    return json_response(ctx.backend.container_service.credentials(sub, rg, cluster, admin=True, base=ctx.base,
                                                                   ca_pem=ctx.app.ca_pem()))


def patch_cluster_tags(ctx, sub, rg, cluster):
    body, op = ctx.backend.container_service.update_tags(sub, rg, cluster, json_body(ctx), ctx.api_version,
                                                         if_match=ctx.request.headers.get("If-Match"),
                                                         failure=ctx.failure)
    return lro_response(ctx, 200, body, op, with_location=False)


def delete_cluster(ctx, sub, rg, cluster):
    op = ctx.backend.container_service.delete_cluster(sub, rg, cluster, if_match=ctx.request.headers.get("If-Match"),
                                                      failure=ctx.failure)
    return json_response(None, 204) if op is None else lro_response(ctx, 202, None, op, with_location=True)


def list_pools(ctx, sub, rg, cluster):
    """A page of the pools; the link to the next page names its skip token twice, as the service's does."""
    token = ctx.request.args.get("$skipToken") or ctx.request.args.get("skipToken")
    pools, following = ctx.backend.container_service.list_pools(sub, rg, cluster, token)
    body = listing(pools)
    if following is not None:
        body["nextLink"] = (f"{ctx.base}{ctx.request.path}?%24skipToken={following}&api-version={ctx.api_version}"
                            f"&skipToken={following}")
    return json_response(body)


def list_namespaces(ctx, sub, rg, cluster):
    """A page of the managed namespaces; the next page's link puts the skip token last (#23 of the recording)."""
    token = ctx.request.args.get("$skiptoken") or ctx.request.args.get("$skipToken")
    found, following = ctx.backend.container_service.namespaces.list(sub, rg, cluster, token)
    body = listing(found)
    if following is not None:
        body["nextLink"] = f"{ctx.base}{ctx.request.path}?api-version={ctx.api_version}&%24skiptoken={following}"
    return json_response(body)


def get_namespace(ctx, sub, rg, cluster, namespace):
    return json_response(ctx.backend.container_service.namespaces.get(sub, rg, cluster, namespace))


def put_namespace(ctx, sub, rg, cluster, namespace):
    status, body, op = ctx.backend.container_service.namespaces.put(
        sub, rg, cluster, namespace, json_body(ctx), ctx.api_version, failure=ctx.failure,
        **precondition_headers(ctx))
    return lro_response(ctx, status, body, op, with_location=True)


def delete_namespace(ctx, sub, rg, cluster, namespace):
    op = ctx.backend.container_service.namespaces.delete(sub, rg, cluster, namespace, ctx.api_version,
                                                         if_match=ctx.request.headers.get("If-Match"),
                                                         failure=ctx.failure)
    return json_response(None, 204) if op is None else lro_response(ctx, 202, None, op, with_location=True)


def list_namespace_credential(ctx, sub, rg, cluster, namespace):
    return json_response(ctx.backend.container_service.namespaces.credentials(sub, rg, cluster, namespace,
                                                                              base=ctx.base, ca_pem=ctx.app.ca_pem()))


def get_pool(ctx, sub, rg, cluster, pool):
    return json_response(ctx.backend.container_service.get_pool(sub, rg, cluster, pool))


def put_pool(ctx, sub, rg, cluster, pool):
    status, body, op = ctx.backend.container_service.put_pool(
        sub, rg, cluster, pool, json_body(ctx), ctx.api_version, failure=ctx.failure, **precondition_headers(ctx))
    return lro_response(ctx, status, body, op, with_location=False)


def delete_pool(ctx, sub, rg, cluster, pool):
    op = ctx.backend.container_service.delete_pool(sub, rg, cluster, pool,
                                                   if_match=ctx.request.headers.get("If-Match"), failure=ctx.failure)
    return json_response(None, 204) if op is None else lro_response(ctx, 202, None, op, with_location=True)


def upgrade_node_image(ctx, sub, rg, cluster, pool):
    body, op = ctx.backend.container_service.upgrade_node_image(sub, rg, cluster, pool, ctx.api_version,
                                                                failure=ctx.failure)
    return lro_response(ctx, 202, body, op, with_location=True)


def abort_cluster(ctx, sub, rg, cluster):
    body, op = ctx.backend.container_service.abort(sub, rg, cluster, None, ctx.api_version, failure=ctx.failure)
    return lro_response(ctx, 202, body, op, with_location=True)


def abort_pool(ctx, sub, rg, cluster, pool):
    body, op = ctx.backend.container_service.abort(sub, rg, cluster, pool, ctx.api_version, failure=ctx.failure)
    return lro_response(ctx, 202, body, op, with_location=True)


def get_safeguards(ctx, sub, rg, cluster):
    return json_response(ctx.backend.container_service.safeguards.get(sub, rg, cluster))


def list_safeguards(ctx, sub, rg, cluster):
    return json_response(listing(ctx.backend.container_service.safeguards.list(sub, rg, cluster)))


def put_safeguards(ctx, sub, rg, cluster):
    status, body, op = ctx.backend.container_service.safeguards.put(
        sub, rg, cluster, json_body(ctx), ctx.api_version, failure=ctx.failure, **precondition_headers(ctx))
    return lro_response(ctx, status, body, op, with_location=False)


def delete_safeguards(ctx, sub, rg, cluster):
    """202 with a Location only, no Azure-AsyncOperation (both recordings' deletes)."""
    op = ctx.backend.container_service.safeguards.delete(sub, rg, cluster, ctx.api_version,
                                                         if_match=ctx.request.headers.get("If-Match"),
                                                         failure=ctx.failure)
    return json_response(None, 204) if op is None else _location_only(ctx, 202, None, op)


def _location_only(ctx, status, body, op):
    response = lro_response(ctx, status, body, op, with_location=True, status_url=False)
    response.headers.update(retry_after(ctx))
    return response


def operation_status(ctx, sub, location, op_id):
    op = ctx.backend.container_service.operation(sub, op_id)
    headers = retry_after(ctx) if op.status == IN_PROGRESS else None
    return json_response(op.status_body(), 200, headers)


def operation_result(ctx, sub, location, op_id):
    op = ctx.backend.container_service.operation(sub, op_id)
    if op.status == IN_PROGRESS:
        progress = ctx.backend.container_service.operation_progress(op)
        if progress is not None:  # a Deployment Safeguards operation: its progress, and the Location only
            return _location_only(ctx, 202, progress, op)
        return lro_response(ctx, 202, None, op, with_location=True)
    if op.status != SUCCEEDED:
        return json_response(op.status_body(), 200)
    status, body = ctx.backend.container_service.operation_result(op)
    if status == 204:
        # A finished operation without a result still names its result URL (test_aks_abort #7, the Deployment
        # Safeguards deletes).
        return lro_response(ctx, 204, None, op, with_location=True, status_url=False)
    return json_response(body, status)


def cluster_upgrade_profile(ctx, sub, rg, cluster):
    return json_response(ctx.backend.container_service.cluster_upgrade_profile(sub, rg, cluster))


def pool_upgrade_profile(ctx, sub, rg, cluster, pool):
    return json_response(ctx.backend.container_service.pool_upgrade_profile(sub, rg, cluster, pool))


def cluster_operation(ctx, sub, rg, cluster, op_id):
    return json_response(ctx.backend.container_service.cluster_operation(sub, rg, cluster, op_id))


def kubernetes_versions(ctx, sub, location):
    ctx.backend.resources.check_subscription(sub)
    return json_response(ctx.backend.container_service.kubernetes_versions())
