"""Builds the ARM clients and the core's services for a command from the environment (standalone CLI).

Everything that pulls in the Azure SDKs is imported here, inside the functions, so that `--help`, usage errors and
`--version` never load azure-core (tests/unit/test_startup.py).
"""
from knack.events import EVENT_CLI_POST_EXECUTE

from imds_ext.core.errors import ConfigurationError


def cf_arm(cli_ctx, subscription=None):
    """ArmClients over azure-identity's credential chain and the standalone settings."""
    from imds_ext.core.clients import ArmClients, default_credential
    from imds_ext.core.settings import resolve_settings

    # `core.instance_discovery` as az spells it: `az-imds` config file or AZIMDS_CORE_INSTANCE_DISCOVERY.
    try:
        discovery = cli_ctx.config.getboolean("core", "instance_discovery", fallback=True)
    except ValueError as ex:
        raise ConfigurationError("AZIMDS_CORE_INSTANCE_DISCOVERY (core.instance_discovery) must be true or false: "
                                 f"{ex}.") from ex
    clients = ArmClients(resolve_settings(subscription), credential=default_credential(discovery))
    # Close the clients' HTTP sessions when the CLI is done with this invocation.
    cli_ctx.register_event(EVENT_CLI_POST_EXECUTE, lambda _cli, **_kwargs: clients.close())
    return clients


def cf_console(cli_ctx):
    """The terminal, as the core's Interaction."""
    from imds_ext.cli import CLI_NAME
    from imds_ext.frontend.interaction import ConsoleInteraction

    return ConsoleInteraction(cli_ctx, CLI_NAME)


def cf_imds(cli_ctx, subscription=None):
    """The IMDS restriction service, talking to the user through the terminal."""
    from imds_ext.core.service import ImdsRestrictionService

    return ImdsRestrictionService(cf_arm(cli_ctx, subscription), cf_console(cli_ctx))


def cf_registrations(cli_ctx, subscription=None):
    from imds_ext.core.registration import Registrations

    return Registrations(cf_arm(cli_ctx, subscription), ui=cf_console(cli_ctx))
