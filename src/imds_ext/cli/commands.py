"""The command table: each command's handler (custom.py), validator and table transformer."""
from knack.commands import CommandGroup

from imds_ext.cli import _validators as v
from imds_ext.frontend import output as f
from imds_ext.frontend.netpolicy import network_policy_table, validate_network_policy
from imds_ext.frontend.validators import (validate_rollout, validate_rollout_status, validate_selection,
                                          validate_verify)

CUSTOM = "imds_ext.cli.custom#{}"


def load_command_table(loader):
    with CommandGroup(loader, "aks", CUSTOM) as g:
        g.command("create", "aks_create", validator=v.validate_create, table_transformer=f.aks_show_table)
        g.command("update", "aks_update", validator=v.validate_update, table_transformer=f.aks_show_table)
        g.command("upgrade", "aks_upgrade", validator=v.validate_node_image_upgrade, table_transformer=f.aks_show_table)
        g.command("show", "aks_show", validator=v.validate_cluster_names, table_transformer=f.aks_show_table)
        g.command("list", "aks_list", validator=v.validate_cluster_names, table_transformer=f.aks_list_table)
    with CommandGroup(loader, "aks nodepool", CUSTOM) as g:
        g.command("upgrade", "aks_nodepool_upgrade", validator=v.validate_node_image_upgrade)
    with CommandGroup(loader, "aks imds-restriction", CUSTOM) as g:
        g.command("show", "aks_imds_restriction_show", validator=v.validate_cluster_names,
                  table_transformer=f.imds_report_table)
        g.command("list", "aks_imds_restriction_list", validator=validate_selection,
                  table_transformer=f.imds_list_table)
        g.command("verify", "aks_imds_restriction_verify", validator=validate_verify, table_transformer=f.verify_table)
        g.command("scan", "aks_imds_restriction_scan", validator=validate_verify, table_transformer=f.scan_table)
    with CommandGroup(loader, "aks imds-restriction network-policy", "imds_ext.cli._netpolicy#{}") as g:
        for verb in ("apply", "show", "remove"):
            g.command(verb, f"network_policy_{verb}", validator=validate_network_policy,
                      table_transformer=network_policy_table)
    with CommandGroup(loader, "aks imds-restriction rollout", CUSTOM) as g:
        g.command("start", "aks_imds_restriction_rollout_start", validator=validate_rollout,
                  table_transformer=f.rollout_table)
        g.command("status", "aks_imds_restriction_rollout_status", validator=validate_rollout_status,
                  table_transformer=f.rollout_status_table)
    with CommandGroup(loader, "feature", CUSTOM) as g:
        g.command("register", "feature_register", table_transformer=f.feature_table)
        g.command("unregister", "feature_unregister", table_transformer=f.feature_table)
        g.command("show", "feature_show", table_transformer=f.feature_table)
        g.command("list", "feature_list", table_transformer=f.feature_table)
    with CommandGroup(loader, "provider", CUSTOM) as g:
        g.command("register", "provider_register")
        g.command("unregister", "provider_unregister")
        g.command("show", "provider_show")
    with CommandGroup(loader, "group", CUSTOM) as g:
        g.command("create", "group_create")
        g.command("show", "group_show")
    with CommandGroup(loader, "config", CUSTOM) as g:
        g.command("set", "config_set", validator=v.validate_config_keys)
        g.command("get", "config_get", validator=v.validate_config_keys)
        g.command("unset", "config_unset", validator=v.validate_config_keys)
    with CommandGroup(loader, "emulator", CUSTOM) as g:
        g.command("start", "emulator_start", validator=v.validate_port)
    with CommandGroup(loader, "", CUSTOM) as g:
        g.command("demo", "demo")
    return loader.command_table
