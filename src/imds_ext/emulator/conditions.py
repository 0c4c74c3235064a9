"""Conditional requests: eTags and the If-Match / If-None-Match rules of the AKS resource provider
(docs/arm-protocol.md, "ETags"). No state: the back ends pass the resource's current eTag."""
from __future__ import annotations

import uuid
from typing import Optional

from imds_ext.emulator.errors import AKS, EmulatorError, bad_request


def new_etag() -> str:
    return str(uuid.uuid4())


def check(current_etag: Optional[str], if_match: Optional[str], if_none_match: Optional[str], what: str,
          name: str) -> None:
    """Raise AKS's 400 or 412 when the request's conditions do not hold. `current_etag` is None when the resource
    does not exist."""
    if_match = (if_match or "").strip().strip('"') or None
    if_none_match = (if_none_match or "").strip().strip('"') or None
    if if_none_match not in (None, "*"):
        raise bad_request("BadRequest", "If-None-Match header must be empty or '*'.", target="If-None-Match")
    if if_match and if_none_match == "*":
        raise bad_request("BadRequest", "If-Match must be empty when If-None-Match is '*'.", target="If-Match")

    def failed(message):
        return EmulatorError(412, "PreconditionFailed", message, AKS)

    if if_none_match == "*" and current_etag is not None:
        raise failed(f"Operation failed because the {what} '{name}' already exists and If-None-Match '*' "
                     "was specified.")
    if if_match and current_etag is None:
        raise failed(f"Operation failed because the {what} '{name}' does not exist and If-Match "
                     f"'{if_match}' was specified.")
    if if_match and if_match != "*" and if_match != current_etag:
        raise failed(f"Operation failed because the eTag '{if_match}' does not match the current eTag "
                     f"'{current_etag}' of {what} '{name}'.")
