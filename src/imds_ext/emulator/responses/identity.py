"""Microsoft Entra ID (what MSAL, azure-identity and az ask the authority host) and the cloud metadata document
(`az cloud register`). Tokens are the TokenService's (emulator/auth.py)."""
from __future__ import annotations

from imds_ext.emulator.constants import PUBLIC_ARM_AUDIENCES, parse_version
from imds_ext.emulator.responses import json_response

_NO_STORE = {"Cache-Control": "no-store"}


def openid_configuration_v2(ctx, tenant):
    return json_response(ctx.app.tokens.openid_configuration(tenant, v2=True))


def openid_configuration_v1(ctx, tenant):
    return json_response(ctx.app.tokens.openid_configuration(tenant, v2=False))


def token_v2(ctx, tenant):
    return json_response(ctx.app.tokens.token(ctx.request, tenant, v2=True), headers=_NO_STORE)


def token_v1(ctx, tenant):
    return json_response(ctx.app.tokens.token(ctx.request, tenant, v2=False), headers=_NO_STORE)


def instance_discovery(ctx):
    return json_response(ctx.app.tokens.instance_discovery(ctx.request.args.get("authorization_endpoint")))


def jwks(ctx, tenant):
    return json_response(ctx.app.tokens.jwks())


def metadata_endpoints(ctx):
    base, parsed = ctx.base, parse_version(ctx.api_version or "")
    audiences = [PUBLIC_ARM_AUDIENCES[1], PUBLIC_ARM_AUDIENCES[0], base + "/"]
    if parsed and parsed[0].year < 2019:  # the legacy single-cloud shape az < 2.40 read
        return json_response({"galleryEndpoint": base + "/", "graphEndpoint": "https://graph.windows.net/",
                              "portalEndpoint": base + "/", "authentication": {"loginEndpoint": base,
                                                                               "audiences": audiences}})
    cloud = {"name": "Emulator", "portal": base, "resourceManager": base + "/", "gallery": base + "/",
             "graph": "https://graph.windows.net/", "graphAudience": "https://graph.windows.net/",
             "microsoftGraphResourceId": "https://graph.microsoft.com/", "media": base + "/",
             "batch": "https://batch.core.windows.net/", "sqlManagement": base + "/",
             "activeDirectoryDataLake": "https://datalake.azure.net/",
             "vmImageAliasDoc": base + "/metadata/vm-image-aliases",
             "authentication": {"loginEndpoint": base, "audiences": audiences, "tenant": "common",
                                "identityProvider": "AAD"},
             "suffixes": {"acrLoginServer": "azurecr.io", "azureDataLakeAnalyticsCatalogAndJob":
                          "azuredatalakeanalytics.net", "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
                          "keyVaultDns": "vault.azure.net", "sqlServerHostname": "database.windows.net",
                          "storage": "core.windows.net"}}
    if parsed and parsed[0].isoformat() < "2022-09-01":  # 2019-05-01 ... : a list of clouds
        return json_response([cloud])
    return json_response(cloud)
