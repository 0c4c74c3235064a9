"""The admin API (/_emulator, no auth, loopback clients only): reset, seed, the request log, faults, delays, and
what only the emulator knows (what the nodes enforce). Documented in docs/emulator.md."""
from __future__ import annotations

from imds_ext.emulator.errors import EmulatorError
from imds_ext.emulator.responses import json_body, json_response


def reset(ctx):
    ctx.backend.reset()
    ctx.app.faults.clear()
    ctx.app.log.clear()
    return json_response({"reset": True})


def list_requests(ctx):
    return json_response(ctx.app.log.entries())


def clear_requests(ctx):
    ctx.app.log.clear()
    return json_response(None, 204)


def seed(ctx):
    return json_response({"seeded": ctx.backend.seed(json_body(ctx))})


def nodes(ctx, sub, rg, cluster):
    return json_response(ctx.backend.container_service.node_report(sub, rg, cluster))


def get_config(ctx):
    return json_response(ctx.backend.configure())


def put_config(ctx):
    body = json_body(ctx)
    known = {"lroDelaySeconds", "registrationDelaySeconds", "retryAfterSeconds", "kubernetesVersions",
             "defaultKubernetesVersion", "omitRetryAfter"}
    if not isinstance(body, dict) or set(body) - known:
        raise EmulatorError(400, "InvalidConfiguration", f"The configuration must be a JSON object with some of "
                            f"{sorted(known)}.")
    return json_response(ctx.backend.configure(lro_delay=body.get("lroDelaySeconds"),
                                               registration_delay=body.get("registrationDelaySeconds"),
                                               retry_after=body.get("retryAfterSeconds", ...),
                                               kubernetes_versions=body.get("kubernetesVersions", ...),
                                               default_kubernetes_version=body.get("defaultKubernetesVersion", ...),
                                               omit_retry_after=body.get("omitRetryAfter")))


def list_faults(ctx):
    return json_response(ctx.app.faults.list())


def add_fault(ctx):
    body = json_body(ctx)
    specs = body if isinstance(body, list) else [body]
    return json_response([ctx.app.faults.add(s) for s in specs], 201)


def clear_faults(ctx):
    ctx.app.faults.clear()
    return json_response(None, 204)


def get_state(ctx):
    return json_response(ctx.backend.snapshot())
