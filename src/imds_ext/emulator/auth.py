"""A slice of Microsoft Entra ID: OpenID discovery, the client-credentials token endpoint, token validation.

Tokens are RS256 JWTs signed with a key made at start (PyJWT + cryptography). The only client is the
well-known service principal of constants.py. Tokens are never logged.
"""
from __future__ import annotations

import base64
import hmac
import time
import uuid
from datetime import datetime, timezone
from typing import Iterable, Optional
from urllib.parse import urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request

from imds_ext.emulator.constants import (
    PUBLIC_ARM_AUDIENCES, TENANT_DISPLAY_NAME, TOKEN_LIFETIME_SECONDS, WELL_KNOWN_CLIENT_ID,
    WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_TENANT_ID,
)
from imds_ext.emulator.errors import EmulatorError

# Tenant path segments MSAL and az may use besides the tenant id itself.
TENANT_ALIASES = ("common", "organizations")


class TokenError(Exception):
    """An Entra-style OAuth error: rendered as {"error", "error_description", "error_codes", ...}."""

    def __init__(self, status: int, error: str, aadsts: int, description: str):
        super().__init__(description)
        self.status, self.error, self.aadsts, self.description = status, error, aadsts, description

    def body(self) -> dict:
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        return {"error": self.error,
                "error_description": f"AADSTS{self.aadsts}: {self.description} Trace ID: {trace} "
                                     f"Correlation ID: {corr} Timestamp: {stamp}",
                "error_codes": [self.aadsts], "timestamp": stamp, "trace_id": trace, "correlation_id": corr,
                "error_uri": f"https://login.microsoftonline.com/error?code={self.aadsts}"}


class TokenService:
    def __init__(self, base_url_getter):
        self._base = base_url_getter  # callable: the server's https URL, known once it listens
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public = self._key.public_key()
        self.kid = uuid.uuid4().hex

    # ---- identity documents ---------------------------------------------------------------------
    def issuer(self, tenant: str = WELL_KNOWN_TENANT_ID) -> str:
        return f"https://sts.windows.net/{tenant}/"

    def _check_tenant(self, tenant: str) -> str:
        if tenant.lower() in TENANT_ALIASES or tenant.lower() == WELL_KNOWN_TENANT_ID:
            return WELL_KNOWN_TENANT_ID
        raise TokenError(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found. Check to make sure you have "
                         "the correct tenant ID and are signing into the correct cloud. This emulator knows only "
                         f"the tenant {WELL_KNOWN_TENANT_ID}.")

    def openid_configuration(self, tenant: str, v2: bool = True) -> dict:
        tid = self._check_tenant(tenant)
        base, v = self._base(), "/v2.0" if v2 else ""
        return {
            "token_endpoint": f"{base}/{tid}/oauth2{v}/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/{tid}/discovery{v}/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{tid}/v2.0" if v2 else self.issuer(tid),
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base}/{tid}/openid/userinfo",
            "authorization_endpoint": f"{base}/{tid}/oauth2{v}/authorize",
            "device_authorization_endpoint": f"{base}/{tid}/oauth2{v}/devicecode",
            "http_logout_supported": True, "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{tid}/oauth2{v}/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
            "tenant_region_scope": "NA", "cloud_instance_name": urlparse(base).hostname,
            "cloud_graph_host_name": "graph.windows.net", "msgraph_host": "graph.microsoft.com",
        }

    def instance_discovery(self, authorization_endpoint: Optional[str]) -> dict:
        base = self._base()
        host = urlparse(base).netloc
        path = urlparse(authorization_endpoint or "").path.strip("/").split("/")
        tenant = path[0] if path and path[0] else "common"
        return {"tenant_discovery_endpoint": f"{base}/{tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]}

    def jwks(self) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self._public, as_dict=True)
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        return {"keys": [jwk]}

    # ---- the token endpoint ---------------------------------------------------------------------
    def token(self, request: Request, tenant: str, v2: bool) -> dict:
        tid = self._check_tenant(tenant)
        form = request.form
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.authorization
        if auth is not None and auth.type == "basic":  # client_secret_basic
            client_id, secret = auth.username, auth.password
        grant = form.get("grant_type")
        if grant != "client_credentials":
            raise TokenError(400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type "
                             f"'{grant}'. The emulator supports only 'client_credentials'.")
        if not client_id:
            raise TokenError(400, "invalid_request", 900144, "The request body must contain the following "
                             "parameter: 'client_id'.")
        if client_id.lower() != WELL_KNOWN_CLIENT_ID:
            raise TokenError(400, "unauthorized_client", 700016, f"Application with identifier '{client_id}' was "
                             f"not found in the directory '{TENANT_DISPLAY_NAME}'. This can happen if the "
                             "application has not been installed by the administrator of the tenant.")
        if not secret and not form.get("client_assertion"):
            raise TokenError(401, "invalid_client", 7000218, "The request body must contain the following "
                             "parameter: 'client_assertion' or 'client_secret'.")
        if not hmac.compare_digest((secret or "").encode(), WELL_KNOWN_CLIENT_SECRET.encode()):
            raise TokenError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                             "being sent in the request is the client secret value, not the client secret ID, for "
                             f"a secret added to app '{WELL_KNOWN_CLIENT_ID}'.")
        if v2:
            scopes = [s for s in form.get("scope", "").split() if s.endswith("/.default")]
            if not scopes:
                raise TokenError(400, "invalid_scope", 1002012, f"The provided value for scope "
                                 f"'{form.get('scope', '')}' is not valid. Client credential flows must have a "
                                 "scope value with /.default suffixed to the resource identifier "
                                 "(application ID URI).")
            resource = scopes[0][: -len("/.default")]
        else:
            resource = form.get("resource")
            if not resource:
                raise TokenError(400, "invalid_resource", 500011, "The resource principal was not found: no "
                                 "'resource' parameter.")
        now = int(time.time())
        claims = {"aud": resource, "iss": self.issuer(tid), "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME_SECONDS,
                  "appid": WELL_KNOWN_CLIENT_ID, "appidacr": "1", "idp": self.issuer(tid), "idtyp": "app",
                  "oid": WELL_KNOWN_CLIENT_ID, "sub": WELL_KNOWN_CLIENT_ID, "tid": tid, "ver": "1.0",
                  "uti": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")}
        token = self.sign(claims)
        body = {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS - 1,
                "ext_expires_in": TOKEN_LIFETIME_SECONDS - 1, "access_token": token}
        if not v2:
            body.update(expires_on=str(claims["exp"]), not_before=str(now), resource=resource)
        return body

    def sign(self, claims: dict) -> str:
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid, "x5t": self.kid})

    # ---- validation on every ARM request --------------------------------------------------------
    def accepted_audiences(self) -> list:
        base = self._base()
        out = [base, base + "/"]
        for aud in PUBLIC_ARM_AUDIENCES:
            out += [aud, aud.rstrip("/")]
        return out

    def _unauthorized(self, code: str, message: str) -> EmulatorError:
        challenge = (f'Bearer authorization_uri="{self._base()}/{WELL_KNOWN_TENANT_ID}", error="invalid_token", '
                     f'error_description="{message}"')
        return EmulatorError(401, code, message, headers={"WWW-Authenticate": challenge})

    def validate(self, authorization: Optional[str], audiences: Optional[Iterable[str]] = None) -> dict:
        """The token's claims, or EmulatorError 401 with a WWW-Authenticate challenge. `audiences`: those the
        token may be for (default: ARM's)."""
        if not authorization:
            raise self._unauthorized("AuthenticationFailed",
                                     "Authentication failed. The 'Authorization' header is missing.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise self._unauthorized("AuthenticationFailed", "Authentication failed. The 'Authorization' header "
                                     "is provided in an invalid format.")
        audiences = list(audiences) if audiences is not None else self.accepted_audiences()
        try:
            claims = jwt.decode(token.strip(), self._public, algorithms=["RS256"], audience=list(audiences),
                                issuer=self.issuer(), options={"require": ["exp", "aud", "iss"]})
            if not isinstance(claims["aud"], str):
                # RFC 7519 allows a list, and PyJWT accepts one naming any audience; an Entra access token is for
                # one resource, its `aud` a single string: a list is not a token Entra issues.
                raise jwt.InvalidAudienceError("aud is not a single string")
            return claims
        except jwt.ExpiredSignatureError:
            raise self._unauthorized("ExpiredAuthenticationToken", "The access token expiry UTC time is earlier "
                                     "than current UTC time.") from None
        except jwt.InvalidAudienceError:
            raise self._unauthorized("InvalidAuthenticationTokenAudience", "The access token has been obtained for "
                                     "wrong audience or resource. It should exactly match with one of the allowed "
                                     f"audiences {', '.join(repr(a) for a in audiences)}.") from None
        except jwt.InvalidSignatureError:
            raise self._unauthorized("InvalidAuthenticationToken", "The access token has an invalid signature.") \
                from None
        except jwt.InvalidIssuerError:
            raise self._unauthorized("InvalidAuthenticationTokenTenant", "The access token is from the wrong "
                                     "issuer. It must match the tenant associated with this subscription.") from None
        except jwt.PyJWTError:
            raise self._unauthorized("InvalidAuthenticationToken", "The access token is invalid.") from None
