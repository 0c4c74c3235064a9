"""Microsoft.KubernetesConfiguration: extensions under a managed cluster."""
from __future__ import annotations

from imds_ext.emulator.responses import json_body, json_response, listing


def list_extensions(ctx, sub, rg, cluster):
    return json_response(listing(ctx.backend.extensions.list_extensions(sub, rg, cluster)))


def get_extension(ctx, sub, rg, cluster, name):
    return json_response(ctx.backend.extensions.get_extension(sub, rg, cluster, name))


def put_extension(ctx, sub, rg, cluster, name):
    status, body = ctx.backend.extensions.put_extension(sub, rg, cluster, name, json_body(ctx))
    return json_response(body, status)


def delete_extension(ctx, sub, rg, cluster, name):
    return json_response(None, 200 if ctx.backend.extensions.delete_extension(sub, rg, cluster, name) else 204)
