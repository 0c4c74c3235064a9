"""`az-imds`: the standalone command line, built on knack as the Azure CLI is."""
import argparse
import configparser
import inspect
import logging
import os
import sys

from knack import CLI
from knack.commands import CLICommandsLoader
from knack.config import CLIConfig, _ConfigFile
from knack.events import EVENT_CLI_PRE_EXECUTE, EVENT_INVOKER_POST_PARSE_ARGS
from knack.help import CLIHelp
from knack.log import get_logger
from knack.output import OutputProducer
from knack.parser import CLICommandParser

from imds_ext.frontend.errors import EXIT_ERROR, EXIT_USAGE

logger = get_logger(__name__)

CLI_NAME = "az-imds"


class ImdsCommandsLoader(CLICommandsLoader):
    def load_command_table(self, args):
        from imds_ext.cli import _help  # noqa: F401  (registers the help entries)
        from imds_ext.cli.commands import load_command_table

        load_command_table(self)
        return super().load_command_table(args)

    def load_arguments(self, command):
        from imds_ext.cli._params import load_arguments

        load_arguments(self, command)
        super().load_arguments(command)

    def create_command(self, name, operation, **kwargs):
        # As in azure-cli, a handler that takes `cmd` gets the command (and through it the CLI context).
        command = super().create_command(name, operation, **kwargs)
        command.validator = _checked_first(command.validator)
        handler = self._get_op_handler(operation)
        if "cmd" in inspect.signature(handler).parameters:
            def _handler(command_args, _command=command):
                command_args.pop("cmd", None)  # registered as ignored, so argparse leaves a placeholder
                return handler(_command, **command_args)
            command.handler = _handler
        return command


def _checked_first(validator):
    """Every command's names and --subscription are checked (given, on one line) before its own validator."""
    from imds_ext.cli._validators import validate_given

    def validate(namespace):
        validate_given(namespace)
        if validator is not None:
            validator(namespace)
    return validate


class ImdsParser(CLICommandParser):
    def parse_args(self, args=None, namespace=None):
        """knack's parse_args, but an unknown option is the command's error (its usage and examples, as az
        prints them), not the root parser's: argparse leaves the extras to the root."""
        self._expand_prefixed_files(args)
        namespace, extras = argparse.ArgumentParser.parse_known_args(self, args, namespace)
        if extras:
            parser = getattr(namespace, "_parser", None) or self
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace

    def error(self, message):
        # `az-imds aks` (a group with no command) shows the group's help, as `az aks` does.
        if self.is_group() and "_subcommand" in message:
            self.format_help()  # exits 0
        if self.is_group():
            super().error(message)
        # A command's parse error: its usage, the error, then its examples and where the help is, as az does.
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n{self._examples()}"
                     f"\nRun '{self.prog} --help' for every option.\n")

    def _examples(self) -> str:
        try:
            help_file = self.cli_help.command_help_cls(self.cli_help, " ".join(self.prog.split()[1:]), self)
            help_file.load(self)
            examples = help_file.examples
        except Exception:  # pylint: disable=broad-except  (the help is a courtesy here, never a second error)
            logger.debug("The examples of '%s' could not be loaded.", self.prog, exc_info=True)
            return ""
        if not examples:
            return ""
        return "\nExamples:\n" + "".join(f"  {e.name}\n    {e.text}\n" for e in examples)


class ImdsHelp(CLIHelp):
    def __init__(self, cli_ctx=None):
        super().__init__(cli_ctx=cli_ctx, welcome_message=(
            "az-imds: restrict pod access to the Azure Instance Metadata Service on AKS, end to end.\n"
            "Start with 'az-imds demo', or 'az-imds aks imds-restriction show -g <group> -n <cluster>'."))


class ImdsConfig(CLIConfig):
    """knack's configuration; a folder that cannot be created (a read-only HOME in a CI container) or a file that
    is not INI is a sentence (`problem`, `fatal`) instead of a traceback, and the settings are the environment's
    alone."""

    def __init__(self, config_dir=None, config_env_var_prefix=None, **kwargs):
        self.problem, self.fatal = None, False
        try:
            super().__init__(config_dir=config_dir, config_env_var_prefix=config_env_var_prefix, **kwargs)
            return
        except OSError as ex:
            self.problem = (f"Cannot create the configuration folder '{config_dir}' ({ex.strerror or ex}): running "
                            "with the settings of the environment only. Set AZIMDS_CONFIG_DIR to a folder that can "
                            "be written.")
        except (configparser.Error, UnicodeDecodeError) as ex:
            path = getattr(ex, "source", None) or os.path.join(config_dir, CLIConfig._DEFAULT_CONFIG_FILE_NAME)
            reason = str(ex).splitlines()[0].rstrip(".")
            self.problem = (f"The configuration file '{path}' is not an INI file ({reason}). Fix or remove it, or set "
                            "AZIMDS_CONFIG_DIR to another folder.")
            self.fatal = True
        # What knack's constructor sets, without the folder or its file: one empty file in the chain.
        self.config_dir = config_dir
        self.config_path = os.path.join(config_dir, CLIConfig._DEFAULT_CONFIG_FILE_NAME)
        self._env_var_format = f"{config_env_var_prefix.upper()}_{{section}}_{{option}}"
        self.defaults_section_name = CLIConfig._CONFIG_DEFAULTS_SECTION
        self.use_local_config = None
        self._config_file_chain = [_ConfigFile(config_dir, os.devnull)]


class ImdsCLI(CLI):
    def __init__(self, **kwargs):
        super().__init__(
            cli_name=CLI_NAME,
            config_dir=os.environ.get("AZIMDS_CONFIG_DIR", os.path.join(os.path.expanduser("~"), ".az-imds")),
            config_env_var_prefix="AZIMDS",
            config_cls=ImdsConfig,
            commands_loader_cls=ImdsCommandsLoader,
            parser_cls=ImdsParser,
            help_cls=ImdsHelp,
            **kwargs)
        self._args = ()
        self.register_event(EVENT_CLI_PRE_EXECUTE, self._check_config)
        self.register_event(EVENT_INVOKER_POST_PARSE_ARGS, _check_output)

    def _check_config(self, _cli, **_kwargs):
        """After logging is set up: a configuration that cannot be used is said; a malformed file stops every
        command but --version and --help, which need none of it. azure-identity's own warning of a failed
        credential chain (every credential's answer) is for --debug: the error says it in a sentence."""
        if "--debug" not in self._args:
            logging.getLogger("azure.identity").setLevel(logging.ERROR)
        if self.config.problem is None:
            return
        if self.config.fatal and not {"--version", "-v", "--help", "-h"} & set(self._args):
            from imds_ext.core.errors import ConfigurationError

            raise ConfigurationError(self.config.problem)
        logger.warning(self.config.problem)

    def get_cli_version(self):
        import imds_ext

        return imds_ext.__version__

    def get_progress_controller(self, det=False, spinner=None):
        """What az's CLI offers its commands (azure.cli.core), so the front end draws progress the same way."""
        from imds_ext.frontend.progress import SpinnerProgress

        return SpinnerProgress()

    def invoke(self, args, initial_invocation_data=None, out_file=None):
        """knack's invoke; a command that printed its result but did not fully succeed (a rollout with clusters
        not done) sets `data["exit_code"]`, as az's commands over several --ids exit 1 after their output."""
        self._args = tuple(args)
        code = super().invoke(args, initial_invocation_data=initial_invocation_data, out_file=out_file)
        return code or self.data["exit_code"] or 0

    def exception_handler(self, ex):
        """Errors as az prints them, with az's exit codes; never a stack trace unless --debug."""
        from jmespath.exceptions import JMESPathError

        from imds_ext.frontend.errors import exit_code, unexpected

        if isinstance(ex, JMESPathError):  # --query met the result (a wrong type): the command itself has run
            logger.error("--query could not be applied to the result: %s. The command itself ran; fix the query "
                         "(https://jmespath.org).", str(ex).rstrip("."))
            return EXIT_USAGE
        known = exit_code(ex)
        if known is None:  # a bug: a sentence for the user, the traceback under --debug
            logger.error(unexpected(ex))
            logger.debug("Traceback of the unexpected error:", exc_info=ex)
            return EXIT_ERROR
        code, message = known
        logger.error(message)
        if ex.__cause__ is not None:  # the detail behind the sentence (a credential chain's every answer)
            logger.debug("Caused by: %s", ex.__cause__)
        return code


def _check_output(cli_ctx, **kwargs):
    """Before the command runs: the output format, which may come from AZIMDS_CORE_OUTPUT or the config file's
    core.output (argparse checks only an -o given)."""
    from imds_ext.core.errors import ConfigurationError

    output = getattr(kwargs["args"], OutputProducer.ARG_DEST, None)
    if output is not None and output not in OutputProducer._FORMAT_DICT:
        raise ConfigurationError(
            f"The output format '{output}' (AZIMDS_CORE_OUTPUT, or 'output' in the [core] section of "
            f"{cli_ctx.config.config_path}) is not one of {', '.join(OutputProducer._FORMAT_DICT)}.")


def main(args=None):
    cli = ImdsCLI()
    try:
        return cli.invoke(sys.argv[1:] if args is None else args)
    except SystemExit as ex:  # argparse usage errors exit 2, --help exits 0
        return ex.code if isinstance(ex.code, int) else EXIT_ERROR
