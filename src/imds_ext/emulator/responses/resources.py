"""Microsoft.Resources: subscriptions, tenants (az login), resource groups and the generic resource list."""
from __future__ import annotations

from urllib.parse import urlencode

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


def list_resources(ctx, sub, rg=None):
    """A page of the generic resource list; the next page's link repeats the query with the skip token last, as
    ARM's does (test_aks_managed_namespace #25)."""
    args = ctx.request.args
    top = args.get("$top")
    if top is not None and not top.strip().isdigit():
        raise EmulatorError(400, "InvalidTopInQueryString", f"The $top '{top}' is not a whole number.")
    page, following = ctx.backend.resources.list_resources(sub, rg, args.get("$filter"), args.get("$expand"),
                                                           None if top is None else int(top),
                                                           args.get("$skiptoken") or args.get("$skipToken"))
    body = listing(page)
    if following is not None:
        query = [(k, v) for k, v in args.items(multi=True) if k.lower() != "$skiptoken"] + [("$skiptoken", following)]
        body["nextLink"] = f"{ctx.base}{ctx.request.path}?{urlencode(query)}"
    return json_response(body)
