"""Microsoft.KubernetesConfiguration: cluster extensions, child resources of a managed cluster. Installing an
extension that does not work with IMDS restriction on a restricted cluster is refused (containerservice rules)."""
from __future__ import annotations

import copy
import dataclasses
from typing import Dict

from imds_ext.emulator import validation
from imds_ext.emulator.constants import CONTAINER_SERVICE
from imds_ext.emulator.errors import EmulatorError, resource_not_found
from imds_ext.emulator.providers.containerservice import ContainerServiceBackend, rules
from imds_ext.emulator.providers.containerservice.records import ManagedCluster
from imds_ext.emulator.records import Record
from imds_ext.emulator.store import Store

EXTENSION_TYPE = "Microsoft.KubernetesConfiguration/extensions"
_EXTENSION_BODY = validation.schema({
    "type": "object", "required": ["properties"],
    "properties": {"properties": {"type": "object", "required": ["extensionType"],
                                  "properties": {"extensionType": {"type": "string", "minLength": 1,
                                                                   "maxLength": 253}}}}})


@dataclasses.dataclass
class Extension(Record):
    cluster: str  # the cluster's key (records.cluster_key: its subscription, group and name)
    name: str
    body: dict  # as PUT, with the server's provisioningState

    def render(self, cluster: ManagedCluster) -> dict:
        return {"id": f"{cluster.resource['id']}/providers/{EXTENSION_TYPE}/{self.name}", "name": self.name,
                "type": EXTENSION_TYPE,
                **{k: copy.deepcopy(v) for k, v in self.body.items() if k not in ("id", "name", "type")}}


class KubernetesConfigurationBackend:
    def __init__(self, store: Store, container_service: ContainerServiceBackend):
        self.store = store
        self.container_service = container_service
        self.extensions: Dict[str, Extension] = store.table("extensions", Extension)
        container_service.extensions_of = self.bodies_of
        container_service.on_cluster_dropped(self._drop_cluster)

    def _of(self, key: str):
        return [ext for ext in self.extensions.values() if ext.cluster == key]

    def bodies_of(self, key: str) -> list:
        """The extensions of a cluster as the rules read them: {"name", "properties": {...}}."""
        return [{"name": ext.name, **ext.body} for ext in self._of(key)]

    def _drop_cluster(self, key: str) -> None:
        for ext_key in [k for k, ext in self.extensions.items() if ext.cluster == key]:
            del self.extensions[ext_key]

    def list_extensions(self, sub: str, rg: str, cluster: str) -> list:
        with self.store.tx():
            rec = self.container_service.cluster(sub, rg, cluster)
            return [ext.render(rec) for ext in self._of(rec.key)]

    def get_extension(self, sub: str, rg: str, cluster: str, name: str) -> dict:
        with self.store.tx():
            rec = self.container_service.cluster(sub, rg, cluster)
            ext = self.extensions.get(f"{rec.key}/{name.lower()}")
            if ext is None:
                raise resource_not_found(f"{CONTAINER_SERVICE}/managedClusters/{cluster}/providers/{EXTENSION_TYPE}",
                                         name, rg)
            return ext.render(rec)

    def put_extension(self, sub: str, rg: str, cluster: str, name: str, body, seeding: bool = False):
        with self.store.tx():
            rec = self.container_service.cluster(sub, rg, cluster)
            validation.check(_EXTENSION_BODY, body, lambda message, target: EmulatorError(
                400, "InvalidRequestContent", message, target=target or "properties.extensionType"))
            validation.check_name(name, validation.EXTENSION_NAME, "extension",
                                  "1-253 letters, digits, '-' or '.', starting with a letter or digit")
            key = f"{rec.key}/{name.lower()}"
            existing = self.extensions.get(key)
            ext = Extension(cluster=rec.key, name=existing.name if existing else name,
                            body=copy.deepcopy(body))
            ext.body["properties"]["provisioningState"] = "Succeeded"
            if not seeding and rules.is_restricted(rec.resource):
                blockers = rules.extension_blockers([{"name": ext.name, **ext.body}])
                if blockers:
                    raise rules.refusal(blockers, "This cluster extension on an IMDS-restricted cluster")
            self.extensions[key] = ext
            self.store.changed()
            return (200 if existing else 201), ext.render(rec)

    def delete_extension(self, sub: str, rg: str, cluster: str, name: str) -> bool:
        with self.store.tx():
            rec = self.container_service.cluster(sub, rg, cluster)
            gone = self.extensions.pop(f"{rec.key}/{name.lower()}", None)
            if gone is not None:
                self.store.changed()
            return gone is not None
