"""Help for the extension's own commands (the added flags carry their help on the arguments), and the examples it
adds to az's own `aks create`, `aks update` and `aks upgrade` (add_examples)."""
from knack.help_files import helps

from imds_ext.frontend import flags, netpolicy

helps["aks imds-restriction"] = """
type: group
short-summary: Inspect, prove and roll out IMDS restriction on managed clusters (imds-ext).
long-summary: >
    Whether a cluster can be restricted and what stops it (show), every cluster of a fleet with its state (list),
    the workloads that would lose their Azure tokens (scan), the nodes' behaviour proved pod by pod (verify), and a
    rollout over many clusters and subscriptions (rollout). The change itself is 'az aks update
    --enable-imds-restriction' (or 'az aks create --enable-imds-restriction'), which checks, updates and reimages.
examples:
  - name: Is this cluster ready, and what would an enable do?
    text: az aks imds-restriction show -g MyResourceGroup -n MyManagedCluster
  - name: Every cluster of the subscription, its state and blockers, as a table.
    text: az aks imds-restriction list -o table
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

# Examples added to az's own commands (their help stays az's: these are appended to its examples when az loads
# the command, see _augment.py).
AZ_COMMAND_EXAMPLES = {
    "aks create": [
        {"name": "Create a cluster whose pods cannot reach IMDS from the start (imds-ext: checked before anything is "
                 "created).",
         "text": "az aks create -g MyResourceGroup -n MyManagedCluster --enable-oidc-issuer --enable-workload-identity "
                 "--enable-imds-restriction --generate-ssh-keys"},
    ],
    "aks update": [
        {"name": "Restrict pods from IMDS: checks every blocker, updates the cluster and reimages every Linux pool "
                 "(imds-ext).",
         "text": "az aks update -g MyResourceGroup -n MyManagedCluster --enable-imds-restriction --check-workloads "
                 "--yes"},
        {"name": "Let pods reach IMDS again, and reimage the pools (imds-ext).",
         "text": "az aks update -g MyResourceGroup -n MyManagedCluster --disable-imds-restriction --yes"},
    ],
    "aks upgrade": [
        {"name": "Upgrade every pool's node image and wait until each has finished, with progress (imds-ext).",
         "text": "az aks upgrade -g MyResourceGroup -n MyManagedCluster --node-image-only --wait-for-node-images "
                 "--yes"},
    ],
}


def add_examples(name: str) -> None:
    """Append the examples of AZ_COMMAND_EXAMPLES to the help az (or the extension owning the command) registered
    for `name`, once."""
    import yaml

    examples = AZ_COMMAND_EXAMPLES.get(name)
    if not examples:
        return
    data = yaml.safe_load(helps.get(name) or "") or {"type": "command"}
    if isinstance(data, str):  # a bare long summary
        data = {"type": "command", "long-summary": data}
    listed = data.get("examples") or []
    data["examples"] = listed + [e for e in examples if e not in listed]
    helps[name] = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)

netpolicy.register_help(helps, "az")
