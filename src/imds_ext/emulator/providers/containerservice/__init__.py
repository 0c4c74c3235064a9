"""Microsoft.ContainerService: backend.py (clusters, pools, operations), records.py (the stored cluster and its
rendering), bodies.py (from a PUT body to the stored resource), rules.py (the IMDS-restriction rules),
safeguards.py (Deployment Safeguards, an extension resource of each cluster)."""
from imds_ext.emulator.providers.containerservice.backend import ContainerServiceBackend

__all__ = ["ContainerServiceBackend"]
