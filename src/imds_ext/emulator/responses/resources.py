"""Microsoft.Resources: subscriptions, tenants (az login) and resource groups."""
from __future__ import annotations

from imds_ext.emulator.errors import EmulatorError
from imds_ext.emulator.responses import json_body, json_response, listing


def list_subscriptions(ctx):
    subscriptions = ctx.backend.resources.list_subscriptions()
    return json_response({**listing(subscriptions), "count": {"type": "Total", "value": len(subscriptions)}})


def get_subscription(ctx, sub):
    return json_response(ctx.backend.resources.subscription(sub))


def list_tenants(ctx):
    return json_response(listing(ctx.backend.resources.tenants()))


def list_resource_groups(ctx, sub):
    return json_response(listing(ctx.backend.resources.list_groups(sub)))


def put_resource_group(ctx, sub, rg):
    status, body = ctx.backend.resources.put_group(sub, rg, json_body(ctx))
    return json_response(body, status)


def get_resource_group(ctx, sub, rg):
    return json_response(ctx.backend.resources.get_group(sub, rg))


def head_resource_group(ctx, sub, rg):
    try:
        ctx.backend.resources.get_group(sub, rg)
    except EmulatorError as e:
        return json_response(None, e.status)
    return json_response(None, 204)


def delete_resource_group(ctx, sub, rg):
    ctx.backend.resources.delete_group(sub, rg)
    return json_response(None, 200)
