"""Request validation shared by the back ends: bodies against JSON Schemas (jsonschema), resource names against
the service's naming rules. A request that fails gets the 400 the service would send, naming the field."""
from __future__ import annotations

import re
from typing import Callable, Pattern

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from imds_ext.emulator.errors import EmulatorError

MAX_BODY_BYTES = 4 * 1024 * 1024  # ARM refuses request bodies over 4 MiB
MAX_BODY_DEPTH = 64  # objects and arrays nested deeper are refused (the emulator's limit; ARM's is not public)

# Resource names (ARM): resource groups 1-90 of letters, digits, '_', '-', '.', '(' and ')', not ending in '.';
# managed clusters 1-63 of letters, digits, '-' and '_', starting and ending with a letter or digit (AKS REST API
# `resourceName`); agent pools a lowercase letter, then up to 11 lowercase letters or digits; extensions 1-253 of
# letters, digits, '-' and '.'.
RESOURCE_GROUP_NAME = re.compile(r"^[-\w.()]{0,89}[-\w()]$", re.ASCII)
CLUSTER_NAME = re.compile(r"^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$")
POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
EXTENSION_NAME = re.compile(r"^[a-zA-Z0-9][-.a-zA-Z0-9]{0,252}$")
KUBERNETES_VERSION = r"^\d+\.\d+(\.\d+)?$"
# A location: a region's name (`westus2`) or display name (`West US 2`): letters and digits, single spaces between
# words. Anything else (a newline, say, which would go raw into the Azure-AsyncOperation header) is refused.
LOCATION = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"^[A-Za-z0-9]+( [A-Za-z0-9]+)*\Z"}


def schema(definition: dict) -> Draft202012Validator:
    Draft202012Validator.check_schema(definition)
    return Draft202012Validator(definition)


def check(validator: Draft202012Validator, body, error: Callable[[str, str], EmulatorError]) -> None:
    """Raise `error(message, target)` for the most relevant violation of `validator` in `body`, if any."""
    found = best_match(validator.iter_errors(body))
    if found is None:
        return
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in found.absolute_path).lstrip(".")
    where = f"the value of '{path}'" if path else "the request body"
    raise error(f"The request content is invalid: {where} is invalid ({found.message}).", path or None)


def check_name(value: str, pattern: Pattern, what: str, rule: str, code: str = "InvalidResourceName") -> None:
    if not pattern.match(value or ""):
        shown = value if len(value) <= 100 else value[:100] + "..."
        raise EmulatorError(400, code, f"The {what} name '{shown}' is invalid: {rule}.")
