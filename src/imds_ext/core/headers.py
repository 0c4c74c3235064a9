"""Custom request headers, as `az aks --aks-custom-headers Key1=Value1,Key2=Value2` takes them."""
from __future__ import annotations

from typing import Dict, Optional

from imds_ext.core import constants

# Headers the HTTP transport and the SDK set on every request themselves (framing, the connection, the target,
# the credential, the body's encoding, the ETag guards the flow sends): a custom value would corrupt or redirect
# the request, or silently replace the token or the guard.
RESERVED_HEADERS = frozenset(h.lower() for h in (
    "Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "TE", "Trailer",
    "Expect", "Proxy-Connection", "Proxy-Authorization", "Authorization", "Content-Type", "Content-Encoding",
    "If-Match", "If-None-Match"))


def parse_custom_headers(value: Optional[str]) -> Dict[str, str]:
    """`Key1=Value1,Key2=Value2` as a dict; ValueError naming the item that is not `Key=Value`, a header the
    transport sets itself, or a value HTTP cannot carry (only Latin-1 goes into a header)."""
    headers: Dict[str, str] = {}
    if not value:
        return headers
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"'{item}' is not of the form Key=Value")
        key, val = key.strip(), val.strip()
        if key.lower() in RESERVED_HEADERS:
            raise ValueError(f"'{key}' is set by the HTTP transport or by imds-ext itself and cannot be given"
                             + (" (use --if-match)" if key.lower() == "if-match" else ""))
        if not latin1(key + val):
            raise ValueError(f"'{item}' has characters an HTTP header cannot carry (only Latin-1)")
        headers[key] = val
    return headers


def latin1(text: str) -> bool:
    """True when `text` can go into an HTTP header (http.client encodes header values as Latin-1)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def names_feature(headers: Dict[str, str]) -> bool:
    """True when the headers opt this request into the IMDS preview (AKSHTTPCustomFeatures)."""
    for key, value in headers.items():
        if key.lower() == constants.CUSTOM_FEATURES_HEADER.lower():
            if any(v.strip().lower() == constants.FEATURE_ID.lower() for v in value.split(",")):
                return True
    return False
