"""Microsoft.Features (preview features) and resource-provider registration."""
from __future__ import annotations

from imds_ext.emulator.responses import json_response, listing


def _selected(body: dict, select: str) -> dict:
    """The properties `$select` names (comma-separated, case-insensitive: the Azure CLI asks for
    `namespace,registrationstate`), as the service answers the providers list; no `$select`, every property."""
    names = {name.strip().lower() for name in select.split(",") if name.strip()}
    return {key: value for key, value in body.items() if key.lower() in names} if names else body


def list_providers(ctx, sub):
    select = ctx.request.args.get("$select", "")
    return json_response(listing([_selected(p, select) for p in ctx.backend.features.list_providers(sub)]))


def get_provider(ctx, sub, ns):
    return json_response(ctx.backend.features.get_provider(sub, ns))


def register_provider(ctx, sub, ns, action):
    return json_response(ctx.backend.features.register_provider(sub, ns, register=action.lower() == "register"))


def list_all_features(ctx, sub):
    return json_response(listing(ctx.backend.features.list_features(sub)))


def list_provider_features(ctx, sub, ns):
    return json_response(listing(ctx.backend.features.list_features(sub, ns)))


def get_feature(ctx, sub, ns, name):
    return json_response(ctx.backend.features.get_feature(sub, ns, name))


def register_feature(ctx, sub, ns, name, action):
    return json_response(ctx.backend.features.register_feature(sub, ns, name, register=action.lower() == "register"))
