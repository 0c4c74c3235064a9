"""imds-ext: restrict pod access to the Azure Instance Metadata Service (IMDS) on AKS, end to end."""


def __getattr__(name):
    # The version is read from the installed package's metadata only when asked for (`--version`): reading it
    # costs more than the rest of `--help`.
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("imds_ext")
        except metadata.PackageNotFoundError:  # running from a source tree
            return "0.0.0+source"
    raise AttributeError(name)
