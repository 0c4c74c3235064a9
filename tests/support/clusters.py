"""The one managed-cluster builder of the tests, and seeding a cluster through the emulator's admin API."""
from typing import Optional, Sequence, Union

from tests.support.constants import FEATURE, RG


def pool(name: str, count: int = 2, mode: str = "User", os_type: str = "Linux",
         pool_type: str = "VirtualMachineScaleSets", **extra) -> dict:
    return {"name": name, "count": count, "vmSize": "Standard_DS2_v2", "osType": os_type, "mode": mode,
            "type": pool_type, **extra}


def cluster_body(location: str = "westus2", *, oidc: bool = True, workload_identity: bool = True,
                 restricted: Optional[bool] = None, pools: Sequence[Union[str, dict]] = ("nodepool1", "userpool"),
                 kubernetes_version: str = "1.33.1", network_policy: Optional[str] = None,
                 network_dataplane: Optional[str] = None, **props) -> dict:
    """A managed-identity cluster as a client would PUT it. `restricted`: None leaves podLinkLocalAccess out;
    `pools`: names (the first a System pool of 3 nodes, the others User pools of 2) or whole pool dicts;
    `network_policy` (none, azure, calico, cilium) and `network_dataplane` (azure, cilium): the network profile's
    engine, left out when None (the service's default: none, or cilium with the Cilium dataplane);
    `props`: more properties, replacing the defaults of the same name."""
    network = {"networkPlugin": "azure", "networkPluginMode": "overlay"}
    if restricted is not None:
        network["podLinkLocalAccess"] = "None" if restricted else "IMDS"
    if network_policy is not None:
        network["networkPolicy"] = network_policy
    if network_dataplane is not None:
        network["networkDataplane"] = network_dataplane
    properties = {
        "dnsPrefix": "c1-dns",
        "kubernetesVersion": kubernetes_version,
        "agentPoolProfiles": [p if isinstance(p, dict) else
                              pool(p, count=3, mode="System") if i == 0 else pool(p) for i, p in enumerate(pools)],
        "networkProfile": network,
        "oidcIssuerProfile": {"enabled": oidc},
        "securityProfile": {"workloadIdentity": {"enabled": workload_identity}},
    }
    properties.update(props)
    return {"location": location, "identity": {"type": "SystemAssigned"}, "properties": properties}


def seed_cluster(admin, rg: str = RG, name: str = "c1", *, feature: str = "Registered", extensions=(),
                 nodes: Optional[dict] = None, objects: Sequence[dict] = (), **body) -> str:
    """Seed a cluster (bypassing the service's rules) in `rg` (westus2) and the feature's state; then clear the
    request log so that a test sees only its own requests. `nodes`: {pool: {"podLinkLocalAccess": ...}};
    `objects`: Kubernetes objects already in the cluster (network policies, namespaces, workloads: see
    tests/support/policies.py)."""
    admin.seed(
        resourceGroups=[{"name": rg, "location": "westus2"}],
        features={FEATURE: feature},
        clusters=[{"resourceGroup": rg, "name": name, "cluster": cluster_body(**body),
                   **({"nodes": nodes} if nodes else {})}],
        extensions=[{"resourceGroup": rg, "cluster": name, "name": e[0], "extensionType": e[1]} for e in extensions],
        **({"kubernetes": [{"resourceGroup": rg, "cluster": name, "objects": list(objects)}]} if objects else {}))
    admin.clear_requests()
    return name


def settle(arm, emulator, response) -> None:
    """Poll the operation a raw ARM write started until it is over (the emulator's operations finish on a poll)."""
    url = response.headers["Azure-AsyncOperation"].replace(emulator.arm_endpoint, "")
    assert arm("GET", url, api=None).json()["status"] == "Succeeded"
