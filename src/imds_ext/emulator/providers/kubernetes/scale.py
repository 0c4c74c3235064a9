"""The `scale` subresource of Deployments, ReplicaSets and StatefulSets (`kubectl scale`; Kubernetes API reference,
"Scale v1 autoscaling"): an autoscaling/v1 Scale that reads the object's desired and current replicas and its
selector, and writes only `spec.replicas` back to the object."""
from __future__ import annotations

from imds_ext.emulator.providers.kubernetes import status_error

SCALABLE = {("apps/v1", "deployments"), ("apps/v1", "replicasets"), ("apps/v1", "statefulsets")}
KIND = ("autoscaling", "v1", "Scale")  # what discovery names as the subresource's kind


def of(obj: dict) -> dict:
    """The Scale of `obj`: its metadata's identity, desired replicas (1 when unset, the API server's default),
    current replicas and the selector as a label-selector string."""
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": spec.get("replicas", 1)},
            "status": {"replicas": status.get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items()))}}


def replicas(scale: dict, name: str) -> int:
    """The desired replicas of a Scale written by a client, or the API server's 422."""
    value = (scale.get("spec") or {}).get("replicas", 0) if isinstance(scale, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise status_error(422, "Invalid", f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: '
                           f"{value!r}: must be greater than or equal to 0")
    return value
