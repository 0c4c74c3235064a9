"""The command table."""
from knack.commands import CommandGroup

from imds_ext.cli import _validators as v

CUSTOM = "imds_ext.cli.custom#{}"


def load_command_table(loader):
    with CommandGroup(loader, "aks", CUSTOM) as g:
        g.command("create", "aks_create", validator=v.validate_create)
        g.command("update", "aks_update", validator=v.validate_update)
        g.command("upgrade", "aks_upgrade", validator=v.validate_node_image_only)
        g.command("show", "aks_show")
        g.command("list", "aks_list")
    with CommandGroup(loader, "aks nodepool", CUSTOM) as g:
        g.command("upgrade", "aks_nodepool_upgrade", validator=v.validate_node_image_only)
    with CommandGroup(loader, "aks imds-restriction", CUSTOM) as g:
        g.command("show", "aks_imds_restriction_show")
    with CommandGroup(loader, "feature", CUSTOM) as g:
        g.command("register", "feature_register")
        g.command("unregister", "feature_unregister")
        g.command("show", "feature_show")
        g.command("list", "feature_list")
    with CommandGroup(loader, "provider", CUSTOM) as g:
        g.command("register", "provider_register")
        g.command("unregister", "provider_unregister")
        g.command("show", "provider_show")
    with CommandGroup(loader, "group", CUSTOM) as g:
        g.command("create", "group_create")
        g.command("show", "group_show")
    with CommandGroup(loader, "emulator", CUSTOM) as g:
        g.command("start", "emulator_start", validator=v.validate_port)
    with CommandGroup(loader, "", CUSTOM) as g:
        g.command("demo", "demo")
    return loader.command_table
