"""`az aks imds-restriction network-policy apply|show|remove`: the extension's thin handlers over the shared front end
(imds_ext/frontend/netpolicy.py), with az's error classes and exit codes."""
from azext_imds._client_factory import cf_imds
from azext_imds.custom import _exit_1_unless, az_errors
from imds_ext.frontend import netpolicy


@az_errors
def network_policy_apply(cmd, resource_group_name, name, mechanism=None, exempt_namespaces=None, yes=False,
                         admin=False, kubeconfig=None, context=None):
    return _exit_1_unless(cmd, netpolicy.apply(
        cf_imds(cmd.cli_ctx), resource_group_name, name, mechanism=mechanism, exempt_namespaces=exempt_namespaces,
        yes=yes, admin=admin, kubeconfig=kubeconfig, context=context))


@az_errors
def network_policy_show(cmd, resource_group_name, name, mechanism=None, exempt_namespaces=None, admin=False,
                        kubeconfig=None, context=None):
    return _exit_1_unless(cmd, netpolicy.show(
        cf_imds(cmd.cli_ctx), resource_group_name, name, mechanism=mechanism, exempt_namespaces=exempt_namespaces,
        admin=admin, kubeconfig=kubeconfig, context=context))


@az_errors
def network_policy_remove(cmd, resource_group_name, name, yes=False, admin=False, kubeconfig=None, context=None):
    return _exit_1_unless(cmd, netpolicy.remove(cf_imds(cmd.cli_ctx), resource_group_name, name, yes=yes,
                                                admin=admin, kubeconfig=kubeconfig, context=context))


def validate_network_policy(namespace):
    """The names, the Kubernetes options, --mechanism and --exempt-namespaces (a usage error: exit 2)."""
    from azext_imds._validators import _usage

    _usage(netpolicy.validate_network_policy, namespace)
