"""Creating a cluster with IMDS restriction on from the start: the preflight of the body about to be sent, the
create, and the check that the service really restricted it."""
from __future__ import annotations

from typing import Dict, Mapping, Optional

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from imds_ext.core import preflight
from imds_ext.core.cluster import (agent_pools, is_restricted, oidc_issuer_enabled, pod_link_local_access,
                                   properties, provisioning_state, workload_identity_enabled)
from imds_ext.core.errors import ImdsExtError, PreflightFailed, ResourceNotFound, ServiceIgnoredChange, service_message
from imds_ext.core.headers import names_feature
from imds_ext.core.polling import BackoffPolling


class ClusterCreation:
    """Mixed into the service (reads, `settle` and the interaction come from ClusterReads; `_staged`, what an
    interruption or a failure says, from the service)."""

    # -- create ------------------------------------------------------------------------------------------
    def check_create(self, resource_group: str, name: str, body, *, enable_imds_restriction=False,
                     headers: Optional[Dict[str, str]] = None, existing=...) -> None:
        """Everything before the create PUT: the cluster must not exist, and, for IMDS restriction, preflight
        over the body about to be sent. `azext_imds` calls it on the body az's own `aks create` built.
        `existing`: the cluster as just read (None: there is none), when the caller has read it."""
        if existing is ...:
            existing = self._existing(resource_group, name)
        if existing is not None:
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
                self.ui.warn(f"{warning.message} {warning.advice}")

    def create(self, resource_group: str, name: str, body: dict, *, enable_imds_restriction=False,
               headers: Optional[Dict[str, str]] = None, no_wait=False, resume: Optional[str] = None):
        """Create the cluster; run again after a lost answer or an interruption, it finishes the job.

        A cluster that exists already as `body` asks for (this command's own create, whose answer was lost, or an
        earlier run that was interrupted) is waited for and checked, not refused. `resume` is the command the user
        ran, told as the one that finishes the job."""
        from azure.mgmt.containerservice.models import ManagedCluster

        headers = dict(headers or {})
        resume = resume or f"{self.ui.cli_name} aks create -g {resource_group} -n {name}"
        with self._staged(name):
            existing = self._existing(resource_group, name)
            if existing is not None and matches_create(body, existing):
                self.ui.warn(f"Cluster '{name}' already exists as this command creates it (an earlier run's create, "
                             "interrupted or whose answer was lost); waiting for it and checking it.")
                return None if no_wait else self._created(resource_group, name, enable_imds_restriction, resume)
            self.check_create(resource_group, name, body, enable_imds_restriction=enable_imds_restriction,
                              headers=headers, existing=existing)
            self._stage = _accepted(name, resume, "may have reached the service")
            try:
                poller = self._aks.managed_clusters.begin_create_or_update(
                    resource_group, name, ManagedCluster(body), match_condition=MatchConditions.IfMissing,
                    headers=headers, polling=False if no_wait else BackoffPolling())
            except ResourceNotFoundError as ex:  # the resource group: exit code 3, nothing was created
                raise ResourceNotFound(service_message(ex)) from ex
            except HttpResponseError as ex:
                # The pipeline retries a PUT whose answer was lost; If-None-Match: * then gets 412 (or 409) for
                # the cluster that PUT has just created: the create landed.
                landed = ex.status_code in (409, 412) and self._existing(resource_group, name)
                if not landed or not matches_create(body, landed):
                    raise
                self.ui.warn(f"The answer to the create of cluster '{name}' was lost, and its retry found the cluster "
                             "created; waiting for it and checking it.")
                return None if no_wait else self._created(resource_group, name, enable_imds_restriction, resume)
            if no_wait:
                return None
            self._stage = _accepted(name, resume)
            self.ui.wait(f"Creating cluster '{name}'", [poller])
            result = poller.result()
            if enable_imds_restriction:
                check_created_restricted(name, result)
            return result

    def _existing(self, resource_group: str, name: str):
        try:
            return self._aks.managed_clusters.get(resource_group, name)
        except ResourceNotFoundError:
            return None

    def _created(self, resource_group: str, name: str, enable_imds_restriction: bool, resume: str):
        """The cluster this command created, once its create has ended; checked as a create's answer is."""
        self._stage = _accepted(name, resume)
        cluster, _ = self.settle(resource_group, name)
        if provisioning_state(cluster).lower() == "failed":
            flag = " --enable-imds-restriction" if enable_imds_restriction else ""
            raise ImdsExtError(f"Cluster '{name}' was created but its last operation failed (provisioningState "
                               f"Failed). Run '{self.ui.cli_name} aks update -g {resource_group} -n {name}{flag} "
                               "--yes' to retry it.")
        if enable_imds_restriction:
            check_created_restricted(name, cluster)
        return cluster


def _accepted(name: str, resume: str, what: str = "was accepted by the service and may still be running there") -> str:
    return (f"The create of cluster '{name}' {what}. Run '{resume}' to finish the job: it waits for the create and "
            "checks the cluster.")


def matches_create(body: Mapping, cluster: Mapping) -> bool:
    """Whether `cluster` is what the create `body` asks for, as far as the service shows it: the location, the DNS
    prefix (a default made of the cluster's name, group and subscription), the pools' names, and each setting the
    body turns on (IMDS restriction, the OIDC issuer, Workload Identity). Another cluster of the same name, made
    otherwise, is no create of this command's."""
    def norm(location):
        return (location or "").replace(" ", "").lower()

    asked = body.get("properties") or {}
    if norm(body.get("location")) != norm(cluster.get("location")):
        return False
    if asked.get("dnsPrefix") and asked.get("dnsPrefix") != properties(cluster).get("dnsPrefix"):
        return False
    if {(p.get("name") or "").lower() for p in asked.get("agentPoolProfiles") or []} != {
            (p.get("name") or "").lower() for p in agent_pools(cluster)}:
        return False
    return ((pod_link_local_access(body) == pod_link_local_access(cluster))
            and (not oidc_issuer_enabled(body) or oidc_issuer_enabled(cluster))
            and (not workload_identity_enabled(body) or workload_identity_enabled(cluster)))


def check_created_restricted(name: str, cluster) -> None:
    """A create that asked for restriction but got a cluster without it is an error, not a success."""
    if not is_restricted(cluster):
        raise ServiceIgnoredChange(f"Cluster '{name}' was created but reports podLinkLocalAccess="
                                   f"'{pod_link_local_access(cluster)}', not 'None'.")
