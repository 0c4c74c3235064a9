"""The `az-imds` entry point: a clear message, not a traceback, when the standalone extra is missing.

The wheel declares no dependencies of its own (az supplies them to the extension), so a plain
`pip install imds_ext` has no knack or azure-identity for the standalone command.
"""
import sys

REQUIRED = ("knack", "azure.identity", "azure.mgmt.containerservice")


def main(args=None):
    import importlib.util

    missing = [name for name in REQUIRED if importlib.util.find_spec(name.split(".")[0]) is None
               or importlib.util.find_spec(name) is None]
    if missing:
        sys.stderr.write(f"ERROR: az-imds needs {', '.join(missing)}, which the standalone install brings: "
                         "pip install \"imds_ext[standalone]\"\n")
        return 1
    from imds_ext.cli import main as cli_main

    return cli_main(args)
