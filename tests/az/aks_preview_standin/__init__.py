"""Stands in for the aks-preview extension (not on PyPI: az installs it from its own index). It registers its
commands the way aks-preview does (azext_aks_preview/commands.py, _params.py, MIT licensed): custom commands
`aks create`, `aks update` and `aks upgrade` in the `aks` group, over a managed-clusters client factory, with
no-wait support, and its own `--enable-imds-restriction` / `--disable-imds-restriction`. Its handlers do what
aks-preview's do for these flags (flip the field, nothing more) or say that they ran."""
from azure.cli.core import AzCommandsLoader
from azure.cli.core.commands import CliCommandType

PREVIEW_API = "2026-05-02-preview"


def cf_managed_clusters(cli_ctx, *_):
    from azure.cli.core.commands.client_factory import get_mgmt_service_client
    from azure.mgmt.containerservice import ContainerServiceClient

    return get_mgmt_service_client(cli_ctx, ContainerServiceClient, api_version=PREVIEW_API).managed_clusters


def _headers(value):
    return dict(item.split("=", 1) for item in (value or "").split(",") if "=" in item)


def aks_create(cmd, client, resource_group_name, name, location="westus2", node_count=1, nodepool_name="nodepool1",
               vm_set_type=None, enable_oidc_issuer=False, enable_addons=None, enable_imds_restriction=False,
               aks_custom_headers=None, no_wait=False):
    network = {"podLinkLocalAccess": "None"} if enable_imds_restriction else {}
    body = {"location": location, "identity": {"type": "SystemAssigned"},
            "properties": {"dnsPrefix": name, "networkProfile": network,
                           "oidcIssuerProfile": {"enabled": enable_oidc_issuer},
                           "agentPoolProfiles": [{"name": nodepool_name, "count": node_count, "mode": "System",
                                                  "vmSize": "Standard_DS2_v2",
                                                  "type": vm_set_type or "VirtualMachineScaleSets"}]}}
    poller = client.begin_create_or_update(resource_group_name, name, body, headers=_headers(aks_custom_headers),
                                           polling=not no_wait)
    return None if no_wait else poller.result()


def aks_update(cmd, client, resource_group_name, name, tags=None, enable_imds_restriction=False,
               disable_imds_restriction=False, enable_oidc_issuer=False, aks_custom_headers=None, if_match=None,
               yes=False, no_wait=False):
    return {"handledBy": "aks-preview stand-in", "tags": tags}


def aks_upgrade(cmd, client, resource_group_name, name, kubernetes_version="", node_image_only=False,
                cluster_snapshot_id=None, yes=False, no_wait=False):
    client.get(resource_group_name, name)  # as aks-preview's: it reads the cluster before it changes anything
    return {"handledBy": "aks-preview stand-in", "kubernetesVersion": kubernetes_version}


class AksPreviewStandInLoader(AzCommandsLoader):
    def __init__(self, cli_ctx=None):
        aks_custom = CliCommandType(operations_tmpl="azext_aks_preview#{}", client_factory=cf_managed_clusters)
        super().__init__(cli_ctx=cli_ctx, custom_command_type=aks_custom)

    def load_command_table(self, args):
        managed_clusters_sdk = CliCommandType(operations_tmpl="azext_aks_preview#{}",
                                              client_factory=cf_managed_clusters)
        with self.command_group("aks", managed_clusters_sdk, client_factory=cf_managed_clusters) as g:
            g.custom_command("create", "aks_create", supports_no_wait=True)
            g.custom_command("update", "aks_update", supports_no_wait=True)
            g.custom_command("upgrade", "aks_upgrade", supports_no_wait=True)
        return self.command_table

    def load_arguments(self, command):
        for scope in ("aks create", "aks update", "aks upgrade"):
            with self.argument_context(scope) as c:
                c.argument("resource_group_name", options_list=["--resource-group", "-g"])
                c.argument("name", options_list=["--name", "-n"])
                c.argument("yes", options_list=["--yes", "-y"], action="store_true")
                c.argument("aks_custom_headers")
        with self.argument_context("aks create") as c:
            c.argument("location", options_list=["--location", "-l"])
            c.argument("node_count", options_list=["--node-count", "-c"], type=int)
            c.argument("enable_addons", options_list=["--enable-addons", "-a"])
            c.argument("enable_oidc_issuer", action="store_true")
            c.argument("enable_imds_restriction", action="store_true", is_preview=True)
        with self.argument_context("aks update") as c:
            c.argument("tags", nargs="*")
            c.argument("enable_oidc_issuer", action="store_true")
            c.argument("enable_imds_restriction", action="store_true", is_preview=True)
            c.argument("disable_imds_restriction", action="store_true", is_preview=True)
        with self.argument_context("aks upgrade") as c:
            c.argument("kubernetes_version", options_list=["--kubernetes-version", "-k"])
            c.argument("node_image_only", action="store_true")


COMMAND_LOADER_CLS = AksPreviewStandInLoader
