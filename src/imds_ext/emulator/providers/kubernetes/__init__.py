"""Each emulated cluster's Kubernetes API: backend.py (objects, nodes, lists), selectors.py (paged lists, label and
field selectors), workloads.py (what runs: the DaemonSet controller, pods' status by connection semantics, images),
admission.py (RBAC and Pod Security admission)."""
from imds_ext.emulator.providers.kubernetes.backend import KubernetesBackend, KubernetesStatus, status_error

__all__ = ["KubernetesBackend", "KubernetesStatus", "status_error"]
