"""Each emulated cluster's Kubernetes API: backend.py (objects, lists, namespaces, the DaemonSet controller),
nodes.py (the nodes, from the pools and the cluster's facts), selectors.py (paged lists, label and field
selectors), workloads.py (what runs: pods' status by connection semantics, images, the cluster's facts),
admission.py (RBAC, Pod Security, apps validation, a policy webhook), netpol.py (network policy: the engine from
the ARM body, what a pod's egress may reach)."""
from imds_ext.emulator.providers.kubernetes.backend import KubernetesBackend, KubernetesStatus, status_error

__all__ = ["KubernetesBackend", "KubernetesStatus", "status_error"]
