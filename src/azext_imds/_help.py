"""Help for the extension's own commands (the added flags carry their help on the arguments)."""
from knack.help_files import helps

from imds_ext.frontend import flags, netpolicy

helps["aks imds-restriction"] = """
type: group
short-summary: Inspect IMDS restriction on a managed cluster (imds-ext).
"""

helps["aks imds-restriction show"] = """
type: command
short-summary: Show the IMDS restriction state of a cluster and whether it can be enabled.
long-summary: >
    Reports the current setting (networkProfile.podLinkLocalAccess), whether the cluster is restricted (the
    setting is None and no node-image upgrade is due by imds-ext's record), the pools still due and the command
    that finishes the job, the feature and provider registration,
    OIDC issuer and workload identity, every node pool, every blocker with the command that removes it,
    warnings, and what an enable or a disable would do. Change it with
    'az aks update --enable-imds-restriction' or '--disable-imds-restriction'.
examples:
  - name: Is this cluster ready for IMDS restriction?
    text: az aks imds-restriction show -g MyResourceGroup -n MyManagedCluster --query "{ready:canEnable, blockers:blockers[].message}"
"""

helps["aks imds-restriction list"] = flags.LIST_HELP.format(cli="az")
helps["aks imds-restriction rollout"] = flags.ROLLOUT_HELP.format(cli="az")
helps["aks imds-restriction rollout start"] = flags.ROLLOUT_START_HELP.format(cli="az")
helps["aks imds-restriction rollout status"] = flags.ROLLOUT_STATUS_HELP.format(cli="az")

helps["aks imds-restriction verify"] = """
type: command
short-summary: Prove, node by node, that the nodes enforce the IMDS setting (imds-ext).
long-summary: >
    A pod-network probe on every Linux node (or --sample N per pool) and a host-network probe per pool try IMDS;
    each node's verdict compares what its probe saw with networkProfile.podLinkLocalAccess. The probes run in a
    namespace of their own and are removed on success, failure and Ctrl-C. Exit 0 only when every node behaves
    as the setting says.
examples:
  - name: Verify every node.
    text: az aks imds-restriction verify -g MyResourceGroup -n MyManagedCluster
"""

helps["aks imds-restriction scan"] = """
type: command
short-summary: Find the workloads that lose their Azure tokens when IMDS restriction is on (imds-ext).
long-summary: >
    Classifies what runs in the cluster, every pod counted for its top-level owner of any kind, as breaks, at
    risk or unaffected, each with the evidence and the fix. Nothing in the cluster changes. The report is the
    output whatever the verdict. Exit codes: 0 nothing breaks, 4 something breaks (each named on stderr), 1 the
    scan failed, 3 cluster not found.
examples:
  - name: Gate a pipeline on the scan.
    text: az aks imds-restriction scan -g MyResourceGroup -n MyManagedCluster -o table
"""

netpolicy.register_help(helps, "az")
