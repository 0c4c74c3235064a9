"""Help text, in the Azure CLI's YAML help format."""
from knack.help_files import helps

from imds_ext.frontend import flags, netpolicy

helps["aks"] = """
type: group
short-summary: Manage Azure Kubernetes Service clusters' IMDS restriction.
"""

helps["aks create"] = """
type: command
short-summary: Create a managed Kubernetes cluster, optionally with IMDS restriction on from the start.
long-summary: >
    With --enable-imds-restriction the command first checks everything the service would refuse (the
    IMDSRestrictionPreview feature registration, the OIDC issuer, incompatible add-ons) and names each
    blocker with its fix; nothing is created until they are clear. New nodes enforce the restriction, so no
    reimage is needed.
examples:
  - name: Create a cluster whose pods cannot reach IMDS.
    text: az-imds aks create -g MyResourceGroup -n MyManagedCluster --enable-oidc-issuer --enable-imds-restriction --yes
  - name: Use the preview for this request only, without registering the feature on the subscription.
    text: az-imds aks create -g MyResourceGroup -n MyManagedCluster --enable-oidc-issuer --enable-imds-restriction --aks-custom-headers AKSHTTPCustomFeatures=Microsoft.ContainerService/IMDSRestrictionPreview
  - name: Create a plain cluster with three nodes and workload identity.
    text: az-imds aks create -g MyResourceGroup -n MyManagedCluster --node-count 3 --enable-workload-identity
"""

helps["aks update"] = """
type: command
short-summary: Turn IMDS restriction on or off for a cluster and reimage its nodes so it takes effect.
long-summary: >
    Reads the cluster, checks every precondition client-side (feature and provider registration, OIDC
    issuer, Windows or VirtualMachines pools, incompatible add-ons and cluster extensions) and reports every
    blocker with the command that removes it. Then it asks for confirmation (unless --yes), writes the
    cluster back with only the IMDS setting changed (guarded by the cluster's ETag), waits for it, and runs a
    node-image-only upgrade of every Linux pool so the nodes enforce the new setting.
    Without a terminal, --yes is required. Exit codes: 0 success, 1 error or blocker, 2 usage error,
    3 cluster not found.
examples:
  - name: Enable IMDS restriction and reimage the nodes, without prompting.
    text: az-imds aks update -g MyResourceGroup -n MyManagedCluster --enable-imds-restriction --yes
  - name: Enable it and turn the OIDC issuer on in the same update.
    text: az-imds aks update -g MyResourceGroup -n MyManagedCluster --enable-imds-restriction --enable-oidc-issuer --yes
  - name: Disable IMDS restriction but leave the reimage for a maintenance window.
    text: az-imds aks update -g MyResourceGroup -n MyManagedCluster --disable-imds-restriction --skip-node-image-upgrade --yes
  - name: Only proceed if nobody changed the cluster since you read its ETag.
    text: az-imds aks update -g MyResourceGroup -n MyManagedCluster --enable-imds-restriction --if-match 5e5ffdce-8f47-4bf8-9f49-7f2c5e36d6c4 --yes
"""

helps["aks upgrade"] = """
type: command
short-summary: Upgrade the node image of every node pool of a cluster, concurrently, and wait for it.
long-summary: This is what makes an IMDS restriction change take effect on existing nodes.
examples:
  - name: Reimage every pool and wait for it.
    text: az-imds aks upgrade -g MyResourceGroup -n MyManagedCluster --node-image-only --yes
  - name: Start the reimage and return at once.
    text: az-imds aks upgrade -g MyResourceGroup -n MyManagedCluster --node-image-only --yes --no-wait
"""

helps["aks show"] = """
type: command
short-summary: Show the details for a managed Kubernetes cluster.
examples:
  - name: Show the IMDS setting of a cluster.
    text: az-imds aks show -g MyResourceGroup -n MyManagedCluster --query networkProfile.podLinkLocalAccess -o tsv
"""

helps["aks list"] = """
type: command
short-summary: List managed Kubernetes clusters.
examples:
  - name: List the clusters of a resource group as a table.
    text: az-imds aks list -g MyResourceGroup -o table
"""

helps["aks nodepool"] = """
type: group
short-summary: Manage node pools in a managed Kubernetes cluster.
"""

helps["aks nodepool upgrade"] = """
type: command
short-summary: Upgrade the node image of one node pool.
examples:
  - name: Reimage one pool so it enforces the cluster's IMDS setting.
    text: az-imds aks nodepool upgrade -g MyResourceGroup --cluster-name MyManagedCluster -n nodepool1 --node-image-only
"""

helps["aks imds-restriction"] = """
type: group
short-summary: Inspect IMDS restriction on a cluster.
"""

helps["aks imds-restriction show"] = """
type: command
short-summary: Show the IMDS restriction state of a cluster and whether it can be enabled.
long-summary: >
    Reports the effective state: the setting (podLinkLocalAccess), whether it is restricted (the setting is
    None and, by imds-ext's record on the cluster, no node-image upgrade is due), the pools still due and the
    command that finishes the job; the feature and provider registration, OIDC issuer and workload identity,
    every node pool, every blocker with the command that removes it (workloads the scan finds breaking among
    them), warnings, and what an enable or a disable would do.
examples:
  - name: Is this cluster ready for IMDS restriction?
    text: az-imds aks imds-restriction show -g MyResourceGroup -n MyManagedCluster --query "{ready:canEnable, blockers:blockers[].message}"
"""

helps["feature"] = """
type: group
short-summary: Manage resource provider features.
"""

helps["feature register"] = """
type: command
short-summary: Register a preview feature.
examples:
  - name: Register the IMDS restriction preview and wait until it is Registered.
    text: az-imds feature register --namespace Microsoft.ContainerService --name IMDSRestrictionPreview --wait
"""

helps["feature unregister"] = """
type: command
short-summary: Unregister a preview feature.
examples:
  - name: Unregister the IMDS restriction preview.
    text: az-imds feature unregister --namespace Microsoft.ContainerService --name IMDSRestrictionPreview
"""

helps["feature show"] = """
type: command
short-summary: Get the details of a feature.
examples:
  - name: Show the registration state of the IMDS restriction preview.
    text: az-imds feature show --namespace Microsoft.ContainerService --name IMDSRestrictionPreview --query properties.state -o tsv
"""

helps["feature list"] = """
type: command
short-summary: List preview features.
examples:
  - name: List the AKS preview features.
    text: az-imds feature list --namespace Microsoft.ContainerService -o table
"""

helps["provider"] = """
type: group
short-summary: Manage resource providers.
"""

helps["provider register"] = """
type: command
short-summary: Register a provider (also what propagates a feature registration).
examples:
  - name: Re-register Microsoft.ContainerService and wait for it.
    text: az-imds provider register --namespace Microsoft.ContainerService --wait
"""

helps["provider unregister"] = """
type: command
short-summary: Unregister a provider.
examples:
  - name: Unregister a provider.
    text: az-imds provider unregister --namespace Microsoft.ContainerService
"""

helps["provider show"] = """
type: command
short-summary: Gets the specified resource provider.
examples:
  - name: Show the registration state of Microsoft.ContainerService.
    text: az-imds provider show --namespace Microsoft.ContainerService --query registrationState -o tsv
"""

helps["group"] = """
type: group
short-summary: Manage resource groups.
"""

helps["group create"] = """
type: command
short-summary: Create a new resource group.
examples:
  - name: Create a resource group in West US 2.
    text: az-imds group create -n MyResourceGroup -l westus2
"""

helps["group show"] = """
type: command
short-summary: Gets a resource group.
examples:
  - name: Show a resource group.
    text: az-imds group show -n MyResourceGroup
"""

helps["emulator"] = """
type: group
short-summary: Run the local ARM emulator (AKS, features, providers) that stands in for Azure.
"""

helps["emulator start"] = """
type: command
short-summary: Run the emulator in the foreground until Ctrl+C (SIGINT) or SIGTERM.
long-summary: >
    Serves HTTPS on loopback with a CA it generates, and Microsoft Entra token endpoints with a
    well-known service principal. Once ready it writes the env file; source it and every az-imds command
    talks to the emulator.
examples:
  - name: Start it, then use it from another shell.
    text: |
        az-imds emulator start --port 8443 --env-file ./emulator.env
        . ./emulator.env && az-imds aks list
  - name: Keep state across restarts, with fast operations.
    text: az-imds emulator start --state-file ./emulator-state.json --lro-delay 0 --registration-delay 0
"""

helps["demo"] = """
type: command
short-summary: Walk through the whole IMDS restriction job on an in-process emulator, step by step.
examples:
  - name: Run the demo.
    text: az-imds demo
"""

helps["aks imds-restriction verify"] = """
type: command
short-summary: Prove, node by node, that the nodes enforce the IMDS setting.
long-summary: >
    On every Linux node (or --sample N per pool) a pod-network probe tries IMDS and the cluster's API service,
    and a host-network control tries IMDS, with short timeouts (two DaemonSets limited to those nodes, in a
    namespace of their own, with no service-account token, non-root, no capability, small limits). A node is
    "enforced" when IMDS timed out for the pod while the API service and the host-network control answered;
    "open" when IMDS answered the pod; "inconclusive" otherwise, with the reason (image not pulled, refused by
    admission, not scheduled, NotReady, curl missing, killed, no pod egress), which never counts as a pass and
    never calls for a reimage. Windows and virtual nodes are listed as not probed. The namespace is removed on
    every ending; one a killed run left is removed by the next run. With --kubeconfig, its server must be the
    named cluster's own. Exit codes: 0 every probed node has the verdict the setting expects (and at least one
    node was probed), 1 otherwise (the report on stdout, each node named on stderr), 3 cluster not found.
    Permissions and the probe image: docs/kubernetes-access.md.
examples:
  - name: Verify every node.
    text: az-imds aks imds-restriction verify -g MyResourceGroup -n MyManagedCluster
  - name: Two nodes per pool, the probe image mirrored into a private registry.
    text: az-imds aks imds-restriction verify -g MyResourceGroup -n MyManagedCluster --sample 2 --probe-image myregistry.azurecr.io/azurelinux/base/core:3.0
"""

helps["aks imds-restriction list"] = flags.LIST_HELP.format(cli="az-imds")

helps["aks imds-restriction rollout"] = flags.ROLLOUT_HELP.format(cli="az-imds")
helps["aks imds-restriction rollout start"] = flags.ROLLOUT_START_HELP.format(cli="az-imds")
helps["aks imds-restriction rollout status"] = flags.ROLLOUT_STATUS_HELP.format(cli="az-imds")

helps["aks imds-restriction scan"] = """
type: command
short-summary: Find the workloads that lose their Azure tokens when IMDS restriction is on.
long-summary: >
    Reads every pod through the cluster's Kubernetes API, a page at a time, each counted for its top-level owner
    of any kind (a Deployment, an Argo Rollout, a KEDA ScaledJob, a CI runner), and the pod templates of
    Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and bare ReplicaSets with no pod running, and
    classifies each workload by the worst of them: "breaks" (bound to aad-pod-identity, or mounting a Key Vault
    SecretProviderClass with useVMManagedIdentity or usePodIdentity), "at risk" (an Azure identity setting such
    as AZURE_CLIENT_ID without Workload ID, set in env or in a ConfigMap through envFrom, or possibly behind a
    Secret, which the scan never reads), "unaffected" (host network, Workload ID, or no sign of IMDS use), with
    the evidence and the fix. What the credential may not read is a warning. Nothing in the cluster changes.
    The report is the output whatever the verdict. Exit codes: 0 nothing breaks, 4 something breaks (each named
    on stderr), 1 the scan failed, 3 cluster not found.
examples:
  - name: Gate a pipeline on the scan, keeping the report.
    text: az-imds aks imds-restriction scan -g MyResourceGroup -n MyManagedCluster -o json > scan.json
"""

helps["config"] = """
type: group
short-summary: Manage az-imds configuration, as 'az config' does for az.
long-summary: >
    The file is 'config' in AZIMDS_CONFIG_DIR (default ~/.az-imds), INI as az's. An environment variable
    AZIMDS_<SECTION>_<KEY> (e.g. AZIMDS_DEFAULTS_GROUP) takes precedence over the file. [defaults] group is the
    default of every --resource-group/-g; [core] output the default of --output.
"""

helps["config set"] = """
type: command
short-summary: Set configurations.
examples:
  - name: Make MyResourceGroup the default of -g, and table the default output.
    text: az-imds config set defaults.group=MyResourceGroup core.output=table
"""

helps["config get"] = """
type: command
short-summary: Get a configuration, a section of them, or all of them.
examples:
  - name: Every configuration, with where each comes from.
    text: az-imds config get
  - name: The default resource group.
    text: az-imds config get defaults.group --query value -o tsv
"""

helps["config unset"] = """
type: command
short-summary: Unset configurations.
examples:
  - name: Stop defaulting -g.
    text: az-imds config unset defaults.group
"""

netpolicy.register_help(helps, "az-imds")
