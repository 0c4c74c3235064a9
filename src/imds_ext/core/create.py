"""Creating a cluster with IMDS restriction on from the start: the preflight of the body about to be sent, the
create, and the check that the service really restricted it."""
from __future__ import annotations

from typing import Dict, Optional

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError

from imds_ext.core import preflight
from imds_ext.core.cluster import is_restricted, pod_link_local_access
from imds_ext.core.errors import ImdsExtError, PreflightFailed, ServiceIgnoredChange
from imds_ext.core.headers import names_feature
from imds_ext.core.polling import BackoffPolling


class ClusterCreation:
    """Mixed into the service (reads and the interaction come from ClusterReads)."""

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
            polling=False if no_wait else BackoffPolling())
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
