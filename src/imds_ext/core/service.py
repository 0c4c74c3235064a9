"""The IMDS restriction flow over the Azure SDKs: read, preflight, confirm, patch, wait, reimage.

The command lines (`imds_ext.cli`, `azext_imds`) supply an `Interaction` (prompts, progress, messages) and an
`ArmClients`; this module knows nothing else about them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from imds_ext.core import constants, plan as planning, preflight
from imds_ext.core.cluster import (agent_pools, is_restricted, oidc_issuer_enabled, pod_link_local_access,
                                   workload_identity_enabled)
from imds_ext.core.clients import ArmClients
from imds_ext.core.errors import (Cancelled, ConcurrentModification, ImdsExtError, PreflightFailed,
                                  ResourceNotFound, ServiceIgnoredChange, service_message)
from imds_ext.core.headers import names_feature
from imds_ext.core.interaction import Interaction

MAX_ETAG_ATTEMPTS = 3


@dataclass
class UpdateOutcome:
    cluster: Optional[dict]  # the cluster at the end (None with --no-wait)
    next_step: Optional[str] = None  # the command that completes the job, when we stopped early


class ImdsRestrictionService:
    def __init__(self, clients: ArmClients, ui: Interaction):
        self.clients = clients
        self.ui = ui

    # -- reads ---------------------------------------------------------------------------------------
    @property
    def _aks(self):
        return self.clients.container_service

    def get_cluster(self, resource_group: str, name: str):
        try:
            return self._aks.managed_clusters.get(resource_group, name)
        except ResourceNotFoundError as ex:
            raise ResourceNotFound(service_message(ex)) from ex

    def feature_state(self) -> Optional[str]:
        try:
            feature = self.clients.features.features.get(constants.CONTAINER_SERVICE_NAMESPACE,
                                                         constants.FEATURE_NAME)
        except ResourceNotFoundError:
            return "NotRegistered"
        return (feature.properties.state if feature.properties else None) or "NotRegistered"

    def provider_state(self) -> Optional[str]:
        provider = self.clients.resources.providers.get(constants.CONTAINER_SERVICE_NAMESPACE)
        return provider.registration_state

    def list_extensions(self, cluster_id: str) -> List[dict]:
        """Cluster extensions, through the SDK pipeline (auth, retries) of the container service client.

        az's core does not ship the KubernetesConfiguration SDK, so a raw request over an SDK client's
        `send_request` keeps the extension install free of a second copy of it. Not the resources client:
        the azure-mgmt-resource 24 that az ships makes it a multi-API client, without `send_request`.
        """
        # No registration, no extensions. Asking anyway would make the SDK's pipeline register the provider
        # on the user's subscription (azure-mgmt-core does that on 409 MissingSubscriptionRegistration): a
        # side effect a read must not have.
        namespace = constants.KUBERNETES_CONFIGURATION_NAMESPACE
        if self.clients.resources.providers.get(namespace).registration_state in ("NotRegistered", "Unregistered"):
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
        )

    def report(self, resource_group: str, name: str) -> dict:
        """Everything `aks imds-restriction show` tells: state, readiness, and what enable/disable would do."""
        mc = self.get_cluster(resource_group, name)
        env = self.environment(mc, {})
        enable = preflight.check_enable(mc, env, resource_group, name)
        props = mc.get("properties") or {}
        return {
            "name": mc.get("name", name),
            "resourceGroup": resource_group,
            "podLinkLocalAccess": pod_link_local_access(mc),
            "restricted": is_restricted(mc),
            "provisioningState": props.get("provisioningState"),
            "feature": {"name": constants.FEATURE_ID, "state": env.feature_state},
            "provider": {"namespace": constants.CONTAINER_SERVICE_NAMESPACE,
                         "registrationState": env.provider_state},
            "oidcIssuer": {"enabled": oidc_issuer_enabled(mc)},
            "workloadIdentity": {"enabled": workload_identity_enabled(mc)},
            "pools": [{"name": p.get("name"), "osType": p.get("osType") or "Linux", "type": p.get("type"),
                       "mode": p.get("mode"), "count": p.get("count"),
                       "nodeImageVersion": p.get("nodeImageVersion"),
                       "provisioningState": p.get("provisioningState")} for p in agent_pools(mc)],
            "extensions": [{"name": e.get("name"), "extensionType": (e.get("properties") or {}).get("extensionType")}
                           for e in env.extensions],
            "canEnable": enable.ok,
            "blockers": [b.to_dict() for b in enable.blockers],
            "warnings": [w.to_dict() for w in enable.warnings],
            "ifEnabled": planning.make_plan(mc, resource_group, name, True).to_dict(),
            "ifDisabled": planning.make_plan(mc, resource_group, name, False).to_dict(),
            "note": "Nodes enforce a change only after a node-image upgrade; ARM does not show which "
                    "nodes enforce it.",
        }

    # -- the update flow -----------------------------------------------------------------------------
    def set_restriction(self, resource_group: str, name: str, enable: bool, *, enable_oidc_issuer=False,
                        headers: Optional[Dict[str, str]] = None, if_match: Optional[str] = None,
                        yes=False, no_wait=False, reimage=True) -> UpdateOutcome:
        headers = dict(headers or {})
        action = "enable IMDS restriction" if enable else "disable IMDS restriction"
        confirmed = yes
        for attempt in range(1, MAX_ETAG_ATTEMPTS + 1):
            mc = self.get_cluster(resource_group, name)
            plan = planning.make_plan(mc, resource_group, name, enable, enable_oidc_issuer)
            if not plan.changes_cluster:
                self.ui.warn(f"IMDS restriction is already {'enabled' if enable else 'disabled'} on cluster "
                             f"'{name}'; no change was made. If its nodes were not reimaged since the setting "
                             f"changed, run '{self._upgrade_command(resource_group, name)}'.")
                return UpdateOutcome(mc)
            env = self.environment(mc, headers, enable_oidc_issuer) if enable else preflight.Environment()
            check = (preflight.check_enable if enable else preflight.check_disable)(mc, env, resource_group, name)
            if not check.ok:
                raise PreflightFailed(preflight.format_blockers(check, action), check.blockers)
            for warning in check.warnings:
                self.ui.warn(f"{warning.message} Fix: {warning.fix}")
            if not confirmed:
                question = plan.describe() + ("" if reimage else "\nThe nodes will NOT be reimaged now.")
                if not self.ui.confirm(question + "\nProceed?"):
                    raise Cancelled("Cancelled: no change was made.")
                confirmed = True
            planning.apply(mc, plan)
            try:
                poller = self._aks.managed_clusters.begin_create_or_update(
                    resource_group, name, mc, etag=if_match or mc.get("eTag"),
                    match_condition=MatchConditions.IfNotModified, headers=headers, polling=not no_wait)
            except HttpResponseError as ex:
                if ex.status_code != 412:
                    raise
                if if_match:
                    raise ImdsExtError(f"The cluster's ETag is no longer '{if_match}': it changed since you read "
                                       "it. Nothing was changed. " + service_message(ex)) from ex
                self.ui.warn(f"Cluster '{name}' changed while we were updating it (attempt {attempt} of "
                             f"{MAX_ETAG_ATTEMPTS}); reading it again.")
                continue
            break
        else:
            raise ConcurrentModification(
                f"Cluster '{name}' kept changing under us ({MAX_ETAG_ATTEMPTS} ETag mismatches); nothing was "
                "overwritten. Try again once other changes have finished.")

        finish = self._upgrade_command(resource_group, name)
        if no_wait:
            return UpdateOutcome(None, next_step=(
                f"When the update has finished, run '{finish}' so the nodes enforce the change."))
        self.ui.wait(f"Updating cluster '{name}'", [poller])
        result = poller.result()
        if pod_link_local_access(result) != plan.desired:
            raise ServiceIgnoredChange(
                f"The service accepted the update but the cluster reports podLinkLocalAccess="
                f"'{pod_link_local_access(result)}', not '{plan.desired}'. The AKS api-version in use "
                "must be a preview that has the field (2024-04-02-preview or later); check AZIMDS_AKS_API_VERSION.")
        if not reimage:
            return UpdateOutcome(result, next_step=(
                f"The nodes do not enforce the change until they are reimaged: run '{finish}'."))
        return UpdateOutcome(self.upgrade_node_images(resource_group, name, [p.name for p in plan.reimage]))

    # -- node images -----------------------------------------------------------------------------------
    def _upgrade_command(self, resource_group: str, name: str) -> str:
        return f"{self.ui.cli_name} aks upgrade -g {resource_group} -n {name} --node-image-only --yes"

    def upgrade_cluster_node_images(self, resource_group: str, name: str, *, yes=False, no_wait=False):
        """`aks upgrade --node-image-only`: every pool, as az does, after a confirmation unless `yes`."""
        pools = [p.get("name") for p in agent_pools(self.get_cluster(resource_group, name))]
        if not yes and not self.ui.confirm(
                f"Since node_image_only is set, only the node image of the {len(pools)} pool(s) of cluster '{name}' "
                f"({', '.join(pools)}) will be upgraded; their nodes are reimaged. Proceed?"):
            raise Cancelled("Cancelled: no change was made.")
        return self.upgrade_node_images(resource_group, name, pools, no_wait=no_wait)

    def upgrade_node_images(self, resource_group: str, name: str, pools: List[str], no_wait: bool = False):
        """Node-image-only upgrade of `pools`, all at once; then the cluster."""
        pollers = {}
        failures = []
        for pool in pools:
            try:
                pollers[pool] = self._aks.agent_pools.begin_upgrade_node_image_version(
                    resource_group, name, pool, polling=not no_wait)
            except HttpResponseError as ex:
                failures.append(f"{pool}: {service_message(ex)}")
        if not no_wait:
            # Each poller polls on its own thread, so the pools upgrade concurrently.
            self.ui.wait(f"Upgrading the node image of {len(pollers)} pool(s): {', '.join(pollers)}",
                         list(pollers.values()))
            for pool, poller in pollers.items():
                try:
                    poller.result()
                except HttpResponseError as ex:
                    failures.append(f"{pool}: {service_message(ex)}")
        if failures:
            raise ImdsExtError("Node image upgrade failed for " + "; ".join(failures) +
                               f". Retry with '{self._upgrade_command(resource_group, name)}'.")
        return self.get_cluster(resource_group, name)

    def upgrade_pool(self, resource_group: str, cluster: str, pool: str, no_wait: bool = False):
        try:
            poller = self._aks.agent_pools.begin_upgrade_node_image_version(resource_group, cluster, pool,
                                                                            polling=not no_wait)
        except ResourceNotFoundError as ex:
            raise ResourceNotFound(service_message(ex)) from ex
        if no_wait:
            return None
        self.ui.wait(f"Upgrading the node image of pool '{pool}'", [poller])
        poller.result()
        return self._aks.agent_pools.get(resource_group, cluster, pool)

    # -- create ------------------------------------------------------------------------------------------
    def check_create(self, resource_group: str, name: str, body, *, enable_imds_restriction=False,
                     headers: Optional[Dict[str, str]] = None) -> None:
        """Everything before the create PUT: the cluster must not exist, and, for IMDS restriction, preflight
        over the body about to be sent. `azext_imds` calls it on the body az's own `aks create` built."""
        try:
            self._aks.managed_clusters.get(resource_group, name)
        except ResourceNotFoundError:
            pass
        else:
            raise ImdsExtError(f"Cluster '{name}' already exists in resource group '{resource_group}'. Use "
                               f"'{self.ui.cli_name} aks update' to change it.")
        if enable_imds_restriction:
            env = preflight.Environment(feature_state=self.feature_state(), provider_state=self.provider_state(),
                                        custom_feature_header=names_feature(dict(headers or {})),
                                        cli=self.ui.cli_name)
            check = preflight.check_create(body, env, resource_group, name)
            if not check.ok:
                raise PreflightFailed(preflight.format_blockers(check, "create the cluster with IMDS restriction"),
                                      check.blockers)
            for warning in check.warnings:
                self.ui.warn(f"{warning.message} Fix: {warning.fix}")

    def create(self, resource_group: str, name: str, body: dict, *, enable_imds_restriction=False,
               headers: Optional[Dict[str, str]] = None, no_wait=False):
        from azure.mgmt.containerservice.models import ManagedCluster

        headers = dict(headers or {})
        self.check_create(resource_group, name, body, enable_imds_restriction=enable_imds_restriction,
                          headers=headers)
        poller = self._aks.managed_clusters.begin_create_or_update(
            resource_group, name, ManagedCluster(body), match_condition=MatchConditions.IfMissing, headers=headers,
            polling=not no_wait)
        if no_wait:
            return None
        self.ui.wait(f"Creating cluster '{name}'", [poller])
        result = poller.result()
        if enable_imds_restriction:
            check_created_restricted(name, result)
        return result


def check_created_restricted(name: str, cluster) -> None:
    """A create that asked for restriction but got a cluster without it is an error, not a success."""
    if not is_restricted(cluster):
        raise ServiceIgnoredChange(f"Cluster '{name}' was created but reports podLinkLocalAccess="
                                   f"'{pod_link_local_access(cluster)}', not 'None'.")
