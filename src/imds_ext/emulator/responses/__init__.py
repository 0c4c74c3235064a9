"""The thin HTTP layer: one module per provider (plus identity and admin), each handler mapping one werkzeug
request onto one back-end call. Here, what every handler uses: the request context and the ARM response shapes
(JSON, errors, lists, long-running operations), one of each. The URL table is emulator/urls.py."""
from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from werkzeug.wrappers import Request, Response

from imds_ext.emulator.errors import EmulatorError
from imds_ext.emulator.validation import MAX_BODY_BYTES, MAX_BODY_DEPTH

OPERATION_API_VERSION = "2025-03-01"  # what AKS puts in Azure-AsyncOperation / Location (the recording)


@dataclass
class Ctx:
    request: Request
    app: Any  # the EmulatorApp: backend, tokens, log, faults, base_url
    api_version: Optional[str] = None
    failure: Optional[dict] = None  # an injected operation failure (fault `failOperation`)
    drop_response: bool = False  # fault `dropResponse`: handle the request, then drop the connection

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
    length = ctx.request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise EmulatorError(413, "RequestContentTooLarge", f"The request content is {length} bytes; the limit is "
                            f"{MAX_BODY_BYTES} bytes.")
    raw = ctx.request.stream.read(MAX_BODY_BYTES + 1) if length is None else ctx.request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise EmulatorError(413, "RequestContentTooLarge", f"The request content is over the limit of "
                            f"{MAX_BODY_BYTES} bytes.")
    if not raw.strip():
        if required:
            raise EmulatorError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                                "deserialized: the body is empty.")
        return None
    too_deep = EmulatorError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                             f"deserialized: it is nested deeper than {MAX_BODY_DEPTH} levels.")
    try:
        body = json.loads(raw)
    except RecursionError:
        raise too_deep from None
    except ValueError as e:
        raise EmulatorError(400, "InvalidRequestContent", f"The request content was invalid and could not be "
                            f"deserialized: {e}.") from None
    if _nested_deeper_than(body, MAX_BODY_DEPTH):
        raise too_deep
    return body


def _nested_deeper_than(value, limit: int) -> bool:
    """Whether `value` (parsed JSON) nests objects and arrays deeper than `limit`; without recursion."""
    level = [value]
    for _ in range(limit):
        level = [child for v in level if isinstance(v, (dict, list))
                 for child in (v.values() if isinstance(v, dict) else v)]
        if not level:
            return False
    return any(isinstance(v, (dict, list)) for v in level)


def retry_after(ctx: Ctx) -> dict:
    """The Retry-After header of a long-running operation, as a dict to merge into the headers: whole seconds (the
    AKS SDK parses it as int), by default at least 1 (azure-core reads 0 as "absent" and then waits its
    polling_interval, 30 s by default), configurable (retryAfterSeconds). In the faithful mode (omitRetryAfter)
    none at all, as the service sends none: clients then poll at their own interval."""
    config = ctx.backend.config
    if config.omit_retry_after:
        return {}
    seconds = int(config.retry_after) if config.retry_after is not None else max(1, math.ceil(config.lro_delay))
    return {"Retry-After": str(seconds)}


def lro_response(ctx: Ctx, status: int, body, op: dict, with_location: bool, status_url: bool = True) -> Response:
    """201/200/202 of an AKS long-running operation: Azure-AsyncOperation (+ Location) and Retry-After, under the
    subscription of the request that started it (the operation's); a finished one's 204 has the Location only."""
    base = (f"{ctx.base}/subscriptions/{op.subscription}/providers/Microsoft.ContainerService/"
            f"locations/{op.location}")
    headers = {"Azure-AsyncOperation": f"{base}/operations/{op.id}?api-version={OPERATION_API_VERSION}",
               **retry_after(ctx)} if status_url else {}
    if with_location:
        headers["Location"] = f"{base}/operationresults/{op.id}?api-version={OPERATION_API_VERSION}"
    return json_response(body, status, headers)


def precondition_headers(ctx: Ctx) -> dict:
    h = ctx.request.headers
    return {"if_match": h.get("If-Match"), "if_none_match": h.get("If-None-Match")}
