"""The one error table of both command lines: each kind of failure gets its exit code and a sentence."""
import logging

from azure.core.exceptions import ServiceRequestError, ServiceResponseError

from imds_ext.cli import ImdsCLI
from imds_ext.core import errors as core
from imds_ext.frontend import errors
from imds_ext.frontend.validators import UsageError


def test_each_core_error_has_its_exit_code():
    assert errors.exit_code(core.ResourceNotFound("gone")) == (3, "gone")
    assert errors.exit_code(core.PreflightFailed("blocked")) == (1, "blocked")
    assert errors.exit_code(core.Interrupted("Interrupted. Run x.")) == (1, "Interrupted. Run x.")
    assert errors.exit_code(UsageError("bad flag")) == (2, "bad flag")


def test_transport_errors_say_whether_anything_may_have_changed():
    code, message = errors.exit_code(ServiceRequestError("Connection refused"))
    assert code == 1 and "Could not reach the service: Connection refused. Nothing was changed." in message
    code, message = errors.exit_code(ServiceResponseError("Connection reset"))
    assert code == 1 and "may have been applied; run the same command again to finish the job" in message


def test_an_unexpected_error_is_a_sentence_and_the_traceback_is_debug_only(caplog):
    cli = ImdsCLI()
    try:
        raise RuntimeError("boom")
    except RuntimeError as ex:
        with caplog.at_level(logging.DEBUG):
            assert cli.exception_handler(ex) == 1
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage().startswith("Unexpected error (RuntimeError: boom).") and "--debug" in error.getMessage()
    assert error.exc_info is None  # no traceback at the error level
    assert any(r.levelno == logging.DEBUG and r.exc_info for r in caplog.records)


def test_a_dropped_connection_when_the_command_had_only_read_says_nothing_was_changed():
    ex = ServiceResponseError("Connection reset")
    ex.reads_only = True  # what core.clients' policy says when no request of the command could change anything
    code, message = errors.exit_code(ex)
    assert code == 1 and "only read, so nothing was changed" in message and "may have been applied" not in message
