"""`az` extension: IMDS restriction on AKS, end to end, inside the Azure CLI.

It adds to az's own commands rather than replacing them: `az aks create` gets --enable-imds-restriction,
`az aks update` gets --enable-imds-restriction / --disable-imds-restriction (see `_augment.py`), and the
extension registers one command of its own, `az aks imds-restriction show`. The flow itself is
`imds_ext.core`, shared with the standalone `az-imds`.
"""
from azure.cli.core import AzCommandsLoader

from azext_imds import _help  # noqa: F401  (registers the help entries)


class ImdsExtensionCommandsLoader(AzCommandsLoader):
    def __init__(self, cli_ctx=None):
        from azure.cli.core.commands import CliCommandType

        super().__init__(cli_ctx=cli_ctx,
                         custom_command_type=CliCommandType(operations_tmpl="azext_imds.custom#{}"))

    def load_command_table(self, args):
        from azext_imds._augment import register_hooks
        from azext_imds.commands import load_command_table

        load_command_table(self, args)
        register_hooks(self.cli_ctx)
        return self.command_table

    def load_arguments(self, command):
        from azext_imds._params import load_arguments

        load_arguments(self, command)


COMMAND_LOADER_CLS = ImdsExtensionCommandsLoader
