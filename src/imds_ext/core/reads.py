"""Reading what the flow decides on: the cluster, the feature and provider registrations, the cluster's extensions,
the readiness report, and waiting for an operation already in flight on the cluster or its pools."""
from __future__ import annotations

import functools
from typing import Dict, List, Optional, Sequence

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from imds_ext.core import constants, marker, netpolicy_flow, plan as planning, preflight, scan
from imds_ext.core.access import kube_client
from imds_ext.core.cluster import (agent_pools, busy_pools, is_in_progress, is_restricted, node_count,
                                   oidc_issuer_enabled, pod_link_local_access, provisioning_state,
                                   workload_identity_enabled)
from imds_ext.core.clients import ArmWork
from imds_ext.core.errors import ImdsExtError, ResourceNotFound, service_message
from imds_ext.core.headers import names_feature
from imds_ext.core.polling import wait_all, watch


def reimage_due(mc) -> List[str]:
    """The Linux pools that, by imds-ext's record (core/marker.py), are still to reimage for the cluster's
    setting: the nodes of the others enforce it. `show` and `list` tell the effective state from it."""
    return marker.due(mc.get("tags"), pod_link_local_access(mc),
                      [p.get("name") for p in agent_pools(mc) if (p.get("osType") or "Linux").lower() == "linux"])


class ClusterReads(ArmWork):
    name_subscription = False  # whether the commands we tell name --subscription (a flow in one of several)

    # -- reads ---------------------------------------------------------------------------------------
    def get_cluster(self, resource_group: str, name: str):
        try:
            return self._aks.managed_clusters.get(resource_group, name)
        except ResourceNotFoundError as ex:
            raise ResourceNotFound(service_message(ex)) from ex

    def feature_state(self) -> Optional[str]:
        return self.clients.memo.get("feature", self._read_feature_state)

    def _read_feature_state(self) -> Optional[str]:
        try:
            feature = self.clients.features.features.get(constants.CONTAINER_SERVICE_NAMESPACE,
                                                         constants.FEATURE_NAME)
        except ResourceNotFoundError:
            return "NotRegistered"
        return (feature.properties.state if feature.properties else None) or "NotRegistered"

    def provider_state(self, namespace: str = constants.CONTAINER_SERVICE_NAMESPACE) -> Optional[str]:
        return self.clients.memo.get(("provider", namespace.lower()), lambda: self.clients.resources.providers.get(
            namespace).registration_state)

    def list_extensions(self, cluster_id: str) -> List[dict]:
        return self.clients.memo.get(("extensions", cluster_id.lower()), lambda: self._read_extensions(cluster_id))

    def _read_extensions(self, cluster_id: str) -> List[dict]:
        """Cluster extensions, through the SDK pipeline (auth, retries) of the container service client.

        az's core does not ship the KubernetesConfiguration SDK, so a raw request over an SDK client's
        `send_request` keeps the extension install free of a second copy of it. Not the resources client:
        the azure-mgmt-resource 24 that az ships makes it a multi-API client, without `send_request`.
        """
        # No registration, no extensions. Asking anyway would make the SDK's pipeline register the provider
        # on the user's subscription (azure-mgmt-core does that on 409 MissingSubscriptionRegistration): a
        # side effect a read must not have.
        namespace = constants.KUBERNETES_CONFIGURATION_NAMESPACE
        if self.provider_state(namespace) in ("NotRegistered", "Unregistered"):
            return []
        url = (f"{cluster_id}/providers/{namespace}/extensions"
               f"?api-version={constants.KUBERNETES_CONFIGURATION_API_VERSION}")
        items: List[dict] = []
        while url:
            response = self._aks.send_request(HttpRequest("GET", url))
            if response.status_code == 404:
                return items
            response.raise_for_status()
            page = response.json()
            items += page.get("value", [])
            url = page.get("nextLink")
        return items

    def environment(self, cluster, headers: Dict[str, str], enable_oidc_issuer: bool = False):
        return preflight.Environment(
            feature_state=self.feature_state(),
            provider_state=self.provider_state(),
            extensions=self.list_extensions(cluster["id"]) if cluster.get("id") else [],
            custom_feature_header=names_feature(headers),
            enable_oidc_issuer=enable_oidc_issuer,
            cli=self.ui.cli_name,
            subscription=self.clients.settings.subscription_id if self.name_subscription else None,
        )

    def report(self, resource_group: str, name: str) -> dict:
        """Everything `aks imds-restriction show` tells: the effective state (the setting, and whether the nodes
        were reimaged since by imds-ext's record), readiness, and what enable/disable would do."""
        mc = self.get_cluster(resource_group, name)
        env = self.environment(mc, {})
        enable = preflight.check_enable(mc, env, resource_group, name)
        props = mc.get("properties") or {}
        setting = pod_link_local_access(mc)
        due = reimage_due(mc)
        workload_scan = self._scan_summary(resource_group, name)
        blockers = [b.to_dict() for b in enable.blockers]
        breaks = workload_scan.get("breaks") or 0
        if breaks:
            scan_command = f"{self.ui.cli_name} aks imds-restriction scan -g {resource_group} -n {name}"
            blockers.append(preflight.Finding(
                "WorkloadsWouldBreak", f"{breaks} workload(s) take tokens from IMDS and would break: "
                + "; ".join(workload_scan["breaking"][-breaks:]),
                f"move them to Microsoft Entra Workload ID ('{scan_command}' gives each one's fix)").to_dict())
        return {
            "name": mc.get("name", name),
            "resourceGroup": resource_group,
            "podLinkLocalAccess": setting,
            "setting": setting,
            "restricted": is_restricted(mc) and not due,
            "reimageDue": due,
            "nextCommand": self._upgrade_command(resource_group, name) if due else None,
            "provisioningState": props.get("provisioningState"),
            "feature": {"name": constants.FEATURE_ID, "state": env.feature_state},
            "provider": {"namespace": constants.CONTAINER_SERVICE_NAMESPACE,
                         "registrationState": env.provider_state},
            "oidcIssuer": {"enabled": oidc_issuer_enabled(mc)},
            "workloadIdentity": {"enabled": workload_identity_enabled(mc)},
            "pools": [{"name": p.get("name"), "osType": p.get("osType") or "Linux", "type": p.get("type"),
                       "mode": p.get("mode"), "count": node_count(p),
                       "nodeImageVersion": p.get("nodeImageVersion"),
                       "provisioningState": p.get("provisioningState")} for p in agent_pools(mc)],
            "extensions": [{"name": e.get("name"), "extensionType": (e.get("properties") or {}).get("extensionType")}
                           for e in env.extensions],
            "canEnable": enable.ok and not breaks,
            "blockers": blockers,
            "warnings": [w.to_dict() for w in enable.warnings],
            "ifEnabled": planning.make_plan(mc, resource_group, name, True).to_dict(),
            "ifDisabled": planning.make_plan(mc, resource_group, name, False).to_dict(),
            "workloadScan": workload_scan,
            "note": "restricted: podLinkLocalAccess is None and, by imds-ext's record (the cluster's tag "
                    f"{marker.TAG}), no node-image upgrade is due since it was set. A setting changed by another tool "
                    "leaves no record; 'aks imds-restriction verify' proves, node by node, what the nodes enforce.",
        }

    def _scan_summary(self, resource_group: str, name: str) -> dict:
        """Whether the workload scan could run (the API server reachable, credentials granted) and what it found."""
        try:
            result = self.scan(resource_group, name, fail_on_breaks=False)
        except (ImdsExtError, AzureError) as ex:
            return {"possible": False, "reason": service_message(ex)}
        return {"possible": True, **result["summary"], "breaking": scan.breaking(result),
                "warnings": result["warnings"]}

    # -- waiting for what is in flight ---------------------------------------------------------------------
    def settle(self, resource_group: str, name: str):
        """The cluster once no operation runs on it or its pools (one started elsewhere, or by an earlier run that
        was interrupted or lost its answer), and the pools that were being reimaged meanwhile."""
        mc = self.get_cluster(resource_group, name)
        reimaged = set()
        while True:
            state, busy = provisioning_state(mc), busy_pools(mc)
            if not is_in_progress(state) and not busy:
                return mc, reimaged
            reimaged |= {p.get("name") for p in agent_pools(mc)
                         if (p.get("provisioningState") or "").lower() == "upgradingnodeimageversion"}
            what = f"cluster '{name}' is {state}" if is_in_progress(state) else \
                f"node pool(s) {', '.join(busy)} of cluster '{name}' are busy"
            self.ui.warn(f"An operation is in progress ({what}); waiting for it to finish before going on.")
            pollers = []
            if is_in_progress(state):
                pollers.append(watch(self._aks._client, functools.partial(  # the SDK's own pipeline client
                    self._aks.managed_clusters.get, resource_group, name)))
            pollers += [watch(self._aks._client, functools.partial(self._aks.agent_pools.get, resource_group, name,
                                                                   pool)) for pool in busy]
            wait_all(self.ui, f"Waiting for the operation in progress on cluster '{name}'", pollers)
            for poller in pollers:
                try:
                    poller.result()
                except HttpResponseError:
                    pass  # it ended Failed: what to do about that is decided on the fresh read below
            mc = self.get_cluster(resource_group, name)

    # -- the workload scan ---------------------------------------------------------------------------
    def scan(self, resource_group: str, name: str, *, admin: bool = False, kubeconfig: Optional[str] = None,
             context: Optional[str] = None, fail_on_breaks: bool = True,
             exempt: Optional[Sequence[str]] = None) -> dict:
        """Classify the cluster's workloads (core/scan.py); WorkloadsWouldBreak, with the whole report, when some
        take tokens from IMDS (unless `fail_on_breaks` is off: the report then says so). `exempt` given: IMDS is
        to be blocked by network policy with those exemptions, so only the covered namespaces' workloads count."""
        mc = self.get_cluster(resource_group, name)
        kube = kube_client(self.clients, resource_group, name, admin, kubeconfig, context, cluster=mc)
        try:
            found = scan.read_cluster(kube)
            if exempt is not None:
                found = netpolicy_flow.covered_only(kube, found, exempt)
        finally:
            kube.close()
        pod_identity = bool(((mc.get("properties") or {}).get("podIdentityProfile") or {}).get("enabled"))
        result = scan.report(name, resource_group, found.workloads, pod_identity, found.warnings)
        lines = scan.breaking(result)
        if lines and fail_on_breaks:
            raise scan.WorkloadsWouldBreak(scan.breaking_message(name, lines), result)
        return result

    def scan_failure(self, resource_group: str, name: str, ex: Exception) -> preflight.Finding:
        """The workload check (the default of every enable) when the scan itself could not run (the API server
        unreachable, the credential refused): one finding for `aks update` and for every cluster of a rollout; it is
        said, never skipped in silence; --force goes on with it as a warning, --skip-workload-check does not scan."""
        return preflight.Finding(
            "ScanFailed", f"The workload scan of cluster '{name}' could not run (it reads the workloads through the "
            f"cluster's API server): {service_message(ex).rstrip('.')}.",
            f"make the cluster's API server reachable from here and run '{self.ui.cli_name} aks imds-restriction scan "
            f"-g {resource_group} -n {name}{self._sub_arg}' (docs/kubernetes-access.md says what it needs), or pass "
            "--skip-workload-check to enable it without the scan")

    # -- the commands we tell the user ---------------------------------------------------------------
    def _upgrade_command(self, resource_group: str, name: str) -> str:
        return f"{self.ui.cli_name} aks upgrade -g {resource_group} -n {name} --node-image-only --yes{self._sub_arg}"

    @property
    def _sub_arg(self) -> str:
        """The commands we tell the user name the subscription when the flow runs in one of several."""
        return f" --subscription {self.clients.settings.subscription_id}" if self.name_subscription else ""
