"""Typed records: what the emulator stores, as dataclasses that read and write themselves as JSON.

`from_json` checks a stored document against the record's annotations, so a state file with wrong inner types is
refused at start with a message naming the field, instead of failing later on a request.
"""
from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any, Dict, Union, get_args, get_origin

from imds_ext.emulator.errors import StateFileError


def _conforms(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    origin = get_origin(hint)
    if origin is Union:
        return any(_conforms(value, arg) for arg in get_args(hint))
    if hint is type(None):
        return value is None
    if origin in (dict, Dict):
        key_type, value_type = get_args(hint) or (str, Any)
        return isinstance(value, dict) and all(_conforms(k, key_type) and _conforms(v, value_type)
                                               for k, v in value.items())
    if origin is list:
        (item_type,) = get_args(hint) or (Any,)
        return isinstance(value, list) and all(_conforms(v, item_type) for v in value)
    if hint is float:  # JSON has one number type; times must be finite
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


@dataclasses.dataclass
class Record:
    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Any, where: str):
        """The record stored as `data`; StateFileError naming `where` and the field when it does not fit."""
        if not isinstance(data, dict):
            raise StateFileError(f"{where}: expected an object, found {type(data).__name__}.")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(data) - set(fields)
        if unknown:
            raise StateFileError(f"{where}: unknown field(s) {sorted(unknown)}.")
        for name, field in fields.items():
            if name not in data:
                if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                    raise StateFileError(f"{where}: the field '{name}' is missing.")
            elif not _conforms(data[name], hints[name]):
                raise StateFileError(f"{where}.{name}: {data[name]!r} is not of type {hints[name]}.")
        return cls(**data)
