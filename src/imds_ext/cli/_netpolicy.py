"""`az-imds aks imds-restriction network-policy apply|show|remove`: thin handlers over the shared front end
(imds_ext/frontend/netpolicy.py)."""
from imds_ext.cli._client_factory import cf_imds
from imds_ext.cli.custom import _with_exit_code
from imds_ext.frontend import netpolicy


def network_policy_apply(cmd, resource_group_name, name, mechanism=None, exempt_namespaces=None, yes=False,
                         admin=False, kubeconfig=None, context=None, subscription=None):
    return _with_exit_code(cmd, netpolicy.apply(
        cf_imds(cmd.cli_ctx, subscription), resource_group_name, name, mechanism=mechanism,
        exempt_namespaces=exempt_namespaces, yes=yes, admin=admin, kubeconfig=kubeconfig, context=context))


def network_policy_show(cmd, resource_group_name, name, mechanism=None, exempt_namespaces=None, admin=False,
                        kubeconfig=None, context=None, subscription=None):
    return _with_exit_code(cmd, netpolicy.show(
        cf_imds(cmd.cli_ctx, subscription), resource_group_name, name, mechanism=mechanism,
        exempt_namespaces=exempt_namespaces, admin=admin, kubeconfig=kubeconfig, context=context))


def network_policy_remove(cmd, resource_group_name, name, yes=False, admin=False, kubeconfig=None, context=None,
                          subscription=None):
    return _with_exit_code(cmd, netpolicy.remove(
        cf_imds(cmd.cli_ctx, subscription), resource_group_name, name, yes=yes, admin=admin, kubeconfig=kubeconfig,
        context=context))
