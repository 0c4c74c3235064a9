"""Argument definitions, named and shaped as `az aks`, `az feature` and `az provider` name them."""
from knack.arguments import ArgumentsContext, CLIArgumentType

from imds_ext.cli._validators import delay_seconds
from imds_ext.frontend import flags

resource_group_name_type = CLIArgumentType(
    options_list=["--resource-group", "-g"], configured_default="group",
    help="Name of resource group. You can configure the default group using "
         "`az-imds config set defaults.group=<name>`.")
cluster_name_type = CLIArgumentType(options_list=["--name", "-n"], help="Name of the managed cluster.")
yes_type = CLIArgumentType(options_list=["--yes", "-y"], action="store_true",
                           help="Do not prompt for confirmation.")
no_wait_type = CLIArgumentType(action="store_true", help="Do not wait for the long-running operation to finish.")
custom_headers_type = CLIArgumentType(help=flags.CUSTOM_HEADERS)
namespace_type = CLIArgumentType(options_list=["--namespace", "-n"],
                                 help="The resource namespace, aka 'provider', e.g. Microsoft.ContainerService.")
wait_type = CLIArgumentType(action="store_true", help="Wait until the registration finishes.")


def load_arguments(loader, _command):
    with ArgumentsContext(loader, "") as c:
        c.argument("subscription", options_list=["--subscription"],
                   help="Name or ID of subscription. Defaults to AZURE_SUBSCRIPTION_ID, then the Azure CLI's "
                        "default subscription.")
        c.argument("resource_group_name", resource_group_name_type)
        c.argument("yes", yes_type)
        c.argument("no_wait", no_wait_type)

    with ArgumentsContext(loader, "aks") as c:
        c.argument("name", cluster_name_type)
        c.argument("aks_custom_headers", custom_headers_type)
        c.argument("enable_oidc_issuer", action="store_true", help="Enable the OIDC issuer.")

    with ArgumentsContext(loader, "aks create") as c:
        c.argument("location", options_list=["--location", "-l"],
                   help="Location. Defaults to the location of the resource group.")
        c.argument("node_count", options_list=["--node-count", "-c"], type=int,
                   help="Number of nodes in the default node pool.")
        c.argument("node_vm_size", options_list=["--node-vm-size", "-s"], help="Size of Virtual Machines to create "
                   "as Kubernetes nodes.")
        c.argument("kubernetes_version", options_list=["--kubernetes-version", "-k"],
                   help="Version of Kubernetes to use for creating the cluster. Defaults to the service default.")
        c.argument("enable_workload_identity", action="store_true", help="Enable workload identity addon.")
        c.argument("enable_addons", options_list=["--enable-addons", "-a"],
                   help="Enable the Kubernetes addons in a comma-separated list, e.g. monitoring,azure-policy.")
        c.argument("enable_imds_restriction", action="store_true", help=flags.ENABLE_ON_CREATE)
        c.argument("tags", nargs="*", help="Space-separated tags: key[=value] [key[=value] ...].")

    with ArgumentsContext(loader, "aks update") as c:
        c.argument("enable_imds_restriction", action="store_true", help=flags.ENABLE_ON_UPDATE)
        c.argument("disable_imds_restriction", action="store_true", help=flags.DISABLE_ON_UPDATE)
        c.argument("if_match", help=flags.IF_MATCH)
        c.argument("skip_node_image_upgrade", action="store_true", help=flags.SKIP_NODE_IMAGE_UPGRADE)
        c.argument("check_workloads", action="store_true", help=flags.CHECK_WORKLOADS)
        c.argument("skip_workload_check", action="store_true", help=flags.SKIP_WORKLOAD_CHECK)
        c.argument("force", action="store_true", help=flags.FORCE)
        c.argument("verify_nodes", options_list=["--verify"], action="store_true", help=flags.VERIFY)
        flags.kube_arguments(c)

    with ArgumentsContext(loader, "aks upgrade") as c:
        c.argument("node_image_only", action="store_true",
                   help="Only upgrade the node image of every node pool.")
        c.argument("verify_nodes", options_list=["--verify"], action="store_true", help=flags.VERIFY)
        flags.kube_arguments(c)

    with ArgumentsContext(loader, "aks nodepool") as c:
        c.argument("cluster_name", options_list=["--cluster-name"], help="The cluster name.")
        c.argument("nodepool_name", options_list=["--name", "-n"], help="The node pool name.")
        c.argument("node_image_only", action="store_true", help="Only upgrade the node image of the pool.")

    with ArgumentsContext(loader, "aks imds-restriction") as c:
        c.argument("admin", action="store_true", help=flags.ADMIN)
        c.argument("kubeconfig", help=flags.KUBECONFIG)
        c.argument("context", help=flags.CONTEXT)

    with ArgumentsContext(loader, "aks imds-restriction verify") as c:
        c.argument("sample", type=int, help=flags.SAMPLE)
        c.argument("probe_image", help=flags.PROBE_IMAGE)
        c.argument("kubeconfig", help=flags.KUBECONFIG)
        c.argument("context", help=flags.CONTEXT)

    with ArgumentsContext(loader, "feature") as c:
        c.argument("namespace", options_list=["--namespace"], help="The resource namespace, aka 'provider'.")
        c.argument("name", options_list=["--name", "-n"], help="The feature name.")
        c.argument("wait", wait_type)

    with ArgumentsContext(loader, "provider") as c:
        c.argument("namespace", namespace_type)
        c.argument("wait", wait_type)

    with ArgumentsContext(loader, "group") as c:
        c.argument("name", options_list=["--name", "-n", "--resource-group", "-g"], help="Name of resource group.")
        c.argument("location", options_list=["--location", "-l"], help="Location, e.g. eastus.")

    with ArgumentsContext(loader, "config set") as c:
        c.positional("key_value", nargs="+", metavar="KEY=VALUE",
                     help="Space-separated configurations in the form of <section>.<key>=<value>, e.g. "
                          "defaults.group=MyResourceGroup.")
    with ArgumentsContext(loader, "config get") as c:
        c.positional("key", nargs="?", metavar="KEY",
                     help="The configuration to get, <section>.<key> or <section>. Default: every configuration.")
    with ArgumentsContext(loader, "config unset") as c:
        c.positional("key", nargs="+", metavar="KEY", help="The configurations to unset, <section>.<key>.")

    with ArgumentsContext(loader, "emulator start") as c:
        c.argument("host", help="Address to listen on. Loopback unless you say otherwise.")
        c.argument("port", type=int, help="Port to listen on; 0 picks a free one.")
        c.argument("state_file", help="Keep the state in this JSON file across restarts.")
        c.argument("env_file", help="Write the `export` lines that point clients at the emulator to this file.")
        c.argument("lro_delay", type=delay_seconds, help="Seconds a long-running operation takes (0 to 86400).")
        c.argument("no_retry_after", action="store_true",
                   help="Send no Retry-After on long-running operations, as AKS does: clients poll at their own "
                        "interval (the faithful mode).")
        c.argument("registration_delay", type=delay_seconds,
                   help="Seconds a feature or provider registration takes (0 to 86400).")

    with ArgumentsContext(loader, "demo") as c:
        c.argument("lro_delay", type=float, help="Seconds each emulated long-running operation takes.")

    with ArgumentsContext(loader, "aks imds-restriction rollout start") as c:
        flags.rollout_arguments(c)

    with ArgumentsContext(loader, "aks imds-restriction network-policy") as c:
        from imds_ext.frontend import netpolicy

        netpolicy.arguments(c)

    with ArgumentsContext(loader, "aks imds-restriction list") as c:
        flags.selection_arguments(c)

    with ArgumentsContext(loader, "aks imds-restriction rollout status") as c:
        c.argument("journal", help=flags.ROLLOUT_STATUS_JOURNAL)
