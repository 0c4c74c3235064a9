"""The domain core: the IMDS restriction rules, the plan and the flow over the Azure SDKs.

Nothing in this package knows about the command line: handlers in `imds_ext.cli` and `azext_imds`
call into it and turn its results and errors into output and exit codes.
"""
