"""The help of the IMDS flags (and the rollout's arguments), written once for both command lines (`az-imds` and az
with the extension)."""

_ENABLE = ("Enable IMDS restriction in the cluster: non-hostNetwork pods cannot reach the Azure Instance Metadata "
           "Service")

ENABLE_ON_CREATE = _ENABLE + (
    ". Requires --enable-oidc-issuer. Before anything is created, the IMDSRestrictionPreview feature registration, "
    "the OIDC issuer and incompatible add-ons are checked, and each blocker is named with its fix. New nodes "
    "enforce it from the start.")
ENABLE_ON_UPDATE = _ENABLE + (
    " once the nodes are reimaged, which this command does (node-image-only upgrade of every Linux pool). "
    "Preflight first, then a prompt unless --yes.")
DISABLE_ON_UPDATE = (
    "Disable IMDS restriction in the cluster: all pods can reach the Azure Instance Metadata Service once the nodes "
    "are reimaged, which this command does. Prompts unless --yes.")
SKIP_NODE_IMAGE_UPGRADE = (
    "With --enable/--disable-imds-restriction: change the cluster setting only, do not reimage the nodes. They "
    "keep their old behaviour until 'aks upgrade --node-image-only' runs.")
IF_MATCH = ("The request will only proceed if the cluster's ETag matches this value. Without it, the ETag read at "
            "the start of the command is used.")
CUSTOM_HEADERS = (
    "Send custom headers. When specified, format should be Key1=Value1,Key2=Value2. "
    "AKSHTTPCustomFeatures=Microsoft.ContainerService/IMDSRestrictionPreview uses the preview without the "
    "subscription-level feature registration.")
# Inside az, what `aks update` takes beside an IMDS flag (the rest of az's options would change the cluster twice).
UPDATE_COMPANIONS_HELP = (" Combine only with -g/-n, --yes, --no-wait, --enable-oidc-issuer, --if-match, "
                          "--aks-custom-headers and --skip-node-image-upgrade.")

SAMPLE = "Probe this many nodes of each pool (default: every node)."
PROBE_IMAGE = ("Image of the probes; it must have curl (default: the Azure Linux base image on mcr.microsoft.com, "
               "pinned by digest). Give a mirror in a registry the cluster pulls from (an attached ACR) where it "
               "cannot reach mcr.microsoft.com.")
ADMIN = ("Use the local admin account's kubeconfig (listClusterAdminCredential) instead of the user's; refused on "
         "clusters with local accounts disabled.")
KUBECONFIG = "Use this kubeconfig file instead of asking ARM for the cluster's credentials."
CONTEXT = ("The kubeconfig context to use (default: the current context of --kubeconfig). Without --kubeconfig, "
           "picked from $KUBECONFIG (a list of files, merged as kubectl does) or ~/.kube/config. Its server must be "
           "the cluster's own.")
CHECK_WORKLOADS = ("The default with --enable-imds-restriction (kept for scripts that pass it): the cluster's "
                   "workloads are scanned first ('aks imds-restriction scan'); if some would break, it asks, or with "
                   "--yes refuses (nothing changed) unless --force.")
SKIP_WORKLOAD_CHECK = ("With --enable-imds-restriction: do not scan the cluster's workloads first (by default a scan "
                       "that finds workloads taking tokens from IMDS, or that cannot run, stops the change).")
FORCE = ("With --enable-imds-restriction: enable it even though the workload scan found workloads that break, or "
         "could not run.")
VERIFY = ("At the end, prove through the cluster's Kubernetes API that every Linux node behaves as the setting says "
          "('aks imds-restriction verify'); exit 1 naming each node that does not.")
# Inside az: `aks upgrade --node-image-only` is az's own (it starts every pool's upgrade and returns) unless
# imds-ext's record says the cluster's IMDS reimage is due; this asks for imds-ext's waited upgrade anyway.
WAIT_FOR_NODE_IMAGES = ("With --node-image-only: upgrade every pool at once and wait until each has finished, with "
                        "progress (imds-ext's upgrade), then clear imds-ext's record of a reimage due. Without it, "
                        "az's own upgrade runs (it starts the upgrades and returns) unless that record says the "
                        "cluster's IMDS reimage is due.")

KUBE_GROUP = "Kubernetes Access"


def kube_arguments(c) -> None:
    """The Kubernetes options of a command that probes or scans after (or before) it changes the cluster (`aks
    update`, `aks upgrade`), declared once: how the API is reached, and how the nodes are probed (these two go
    with --verify)."""
    c.argument("admin", action="store_true", arg_group=KUBE_GROUP, help=ADMIN)
    c.argument("kubeconfig", arg_group=KUBE_GROUP, help=KUBECONFIG)
    c.argument("context", arg_group=KUBE_GROUP, help=CONTEXT)
    c.argument("probe_image", arg_group=KUBE_GROUP, help=PROBE_IMAGE)
    c.argument("sample", type=int, arg_group=KUBE_GROUP, help=SAMPLE)


ROLLOUT_SUBSCRIPTIONS = ("The subscriptions (IDs or names) whose clusters to select, listed concurrently. Default: the "
                         "current subscription (--subscription, AZURE_SUBSCRIPTION_ID, or the Azure CLI's default).")
ROLLOUT_TAGS = ("Only the clusters carrying every tag given: key=value, or key alone for any value. "
                "Space-separated, e.g. --tag env=prod team=payments.")
ROLLOUT_CANARY = ("How many clusters go first, as a canary wave that must fully succeed (setting and reimage) "
                  "before any other starts. 0: no canary wave.")
ROLLOUT_CANARY_IDS = ("Resource IDs of the clusters that make the canary wave (instead of --canary, which takes the "
                      "first ones): each must be among the selected clusters and not blocked.")
ROLLOUT_PAUSE = ("Stop once the canary wave has fully succeeded, starting no other cluster (exit 0), so that its "
                 "workloads can be watched: a workload that lost its IMDS token may fail only once its cached token "
                 "expires, hours later. The same command, run again, goes on with the rest. Needs --canary-ids or "
                 "--journal.")
ROLLOUT_SKIP_WORKLOAD_CHECK = ("With --enable: do not scan the workloads of the clusters to change (by default a "
                               "cluster whose workloads take tokens from IMDS, or that cannot be scanned, is "
                               "blocked, unless --force).")
ROLLOUT_CHECK_WORKLOADS = ("The default with --enable (kept for scripts that pass it): the workloads of every cluster "
                           "to change are scanned in the plan ('aks imds-restriction scan'); a cluster whose workloads "
                           "take tokens from IMDS, or that cannot be scanned, is blocked (unless --force).")
ROLLOUT_JOURNAL = ("A file (JSON lines) where each step of each cluster is recorded as it ends. Run the same command "
                   "with the same journal to finish an interrupted rollout; 'rollout status --journal' reports it.")


def rollout_arguments(c) -> None:
    """The arguments of `aks imds-restriction rollout start`, declared once for both command lines: `c` is knack's
    argument context (az-imds) or az's, which take the same keywords."""
    c.argument("enable_imds_restriction", options_list=["--enable", "--enable-imds-restriction"],
               action="store_true", help="Enable IMDS restriction on every selected cluster.")
    c.argument("disable_imds_restriction", options_list=["--disable", "--disable-imds-restriction"],
               action="store_true", help="Disable IMDS restriction on every selected cluster.")
    selection_arguments(c)
    c.argument("ids", options_list=["--ids"], nargs="+",
               help="Resource IDs of the clusters; instead of the other selectors.")
    c.argument("canary", type=int, help=ROLLOUT_CANARY)
    c.argument("canary_ids", options_list=["--canary-ids"], nargs="+", help=ROLLOUT_CANARY_IDS)
    c.argument("pause_after_canary", options_list=["--pause-after-canary"], action="store_true",
               help=ROLLOUT_PAUSE)
    c.argument("max_parallel", type=int, help="How many clusters change at once after the canary wave.")
    c.argument("max_failures", type=int, help="Start no new cluster once this many have failed. Default: 1 (stop "
                                              "at the first failure).")
    c.argument("journal", help=ROLLOUT_JOURNAL)
    c.argument("dry_run", action="store_true", help="Show the plan and stop: nothing is changed.")
    c.argument("check_workloads", action="store_true", help=ROLLOUT_CHECK_WORKLOADS)
    c.argument("skip_workload_check", action="store_true", help=ROLLOUT_SKIP_WORKLOAD_CHECK)
    c.argument("fallback", choices=["network-policy"],
               help="With --enable: the clusters the managed setting cannot serve only because of what they run "
                    "(incompatible add-ons or extensions, Windows or VirtualMachines pools) get IMDS blocked by "
                    "network policy instead, as 'aks imds-restriction network-policy apply' does, when their engine "
                    "enforces policy (docs/network-policy.md).")
    c.argument("admin", action="store_true", help="For the workload scan: reach each cluster's API server with its "
                                                   "local admin account (listClusterAdminCredential), as "
                                                   "'aks imds-restriction scan --admin'.")
    c.argument("force", action="store_true", help="With --enable: what the workload scan finds, or that it could not "
                                                   "run, is a warning, not a blocker.")


def selection_arguments(c) -> None:
    """Which clusters a fleet command (the rollout, `aks imds-restriction list`) selects, declared once."""
    c.argument("subscriptions", nargs="+", help=ROLLOUT_SUBSCRIPTIONS)
    c.argument("all_subscriptions", action="store_true", help="Every enabled subscription the credential sees.")
    c.argument("resource_groups", options_list=["--resource-groups"], nargs="+",
               help="Only the clusters of these resource groups (in each selected subscription).")
    c.argument("tags", options_list=["--tag"], nargs="+", help=ROLLOUT_TAGS)


ROLLOUT_STATUS_JOURNAL = "The journal the rollout wrote (its --journal)."

# `aks imds-restriction list`: the help of both command lines, `{cli}` being `az-imds` or `az`.
LIST_HELP = """
type: command
short-summary: List the selected clusters with their IMDS restriction state, whether it can be enabled, and why not.
long-summary: >
    Selects the clusters as 'aks imds-restriction rollout start' does (--subscriptions, IDs or names, or
    --all-subscriptions; --resource-groups; --tag), and changes nothing. One row per cluster: its setting
    (networkProfile.podLinkLocalAccess), its effective state ("enforced": the setting is None and, by imds-ext's
    record, no node-image upgrade is due; "reimageDue": the record names the pools still to reimage, listed with
    the command that finishes the job; "open": the setting is IMDS or absent; "unknown": what the row needs could
    not be read, with the reason), whether it can be enabled (as a rollout would judge it), and every blocker with
    the command that fixes it. Exit code 0 whatever the clusters say (2 usage error; 3 subscription or resource
    group not found).
examples:
  - name: Every cluster of two subscriptions, as a table.
    text: {cli} aks imds-restriction list --subscriptions 00000000-0000-0000-0000-000000000000 Contoso-Prod -o table
  - name: The production clusters still open to IMDS, with their blockers.
    text: {cli} aks imds-restriction list --all-subscriptions --tag env=prod --query "[?state=='open']" -o json
  - name: What finishes the job in two resource groups.
    text: {cli} aks imds-restriction list --resource-groups rg-a rg-b --query "[].nextCommand" -o tsv
"""


# The rollout's help, written once for both command lines (`cli`: "az" or "az-imds").
ROLLOUT_HELP = """
type: group
short-summary: Enable or disable IMDS restriction across many clusters and subscriptions, in waves, resumably.
long-summary: >
    'rollout start' selects the clusters, shows the plan, then changes them a canary wave first, recording each step
    in a journal; 'rollout status' reports that journal. An interrupted rollout is finished by the same command.
examples:
  - name: Plan a rollout over the production clusters, changing nothing.
    text: {cli} aks imds-restriction rollout start --enable --all-subscriptions --tag env=prod --dry-run
  - name: Where a rollout stands.
    text: {cli} aks imds-restriction rollout status --journal rollout.jsonl -o table
"""
ROLLOUT_START_HELP = """
type: command
short-summary: Plan, then roll out IMDS restriction over the selected clusters, a canary wave first.
long-summary: >
    Lists the clusters of the selected subscriptions and resource groups concurrently (or reads the --ids given),
    keeps those with every --tag, and checks each one as 'aks update' would: the plan on stderr names each
    cluster's state and action, and every blocker with the command that fixes it. Nothing changes before the plan
    is confirmed (--yes skips the prompt; --dry-run stops after the plan). Then each cluster to change gets the
    update and the node-image upgrade of its Linux pools: a canary wave (--canary) that must fully succeed, then
    the rest, --max-parallel at a time; no new cluster starts once --max-failures (default 1) have failed.
    --canary-ids names the canary clusters; --pause-after-canary stops after them. Blocked clusters
    are left as they are. The result lists every cluster with how it ended. Exit codes: 0 when every selected
    cluster is done (a dry run: when none is blocked), 1 otherwise, 2 usage error, 3 subscription or resource
    group not found. An interrupted or failed rollout is finished by running the same command again.
examples:
  - name: See what enabling it on every production cluster of two subscriptions would do.
    text: {cli} aks imds-restriction rollout start --enable --subscriptions 00000000-0000-0000-0000-000000000000 Contoso-Prod --tag env=prod --dry-run
  - name: Roll it out, one canary then ten at a time, stopping after three failures, with a journal.
    text: {cli} aks imds-restriction rollout start --enable --all-subscriptions --canary 1 --max-parallel 10 --max-failures 3 --journal rollout.jsonl --yes
  - name: Enable it on a named canary cluster and stop; the same command, run again the next day, does the rest.
    text: {cli} aks imds-restriction rollout start --enable --tag env=prod --canary-ids /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-canary --pause-after-canary --journal rollout.jsonl --yes
  - name: Roll it out to two clusters named by resource ID, with JSON output.
    text: {cli} aks imds-restriction rollout start --enable --ids /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1 /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks2 --yes -o json
"""
ROLLOUT_STATUS_HELP = """
type: command
short-summary: Report a rollout from its journal, cluster by cluster, without calling Azure.
long-summary: Exit code 0 when every cluster in the journal is done, 1 otherwise.
examples:
  - name: Which clusters are done, blocked or failed, and why.
    text: {cli} aks imds-restriction rollout status --journal rollout.jsonl -o table
"""
