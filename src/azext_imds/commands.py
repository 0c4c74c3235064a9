"""The extension's own commands, `aks imds-restriction ...`; az's `aks create`/`aks update` get flags (_augment.py)."""
from azext_imds._validators import (validate_list, validate_rollout, validate_rollout_status, validate_show,
                                    validate_verify)
from imds_ext.frontend.output import (imds_list_table, imds_report_table, rollout_status_table, rollout_table,
                                      scan_short_table, verify_short_table)


def load_command_table(loader, _args):
    with loader.command_group("aks imds-restriction", is_preview=True) as g:
        g.custom_command("show", "aks_imds_restriction_show", validator=validate_show,
                         table_transformer=imds_report_table)
        g.custom_command("list", "aks_imds_restriction_list", validator=validate_list,
                         table_transformer=imds_list_table)
        g.custom_command("verify", "aks_imds_restriction_verify", validator=validate_verify,
                         table_transformer=verify_short_table)
        g.custom_command("scan", "aks_imds_restriction_scan", validator=validate_verify,
                         table_transformer=scan_short_table)
    from azure.cli.core.commands import CliCommandType

    from azext_imds.netpolicy import validate_network_policy
    from imds_ext.frontend.netpolicy import network_policy_table

    with loader.command_group("aks imds-restriction network-policy", is_preview=True,
                              custom_command_type=CliCommandType(operations_tmpl="azext_imds.netpolicy#{}")) as g:
        for verb in ("apply", "show", "remove"):
            g.custom_command(verb, f"network_policy_{verb}", validator=validate_network_policy,
                             table_transformer=network_policy_table)
    with loader.command_group("aks imds-restriction rollout", is_preview=True) as g:
        g.custom_command("start", "aks_imds_restriction_rollout_start", validator=validate_rollout,
                         table_transformer=rollout_table)
        g.custom_command("status", "aks_imds_restriction_rollout_status", validator=validate_rollout_status,
                         table_transformer=rollout_status_table)
    # Registering 'aks imds-restriction' also put a bare 'aks' entry in our group table; the 'aks' group is
    # az's (acs module): do not let our empty entry replace its metadata when az merges the tables.
    if not loader.command_group_table.get("aks"):
        loader.command_group_table.pop("aks", None)
    return loader.command_table
