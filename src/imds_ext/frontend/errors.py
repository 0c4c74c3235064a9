"""The core's errors as the user sees them: one table, read by both command lines.

`az-imds` turns an error into a message and az's exit code (`exit_code`); the extension raises the az error
class of the same row (`as_az_error`), so az prints it its way with the same exit code.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

from imds_ext.core import errors as core

# az's exit codes
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
# `aks imds-restriction scan`: the scan ran to the end and something breaks (1 stays "the scan failed")
EXIT_BREAKS = 4


class Kind(NamedTuple):
    exit_code: int
    az_error: str  # the class in azure.cli.core.azclierror with that exit code


# Most specific first: the first row whose class matches is the error's kind.
KINDS: Tuple[Tuple[type, Kind], ...] = (
    (core.ResourceNotFound, Kind(EXIT_NOT_FOUND, "ResourceNotFoundError")),
    (core.ConfirmationRequired, Kind(EXIT_ERROR, "NoTTYError")),
    (core.PreflightFailed, Kind(EXIT_ERROR, "ValidationError")),
    (core.ServiceIgnoredChange, Kind(EXIT_ERROR, "AzureResponseError")),
    (core.ConfigurationError, Kind(EXIT_ERROR, "ValidationError")),
    (core.Interrupted, Kind(EXIT_ERROR, "ManualInterrupt")),
    (core.ImdsExtError, Kind(EXIT_ERROR, "UnclassifiedUserFault")),  # incl. VerificationFailed, ClusterUnreachable
)


def kind_of(ex: BaseException) -> Optional[Kind]:
    for error_type, kind in KINDS:
        if isinstance(ex, error_type):
            return kind
    return None


def _reason(ex: BaseException) -> Optional[Tuple[int, str]]:
    """(exit code, what went wrong) for a service or transport error; None for others."""
    from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ResourceNotFoundError,
                                       ServiceRequestError, ServiceResponseError)

    if isinstance(ex, ResourceNotFoundError):
        return EXIT_NOT_FOUND, core.service_message(ex)
    if isinstance(ex, ClientAuthenticationError):
        return EXIT_ERROR, "Authentication failed: " + core.service_message(ex)
    if isinstance(ex, HttpResponseError):
        return EXIT_ERROR, core.service_message(ex)
    if isinstance(ex, ServiceRequestError):
        return EXIT_ERROR, f"Could not reach the service: {ex.message}."
    if isinstance(ex, ServiceResponseError):
        return EXIT_ERROR, f"The connection broke before the service answered: {ex.message}."
    return None


def exit_code(ex: BaseException) -> Optional[Tuple[int, str]]:
    """(exit code, message) for an error reaching `az-imds`'s exception handler; None for one we do not know
    (a bug: the handler shows it in full)."""
    from knack.util import CLIError

    from imds_ext.frontend.validators import UsageError

    if isinstance(ex, core.Unfinished):  # what failed, then what is true of the cluster and what to run
        cause = _reason(ex.__cause__) or (EXIT_ERROR, str(ex.__cause__))
        return EXIT_ERROR, f"{cause[1].rstrip('.')}. {ex.stage}"
    kind = kind_of(ex)
    if kind is not None:
        return kind.exit_code, str(ex)
    if isinstance(ex, UsageError):
        return EXIT_USAGE, str(ex)
    if isinstance(ex, CLIError):
        return EXIT_ERROR, str(ex)
    if not type(ex).__module__.startswith("azure."):  # azure-core stays unloaded for errors that are not its own
        return None
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    known = _reason(ex)
    if known is not None:
        code, text = known
        if isinstance(ex, ServiceRequestError):  # the request never reached the service
            text += (" Nothing was changed. Check the network connection, and AZIMDS_ARM_ENDPOINT / "
                     "AZURE_AUTHORITY_HOST if you set them.")
        elif isinstance(ex, ServiceResponseError) and getattr(ex, "reads_only", False):  # set by core.clients
            text += " This command had only read, so nothing was changed; run it again."
        elif isinstance(ex, ServiceResponseError):
            text += " The request may have been applied; run the same command again to finish the job."
        return code, text
    return None


def unexpected(ex: BaseException) -> str:
    """The sentence for an error nobody expected (a bug): what it was, and how to see the detail."""
    return (f"Unexpected error ({type(ex).__name__}: {ex}). Nothing more is known about the state of the cluster "
            "from this run; run the same command with --debug to see the details, and report it.")


def as_az_error(ex: core.ImdsExtError):
    """The az error (azure.cli.core.azclierror) for a core error."""
    from azure.cli.core import azclierror

    if isinstance(ex, core.Unfinished):
        return azclierror.AzureResponseError(exit_code(ex)[1])
    return getattr(azclierror, kind_of(ex).az_error)(str(ex))
