"""Errors of the domain core. The CLI layers map them onto az's error classes and exit codes."""


class ImdsExtError(Exception):
    """Base class; the message is written for the user."""


class ConfigurationError(ImdsExtError):
    """Missing or invalid settings (subscription, endpoint, credentials)."""


class ResourceNotFound(ImdsExtError):
    """The cluster, pool or resource group does not exist (az exit code 3)."""


class PreflightFailed(ImdsExtError):
    """The change would be refused by the service; `blockers` says why and how to fix each."""

    def __init__(self, message, blockers=()):
        super().__init__(message)
        self.blockers = list(blockers)


class ConfirmationRequired(ImdsExtError):
    """A prompt was needed but there is no terminal: the user must pass --yes."""


class Cancelled(ImdsExtError):
    """The user said no at the prompt."""


class ConcurrentModification(ImdsExtError):
    """The cluster kept changing under us (ETag mismatch) more times than we retry."""


class ServiceIgnoredChange(ImdsExtError):
    """The PUT succeeded but the returned cluster does not carry the requested value."""


def service_message(ex: Exception) -> str:
    """An error as az prints a service error: `(Code) Message`; other exceptions as their message."""
    error = getattr(ex, "error", None)
    if error is not None and getattr(error, "code", None) and getattr(error, "message", None):
        return f"({error.code}) {error.message}"
    return getattr(ex, "message", None) or str(ex)


class Interrupted(ImdsExtError):
    """Ctrl-C or SIGTERM: the message says what state the cluster is in and the command that finishes the job."""


class Unfinished(ImdsExtError):
    """A service or transport error in the middle of the flow. The cause (`__cause__`) says what failed; `stage`
    says what is true of the cluster at that point and the command that finishes the job."""

    def __init__(self, stage: str):
        super().__init__(stage)
        self.stage = stage
