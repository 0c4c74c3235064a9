"""The WSGI application: faults, routing, authentication, api-version checks, error rendering, request log."""
from __future__ import annotations

import logging
import socket
import time

from werkzeug.wrappers import Request, Response

from imds_ext.emulator import urls
from imds_ext.emulator.admin import Faults, RequestLog
from imds_ext.emulator.auth import TokenError, TokenService
from imds_ext.emulator.constants import (
    AKS_API_VERSIONS, AKS_NAMESPACE_API_VERSIONS, AKS_OPERATION_API_VERSIONS, EXTENSIONS_API_RANGE, parse_version,
)
from imds_ext.emulator.errors import EmulatorError
from imds_ext.emulator.responses import Ctx, json_response, render_error

log = logging.getLogger(__name__)
_LOOPBACK = ("127.", "::1", "::ffff:127.")
SOCKET_ENVIRON_KEY = "imds_emulator.socket"  # the connection's socket, set by the server's WSGI gateway
# api-version rule (urls.py) -> the resource provider namespace the subscription must be registered for
NAMESPACE_OF_RULE = {"aks": "Microsoft.ContainerService", "aks-operation": "Microsoft.ContainerService",
                     "aks-namespaces": "Microsoft.ContainerService",
                     "extensions": "Microsoft.KubernetesConfiguration"}


def check_api_version(rule, value) -> None:
    """Raise the ARM 400 for a missing or unknown api-version under `rule` (see urls.py)."""
    if rule is None:
        return
    kind, resource_type = rule
    if not value:
        raise EmulatorError(400, "MissingApiVersionParameter",
                            "The api-version query parameter (?api-version=) is required for all requests.")
    parsed = parse_version(value)
    if parsed is None:
        raise EmulatorError(400, "InvalidApiVersionParameter", f"The api-version '{value}' is invalid. The "
                            "supported versions have the format 'YYYY-MM-DD' or 'YYYY-MM-DD-preview'.")
    if kind == "aks":
        known = AKS_API_VERSIONS
    elif kind == "aks-namespaces":
        known = AKS_NAMESPACE_API_VERSIONS
    elif kind == "aks-operation":
        known = AKS_OPERATION_API_VERSIONS
    elif kind == "extensions":
        if EXTENSIONS_API_RANGE[0] <= parsed[0] <= EXTENSIONS_API_RANGE[1]:
            return
        known = {f"{EXTENSIONS_API_RANGE[0]}", f"{EXTENSIONS_API_RANGE[1]}"}
    else:
        return
    if value not in known:
        newest = ", ".join(sorted(known, reverse=True)[:12])
        raise EmulatorError(400, "NoRegisteredProviderFound", f"No registered resource provider found for API "
                            f"version '{value}' and type '{resource_type}'. The supported api-versions are "
                            f"'{newest}, ...'.")


def _headers_at_once(start_response):
    """start_response that sends the headers at once (WSGI's write callable), where the server would hold them
    until the first body chunk: a client waits for them before it reads any event, and a quiet watch has none for
    a while (client-go gives up on a request whose headers do not come within its timeout)."""
    def start(status, headers, exc_info=None):
        write = start_response(status, headers, exc_info)
        write(b"")
        return write
    return start


class EmulatorApp:
    def __init__(self, backend, base_url_getter, ca_pem=lambda: ""):
        self.backend = backend
        self.ca_pem = ca_pem  # the emulator CA's certificate, for the kubeconfigs it hands out
        self.base_url = base_url_getter
        self.tokens = TokenService(base_url_getter)
        self.log = RequestLog()
        self.faults = Faults()

    def __call__(self, environ, start_response):
        request = Request(environ)
        logged = not urls.is_admin(request.path)
        try:
            response = self.dispatch(request)
        except ConnectionAbortedError:
            if logged:
                self.log.add(request, 0)  # status 0: the client got no answer (a dropped-connection fault)
            raise
        if logged:
            self.log.add(request, response.status_code)
        if response.is_streamed:  # a watch: its headers now, as the API server flushes them when the watch starts
            return response(environ, _headers_at_once(start_response))
        return response(environ, start_response)

    def _apply_fault(self, request: Request, ctx: Ctx):
        fault = self.faults.match(request.method, request.path)
        if fault is None:
            return None
        if fault.get("delaySeconds"):
            time.sleep(float(fault["delaySeconds"]))
        if fault.get("drop"):
            self._drop(request, "fault injection: connection dropped before the request was handled")
        ctx.failure = fault.get("failOperation")
        ctx.drop_response = bool(fault.get("dropResponse"))
        if fault.get("status"):
            status = int(fault["status"])
            headers = dict(fault.get("headers") or {})
            if fault.get("retryAfter") is not None:
                headers["Retry-After"] = str(fault["retryAfter"])
            body = fault.get("body")
            if body is None:
                body = {"error": {"code": "InjectedFault",
                                  "message": f"Fault injected by the emulator: HTTP {status}."}}
            return json_response(body, status, headers)
        return None

    @staticmethod
    def _drop(request: Request, why: str):
        sock = request.environ.get(SOCKET_ENVIRON_KEY)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionAbortedError(why)

    def dispatch(self, request: Request) -> Response:
        ctx = Ctx(request, self, request.args.get("api-version"))
        try:
            route, params = urls.match(request.method, request.path)
            if route is None:
                if params:
                    raise EmulatorError(405, "MethodNotAllowed", f"The requested resource does not support http "
                                        f"method '{request.method}'.")
                # Not "not found": the emulator does not serve this API at all (docs/emulator.md lists what it
                # serves), which a client must not take for a missing resource.
                raise EmulatorError(501, "NotImplemented", f"The emulator does not serve '{request.method} "
                                    f"{request.path}': it is not part of the slice of Azure Resource Manager it "
                                    "emulates (see docs/emulator.md).")
            if route.auth == "admin":
                if not (request.remote_addr or "").startswith(_LOOPBACK):
                    raise EmulatorError(403, "Forbidden", "The emulator admin API answers loopback clients only.")
            else:
                injected = self._apply_fault(request, ctx)
                if injected is not None:
                    return injected
            if route.auth == "arm":
                self.tokens.validate(request.headers.get("Authorization"))
            check_api_version(route.api, ctx.api_version)
            namespace = NAMESPACE_OF_RULE.get(route.api[0]) if route.api else None
            if namespace:
                self.backend.features.require_registered(params["sub"], namespace)
            response = route.handler(ctx, **params)
            if ctx.drop_response:  # applied, but the client never hears so (a response lost after commit)
                self._drop(request, "fault injection: connection dropped after the request was applied")
            return response
        except EmulatorError as e:
            return render_error(e)
        except TokenError as e:
            return json_response(e.body(), e.status, {"Cache-Control": "no-store"})
        except ConnectionAbortedError:
            raise
        except Exception:  # a bug in the emulator: say so in ARM's words, keep serving
            log.exception("emulator error on %s %s", request.method, request.path)
            return render_error(EmulatorError(500, "InternalServerError", "The emulator failed to process the "
                                              "request; see its log."))
