"""Network policy objects the tests seed into an emulated cluster to set up a scenario (an IMDS block, a policy that
reopens it, a Cilium cluster-wide deny), as a user or another tool would have written them."""
from typing import Optional, Sequence

IMDS_CIDR = "169.254.169.254/32"


def namespace(name: str, labels: Optional[dict] = None) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, **({"labels": labels} if labels
                                                                                  else {})}}


def network_policy(namespace: str, name: str, egress: Optional[list] = None, *, pod_selector: Optional[dict] = None,
                   types: Sequence[str] = ("Egress",), labels: Optional[dict] = None) -> dict:
    """A networking.k8s.io/v1 NetworkPolicy; `egress` None leaves the rules out (with Egress in `types`: deny all)."""
    spec = {"podSelector": pod_selector or {}, "policyTypes": list(types)}
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace, **({"labels": labels} if labels else {})},
            "spec": spec}


def block_imds(namespace: str, name: str = "block-imds", **kwargs) -> dict:
    """Every egress but IMDS: the per-namespace policy AKS's best practices describe, with a valid CIDR."""
    return network_policy(namespace, name, [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [IMDS_CIDR]}}]}],
                          **kwargs)


def allow_all_egress(namespace: str, name: str = "allow-all-egress", **kwargs) -> dict:
    """A policy that allows every egress (`to` left out): added to any other, it reopens IMDS."""
    return network_policy(namespace, name, [{}], **kwargs)


def cilium_deny_imds(name: str = "deny-imds", exempt: Sequence[str] = ("kube-system",), *,
                     default_deny: Optional[bool] = False) -> dict:
    """A cilium.io/v2 CiliumClusterwideNetworkPolicy denying TCP 80 to IMDS for every endpoint outside `exempt`;
    `default_deny` False keeps the rest of their egress open (None leaves enableDefaultDeny out: Cilium's default,
    which puts every selected endpoint into default deny)."""
    spec = {"endpointSelector": {"matchExpressions": [
                {"key": "k8s:io.kubernetes.pod.namespace", "operator": "NotIn", "values": list(exempt)}]},
            "egressDeny": [{"toCIDRSet": [{"cidr": IMDS_CIDR}],
                            "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]}]}
    if default_deny is not None:
        spec["enableDefaultDeny"] = {"egress": default_deny, "ingress": False}
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": name},
            "spec": spec}
