"""Typed errors of the emulator. The back end raises them; the HTTP layer renders them (render_error)."""
from __future__ import annotations

from typing import Optional

ARM = "arm"  # ARM front door, Features, Resources: {"error": {"code", "message", ...}}
AKS = "aks"  # the AKS resource provider: {"code", "message", "subcode", "details", "target"}


class StateFileError(Exception):
    """The state file could not be read or parsed; the message names the file and the reason."""


class StartError(Exception):
    """The emulator could not start (the address is taken or not this machine's, a folder is missing)."""


class EmulatorError(Exception):
    def __init__(self, status: int, code: str, message: str, kind: str = ARM, *,
                 target: Optional[str] = None, details: Optional[list] = None, headers: Optional[dict] = None):
        super().__init__(message)
        self.status, self.code, self.message, self.kind = status, code, message, kind
        self.target, self.details, self.headers = target, details, dict(headers or {})

    def body(self) -> dict:
        if self.kind == AKS:
            return {"code": self.code, "details": self.details, "message": self.message, "subcode": "",
                    "target": self.target}
        inner = {"code": self.code, "message": self.message}
        if self.target is not None:
            inner["target"] = self.target
        if self.details:
            inner["details"] = self.details
        return {"error": inner}


def resource_not_found(type_name: str, name: str, resource_group: str) -> EmulatorError:
    return EmulatorError(
        404, "ResourceNotFound",
        f"The Resource '{type_name}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix")


def resource_group_not_found(name: str) -> EmulatorError:
    return EmulatorError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


def bad_request(code: str, message: str, target: Optional[str] = None, details=None) -> EmulatorError:
    """An AKS resource-provider 400 (unwrapped envelope)."""
    return EmulatorError(400, code, message, AKS, target=target, details=details)
