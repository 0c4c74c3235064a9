"""`az-imds`: the standalone command line, built on knack as the Azure CLI is."""
import inspect
import os
import sys

from knack import CLI
from knack.commands import CLICommandsLoader
from knack.help import CLIHelp
from knack.log import get_logger
from knack.parser import CLICommandParser

from imds_ext.frontend.errors import EXIT_ERROR

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
        handler = self._get_op_handler(operation)
        if "cmd" in inspect.signature(handler).parameters:
            def _handler(command_args, _command=command):
                command_args.pop("cmd", None)  # registered as ignored, so argparse leaves a placeholder
                return handler(_command, **command_args)
            command.handler = _handler
        return command


class ImdsParser(CLICommandParser):
    def error(self, message):
        # `az-imds aks` (a group with no command) shows the group's help, as `az aks` does.
        if self.is_group() and "_subcommand" in message:
            self.format_help()  # exits 0
        super().error(message)


class ImdsHelp(CLIHelp):
    def __init__(self, cli_ctx=None):
        super().__init__(cli_ctx=cli_ctx, welcome_message=(
            "az-imds: restrict pod access to the Azure Instance Metadata Service on AKS, end to end.\n"
            "Start with 'az-imds demo', or 'az-imds aks imds-restriction show -g <group> -n <cluster>'."))


class ImdsCLI(CLI):
    def __init__(self, **kwargs):
        super().__init__(
            cli_name=CLI_NAME,
            config_dir=os.environ.get("AZIMDS_CONFIG_DIR", os.path.join(os.path.expanduser("~"), ".az-imds")),
            config_env_var_prefix="AZIMDS",
            commands_loader_cls=ImdsCommandsLoader,
            parser_cls=ImdsParser,
            help_cls=ImdsHelp,
            **kwargs)

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
        code = super().invoke(args, initial_invocation_data=initial_invocation_data, out_file=out_file)
        return code or self.data["exit_code"] or 0

    def exception_handler(self, ex):
        """Errors as az prints them, with az's exit codes; never a stack trace unless --debug."""
        from imds_ext.frontend.errors import exit_code, unexpected

        known = exit_code(ex)
        if known is None:  # a bug: a sentence for the user, the traceback under --debug
            logger.error(unexpected(ex))
            logger.debug("Traceback of the unexpected error:", exc_info=ex)
            return EXIT_ERROR
        code, message = known
        logger.error(message)
        return code


def main(args=None):
    cli = ImdsCLI()
    try:
        return cli.invoke(sys.argv[1:] if args is None else args)
    except SystemExit as ex:  # argparse usage errors exit 2, --help exits 0
        return ex.code if isinstance(ex.code, int) else EXIT_ERROR
