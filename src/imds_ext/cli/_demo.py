"""`az-imds demo`: the whole job, end to end, on an in-process emulator.

Each step is a real `az-imds` command run through the same CLI a user types, against the emulator over
HTTPS with a real token flow: the workload scan finds a workload that would break, the team moves it to Workload
ID, the scan is clean, enable runs with the workload check and the proof of every node, a probe image the cluster
cannot pull gives an inconclusive verdict that a mirror resolves, and a skipped reimage shows up in `verify`. Part
two rolls it out over a fleet of two subscriptions: the plan, the waves, a blocked cluster
left alone then fixed, the journal. The demo checks each step's outcome and fails loudly if one is wrong.
"""
from __future__ import annotations

import os
import shlex
import sys
from contextlib import contextmanager

from knack.util import CLIError

RG, CLUSTER = "imds-demo-rg", "imds-demo-aks"
MIRROR = "myregistry.azurecr.io/azurelinux/base/core:3.0"  # the probe image, mirrored into the team's registry
SHOW = ("{name:name, provisioningState:provisioningState, podLinkLocalAccess:networkProfile.podLinkLocalAccess, "
        "oidcIssuer:oidcIssuerProfile.enabled, "
        "pools:agentPoolProfiles[].{name:name, nodeImageVersion:nodeImageVersion}}")


@contextmanager
def _environment(values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _Demo:
    def __init__(self, emulator, out):
        self.emulator = emulator
        self.out = out
        self.step = 0

    def say(self, text):
        self.step += 1
        self.out.write(f"\n== {self.step}. {text}\n")
        self.out.flush()

    def run(self, args, expect_exit=0):
        from imds_ext.cli import main

        self.out.write("$ az-imds " + " ".join(shlex.quote(a) for a in args) + "\n")
        self.out.flush()
        code = main(args)
        self.out.flush()
        if code != expect_exit:
            raise CLIError(f"Demo step failed: 'az-imds {' '.join(args)}' exited {code}, expected {expect_exit}.")
        return code

    def nodes(self, expected):
        """What the nodes enforce: only the emulator can tell (ARM does not show it, in Azure either)."""
        from imds_ext.emulator.client import AdminClient

        pools = AdminClient.for_emulator(self.emulator).nodes(RG, CLUSTER)["pools"]
        for name, pool in sorted(pools.items()):
            self.out.write(f"   node pool {name}: nodes enforce podLinkLocalAccess={pool['podLinkLocalAccess']} "
                           f"(image {pool.get('nodeImageVersion')})\n")
        wrong = [n for n, p in pools.items() if p["podLinkLocalAccess"] != expected]
        if wrong:
            raise CLIError(f"Demo check failed: pools {wrong} do not enforce podLinkLocalAccess={expected}.")


LEGACY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "payments", "namespace": "shop"},
          "spec": {"template": {"metadata": {"labels": {"app": "payments", "aadpodidbinding": "payments"}},
                                "spec": {"containers": [{"name": "app", "image": "shop/payments:1"}]}}}}
CLIENT_ID = "2b1e4a47-0000-4000-8000-000000000001"  # of the team's user-assigned identity (made up)
MIGRATED_ACCOUNT = {"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "payments", "namespace": "shop",
                                 "annotations": {"azure.workload.identity/client-id": CLIENT_ID}}}
MIGRATED = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "payments", "namespace": "shop"},
            "spec": {"template": {"metadata": {"labels": {"app": "payments", "azure.workload.identity/use": "true"}},
                                  "spec": {"serviceAccountName": "payments",
                                           "containers": [{"name": "app", "image": "shop/payments:2"}]}}}}


def _move_to_workload_identity(emulator):
    """What the team does by hand (kubectl apply): the workload, moved to Workload ID, through the cluster's API."""
    from imds_ext.core.access import kube_client
    from imds_ext.core.clients import ArmClients, default_credential
    from imds_ext.core.settings import resolve_settings

    clients = ArmClients(resolve_settings(), credential=default_credential(instance_discovery=False))
    kube = kube_client(clients, RG, CLUSTER)
    try:
        kube.delete("/apis/apps/v1/namespaces/shop/deployments/payments")
        kube.create("/api/v1/namespaces/shop/serviceaccounts", MIGRATED_ACCOUNT)
        kube.create("/apis/apps/v1/namespaces/shop/deployments", MIGRATED)
    finally:
        kube.close()
        clients.close()


def run_demo(lro_delay: float = 0.5, out=None) -> None:
    from imds_ext.emulator import Emulator
    from imds_ext.emulator.client import AdminClient

    out = out or sys.stdout
    with Emulator(lro_delay=lro_delay, registration_delay=lro_delay) as emulator, _environment(emulator.env()):
        demo = _Demo(emulator, out)
        out.write(f"Local ARM emulator at {emulator.arm_endpoint} (HTTPS, CA {emulator.ca_bundle_path}).\n")
        demo.say("Create a resource group and an AKS cluster with the OIDC issuer and workload identity.")
        demo.run(["group", "create", "-n", RG, "-l", "westus2", "--query", "{name:name, location:location}"])
        demo.run(["aks", "create", "-g", RG, "-n", CLUSTER, "--node-count", "3", "--enable-oidc-issuer",
                  "--enable-workload-identity", "--yes", "--query", SHOW])

        demo.say("A team's workload still gets its Azure token from IMDS (aad-pod-identity). What would break?")
        AdminClient.for_emulator(emulator).seed(kubernetes=[{"resourceGroup": RG, "cluster": CLUSTER,
                                                             "objects": [LEGACY]}])
        demo.run(["aks", "imds-restriction", "scan", "-g", RG, "-n", CLUSTER], expect_exit=4)

        demo.say("The team moves it to Microsoft Entra Workload ID; the scan is clean.")
        _move_to_workload_identity(emulator)
        demo.run(["aks", "imds-restriction", "scan", "-g", RG, "-n", CLUSTER, "-o", "table"])

        demo.say("Is the cluster ready for IMDS restriction?")
        demo.run(["aks", "imds-restriction", "show", "-g", RG, "-n", CLUSTER, "--query",
                  "{restricted:restricted, canEnable:canEnable, blockers:blockers[].message}"])

        demo.say("Try to enable it: refused before any change, naming the blocker and its fix.")
        demo.run(["aks", "update", "-g", RG, "-n", CLUSTER, "--enable-imds-restriction", "--yes"], expect_exit=1)

        demo.say("Register the preview feature, then re-register the provider to propagate it.")
        demo.run(["feature", "register", "--namespace", "Microsoft.ContainerService", "--name",
                  "IMDSRestrictionPreview", "--wait", "--query", "{name:name, state:properties.state}"])
        demo.run(["provider", "register", "--namespace", "Microsoft.ContainerService", "--wait"])

        demo.say("Enable IMDS restriction: workload check, preflight, ETag-guarded update, a node-image upgrade of "
                 "every pool, then proof, node by node, that every node enforces it.")
        demo.run(["aks", "update", "-g", RG, "-n", CLUSTER, "--enable-imds-restriction", "--check-workloads",
                  "--verify", "--yes", "--query", SHOW])
        demo.nodes(expected="None")

        demo.say("Lock the cluster's egress down to the team's own registry. verify's default probe image (on "
                 "mcr.microsoft.com) is then not pulled: every node is inconclusive, with the fix, and no reimage "
                 "is asked for.")
        admin = AdminClient.for_emulator(emulator)
        admin.seed(kubernetes=[{"resourceGroup": RG, "cluster": CLUSTER,
                                "facts": {"registries": [MIRROR.split("/")[0]]}}])
        demo.run(["aks", "imds-restriction", "verify", "-g", RG, "-n", CLUSTER, "-o", "table"], expect_exit=1)
        demo.say("With the probe image mirrored into that registry (docs/kubernetes-access.md), verify proves "
                 "every node again.")
        demo.run(["aks", "imds-restriction", "verify", "-g", RG, "-n", CLUSTER, "--probe-image", MIRROR,
                  "-o", "table"])
        admin.seed(kubernetes=[{"resourceGroup": RG, "cluster": CLUSTER, "facts": {"registries": None}}])

        demo.say("Disable it, deferring the reimage: verify shows the nodes still enforce the old setting...")
        demo.run(["aks", "update", "-g", RG, "-n", CLUSTER, "--disable-imds-restriction", "--skip-node-image-upgrade",
                  "--yes", "--query", "networkProfile.podLinkLocalAccess"])
        demo.run(["aks", "imds-restriction", "verify", "-g", RG, "-n", CLUSTER], expect_exit=1)

        demo.say("...until the node-image-only upgrade runs; verify then proves it.")
        demo.run(["aks", "upgrade", "-g", RG, "-n", CLUSTER, "--node-image-only", "--verify", "--yes", "--query",
                  SHOW])
        demo.nodes(expected="IMDS")

        _fleet(demo, emulator)
        _network_policy(demo, emulator)
        out.write("\nDone: every step behaved as expected.\n")


PROD = "11111111-1111-1111-1111-111111111111"  # a second subscription the demo's identity sees
FLEET = [("00000000-0000-0000-0000-000000000000", "team-a", "shop-eu", True),
         ("00000000-0000-0000-0000-000000000000", "team-a", "shop-us", True),
         ("00000000-0000-0000-0000-000000000000", "team-b", "search", False),  # its OIDC issuer is off
         (PROD, "payments", "pay-eu", True), (PROD, "payments", "pay-us", True)]


def _fleet_body(name: str, oidc: bool) -> dict:
    return {"location": "westus2", "tags": {"env": "prod"}, "identity": {"type": "SystemAssigned"},
            "properties": {"dnsPrefix": name, "kubernetesVersion": "1.33.1", "oidcIssuerProfile": {"enabled": oidc},
                           "securityProfile": {"workloadIdentity": {"enabled": True}},
                           "agentPoolProfiles": [{"name": pool, "count": 2, "vmSize": "Standard_DS2_v2",
                                                  "osType": "Linux", "mode": mode}
                                                 for pool, mode in (("system", "System"), ("user", "User"))]}}


def _fleet(demo, emulator) -> None:
    """Part two: the production clusters of two subscriptions, planned, rolled out in waves, one blocked until
    fixed, the journal telling the story."""
    import tempfile

    from imds_ext.emulator.client import AdminClient

    AdminClient.for_emulator(emulator).seed(
        subscriptions=[{"subscriptionId": PROD, "displayName": "Contoso Prod",
                        "features": {"Microsoft.ContainerService/IMDSRestrictionPreview": "Registered"}}],
        resourceGroups=[{"name": g, "location": "westus2", "subscription": s} for s, g in {(s, g) for s, g, _, _ in
                                                                                          FLEET}],
        clusters=[{"subscription": s, "resourceGroup": g, "name": n, "cluster": _fleet_body(n, oidc)}
                  for s, g, n, oidc in FLEET])
    with tempfile.TemporaryDirectory() as folder:
        journal = f"{folder}/rollout.jsonl"
        rollout = ["aks", "imds-restriction", "rollout", "start", "--enable", "--all-subscriptions", "--tag",
                   "env=prod", "--canary", "1", "--max-parallel", "4", "--journal", journal]
        demo.say("A fleet: the production clusters of two subscriptions. What would enabling it everywhere do?")
        demo.run(rollout + ["--dry-run", "-o", "table"], expect_exit=1)
        demo.say("Roll it out: a canary cluster first, then the rest four at a time; the blocked one is left alone.")
        demo.run(rollout + ["--yes", "-o", "table"], expect_exit=1)
        demo.say("Fix the blocker (turn the OIDC issuer on with the same run) and run the same command again: the "
                 "done clusters are skipped, the rest is finished.")
        demo.run(rollout + ["--enable-oidc-issuer", "--yes", "-o", "table"])
        demo.say("The journal tells every cluster's story.")
        demo.run(["aks", "imds-restriction", "rollout", "status", "--journal", journal, "-o", "table"])


def _network_policy(demo, emulator) -> None:
    """Part three (issue 19): a cluster the managed setting refuses (Container Insights on a Cilium cluster),
    protected by network policy and proved by the same verify."""
    from imds_ext.emulator.client import AdminClient

    body = _fleet_body("insights", True)
    body["properties"]["networkProfile"] = {"networkPlugin": "azure", "networkPluginMode": "overlay",
                                            "networkDataplane": "cilium"}
    body["properties"]["addonProfiles"] = {"omsagent": {"enabled": True, "config": {
        "logAnalyticsWorkspaceResourceID": "/subscriptions/x/resourceGroups/x/providers/"
                                           "Microsoft.OperationalInsights/workspaces/x"}}}
    AdminClient.for_emulator(emulator).seed(
        clusters=[{"resourceGroup": RG, "name": "insights", "cluster": body}],
        kubernetes=[{"resourceGroup": RG, "cluster": "insights",
                     "objects": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}]}])
    target = ["-g", RG, "-n", "insights"]
    demo.say("A cluster with Container Insights: the managed restriction refuses it, and nobody turns monitoring "
             "off to close IMDS.")
    demo.run(["aks", "update", *target, "--enable-imds-restriction", "--yes"], expect_exit=1)
    demo.say("Its dataplane is Cilium: one cluster-wide deny of 169.254.169.254/32, kube-system (where the "
             "monitoring agents run) exempt.")
    demo.run(["aks", "imds-restriction", "network-policy", "apply", *target, "--yes", "-o", "table"])
    demo.say("verify proves it with the same probes: enforced in a covered namespace, and IMDS still answers an "
             "exempt one.")
    demo.run(["aks", "imds-restriction", "verify", *target, "--query",
              "{mechanism:mechanism, verdicts:nodes[].verdict, exempt:exemptProbe.verdict}"])
