"""imds-ext: restrict pod access to the Azure Instance Metadata Service (IMDS) on AKS, end to end."""
from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("imds_ext")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+source"
