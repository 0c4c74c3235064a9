"""The core's ARM clients and flow, built from az's login, subscription and cloud."""
from imds_ext.core.clients import ArmClients
from imds_ext.core.service import ImdsRestrictionService
from imds_ext.core.settings import ArmSettings
from imds_ext.frontend.interaction import ConsoleInteraction


def cf_arm(cli_ctx, subscription_id=None) -> ArmClients:
    from azure.cli.core._profile import Profile
    from azure.cli.core.commands.client_factory import get_subscription_id, prepare_client_kwargs_track2

    credential, subscription_id, _tenant = Profile(cli_ctx=cli_ctx).get_login_credentials(
        subscription_id=subscription_id or get_subscription_id(cli_ctx))
    endpoints = cli_ctx.cloud.endpoints
    settings = ArmSettings(endpoint=endpoints.resource_manager.rstrip("/"), subscription_id=subscription_id,
                           audience=endpoints.active_directory_resource_id)
    # az's own client settings: user agent, CommandName/ParameterSetName headers, request id, --debug
    # network trace with secrets redacted, SSL verification settings.
    return ArmClients(settings, credential, **prepare_client_kwargs_track2(cli_ctx))


def cf_imds(cli_ctx, subscription_id=None) -> ImdsRestrictionService:
    # az's prompt (knack's, as az's own commands use), az's progress controller, az's logger.
    return ImdsRestrictionService(cf_arm(cli_ctx, subscription_id), ConsoleInteraction(cli_ctx, "az"))
