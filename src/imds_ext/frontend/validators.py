"""Argument validators both command lines run: bad input fails here, before any request (exit code 2, as az).

Each takes the parsed namespace and raises `UsageError` naming what is wrong and how to put it right.
"""
import os
import re

from knack.util import CLIError

from imds_ext.core.cluster import parse_cluster_id
from imds_ext.core.headers import latin1, parse_custom_headers


class UsageError(CLIError):
    """A usage error: exit code 2 (`az-imds`'s exception handler; the extension re-raises it for az's parser)."""


def validate_imds_toggle(namespace):
    enable = getattr(namespace, "enable_imds_restriction", False)
    disable = getattr(namespace, "disable_imds_restriction", False)
    if enable and disable:
        raise UsageError(
            "Cannot specify --enable-imds-restriction and --disable-imds-restriction at the same time.")
    if not enable and not disable:
        raise UsageError(
            "Please specify --enable-imds-restriction or --disable-imds-restriction.")
    skip = getattr(namespace, "skip_workload_check", False)
    given = [option for option, attr in (("--check-workloads", "check_workloads"), ("--skip-workload-check",
                                                                                     "skip_workload_check"),
                                         ("--force", "force")) if getattr(namespace, attr, False)]
    if disable and given:
        raise UsageError(f"{' and '.join(given)} go{'es' if len(given) == 1 else ''} with --enable-imds-restriction: "
                         "turning it off breaks no workload.")
    if skip and (getattr(namespace, "check_workloads", False) or getattr(namespace, "force", False)):
        raise UsageError("--skip-workload-check skips the workload scan: it cannot go with --check-workloads or "
                         "--force (which decide what the scan's findings do).")
    if hasattr(namespace, "skip_workload_check"):
        # The scan runs for every enable unless skipped: it is the change that can break workloads.
        namespace.check_workloads = bool(enable) and not skip
    if getattr(namespace, "verify_nodes", False) and (getattr(namespace, "no_wait", False)
                                                or getattr(namespace, "skip_node_image_upgrade", False)):
        raise UsageError("--verify needs the nodes reimaged first: it cannot go with --no-wait or "
                         "--skip-node-image-upgrade.")
    if disable and getattr(namespace, "enable_oidc_issuer", False):
        raise UsageError(
            "--enable-oidc-issuer goes with --enable-imds-restriction; to turn the issuer on alone use "
            f"'az aks update{names_args(namespace)} --enable-oidc-issuer'.")


def names_args(namespace) -> str:
    """` -g GROUP -n NAME` as given on the command line (quoted for the shell as needed), for the commands a usage
    error tells the user to run: the names it knows, never `<group>` placeholders; a name not given is left out."""
    import shlex

    pairs = (("-g", getattr(namespace, "resource_group_name", None)), ("-n", getattr(namespace, "name", None)))
    return "".join(f" {option} {shlex.quote(value)}" for option, value in pairs if isinstance(value, str) and value)


def validate_custom_headers(namespace):
    value = getattr(namespace, "aks_custom_headers", None)
    example = ("Expected Key1=Value1,Key2=Value2, e.g. "
               "AKSHTTPCustomFeatures=Microsoft.ContainerService/IMDSRestrictionPreview")
    if value is not None and _CONTROL.search(value):
        raise UsageError(f"--aks-custom-headers must be on one line, without control characters. {example}")
    try:
        headers = parse_custom_headers(value)
    except ValueError as ex:
        raise UsageError(f"--aks-custom-headers: {ex}. {example}") from ex
    bad = [name for name in headers if not _HEADER_NAME.fullmatch(name)]
    if bad:
        raise UsageError(f"--aks-custom-headers: '{bad[0]}' is not a valid header name. {example}")
    namespace.aks_custom_headers = headers


# ---- names, headers and ETags: checked before any request ------------------------------------------------
# Resource group names (ARM): 1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending in
# a period. Managed cluster names (AKS REST API `resourceName`): 1-63 letters, digits, hyphens and underscores,
# starting and ending with a letter or digit. Agent pool names: a lowercase letter, then up to 11 lowercase letters
# or digits. Always `fullmatch`: `$` would also match before a final newline.
_RESOURCE_GROUP = re.compile(r"[-\w.()]{0,89}[-\w()]")
_CLUSTER = re.compile(r"[a-zA-Z0-9]|[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]")
_POOL = re.compile(r"[a-z][a-z0-9]{0,11}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token (RFC 9110)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_given(value, option: str, what: str = "the name") -> None:
    """A value naming something, given on the command line: not empty (an empty name would ask ARM for the whole
    collection), and on one line."""
    if value is None:
        return
    if not value:
        raise UsageError(f"{option} is empty: give {what}.")
    if _CONTROL.search(value):
        raise UsageError(f"{option} '{_printable(value)}' must be on one line, without control characters.")


def _check_name(value, pattern, option: str, rule: str) -> None:
    check_given(value, option)
    if value is not None and not pattern.fullmatch(value):
        raise UsageError(f"{option} '{_printable(value)}' is not a valid name: {rule}.")


def _printable(value: str) -> str:
    return _CONTROL.sub("?", value)


def validate_cluster_names(namespace):
    """-g, -n / --cluster-name and a node pool's -n, with the service's naming rules."""
    _check_name(getattr(namespace, "resource_group_name", None), _RESOURCE_GROUP, "--resource-group/-g",
                "1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'")
    cluster_rule = "1-63 letters, digits, '-' or '_', starting and ending with a letter or digit"
    _check_name(getattr(namespace, "name", None), _CLUSTER, "--name/-n", cluster_rule)
    _check_name(getattr(namespace, "cluster_name", None), _CLUSTER, "--cluster-name", cluster_rule)
    _check_name(getattr(namespace, "nodepool_name", None), _POOL, "--name/-n",
                "a lowercase letter followed by up to 11 lowercase letters or digits")


def validate_if_match(namespace):
    value = getattr(namespace, "if_match", None)
    if value is None:
        return
    if not value.strip() or _CONTROL.search(value) or not latin1(value):
        raise UsageError("--if-match must be an ETag as the cluster shows it (its 'eTag' field) or '*', on one line "
                         f"and without control characters or characters an HTTP header cannot carry (only Latin-1); "
                         f"got '{_printable(value)}'.")



# An image reference as the distribution spec's grammar has it: [domain[:port]/]path[:tag][@digest].
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(rf"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                    rf"(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?"
                    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?")


def validate_verify(namespace):
    """`verify` and `scan`: names, --sample, --probe-image and the credential options."""
    validate_cluster_names(namespace)
    validate_kube_options(namespace)


def validate_kube_options(namespace):
    """--sample, --probe-image and the credential options (--admin, --kubeconfig, --context) wherever the probe
    or the scan runs: `verify`, `scan`, and `aks update` / `aks upgrade` with --verify or --check-workloads."""
    if hasattr(namespace, "verify_nodes"):  # a command that changes the cluster: the options go with the checks
        verify = getattr(namespace, "verify_nodes", False)
        checks = verify or getattr(namespace, "check_workloads", False)
        probe = [o for o, attr in (("--probe-image", "probe_image"), ("--sample", "sample"))
                 if getattr(namespace, attr, None) is not None]
        access = [o for o, attr in (("--admin", "admin"), ("--kubeconfig", "kubeconfig"), ("--context", "context"))
                  if getattr(namespace, attr, None)]
        if probe and not verify:
            raise UsageError(f"{' and '.join(probe)} {'go' if len(probe) > 1 else 'goes'} with --verify (they say "
                             "how the nodes are probed).")
        if access and not checks:
            with_what = ("--verify or the workload scan (not with --skip-workload-check)"
                         if hasattr(namespace, "check_workloads") else "--verify")
            raise UsageError(f"{' and '.join(access)} {'go' if len(access) > 1 else 'goes'} with {with_what} (they "
                             "say how the cluster's Kubernetes API is reached).")
    image = getattr(namespace, "probe_image", None)
    if image is not None and not _IMAGE.fullmatch(image):
        raise UsageError(f"--probe-image must be an image reference such as "
                         f"'myregistry.azurecr.io/azurelinux/base/core:3.0' (registry/repository[:tag][@digest]), "
                         f"got '{_printable(image)}'.")
    sample = getattr(namespace, "sample", None)
    if sample is not None and sample < 1:
        raise UsageError(f"--sample must be 1 or more (nodes probed per pool), got {sample}.")
    if getattr(namespace, "admin", False) and getattr(namespace, "kubeconfig", None):
        raise UsageError("--admin and --kubeconfig cannot be combined: --admin asks ARM for the local admin "
                         "account's kubeconfig.")
    if getattr(namespace, "admin", False) and getattr(namespace, "context", None):
        raise UsageError("--admin and --context cannot be combined: --context picks a context of your kubeconfig "
                         "(--kubeconfig, else $KUBECONFIG or ~/.kube/config); --admin asks ARM for the local admin "
                         "account's kubeconfig.")


def validate_rollout(namespace):
    """`aks imds-restriction rollout start`: the action, the selection and the limits, before any request."""
    validate_imds_toggle(namespace)
    validate_custom_headers(namespace)
    validate_selection(namespace)
    if getattr(namespace, "fallback", None) and not getattr(namespace, "enable_imds_restriction", False):
        raise UsageError("--fallback network-policy goes with --enable: it protects the clusters the managed setting "
                         "cannot serve.")
    if getattr(namespace, "admin", False) and not getattr(namespace, "check_workloads", False):
        raise UsageError("--admin says how the workload scan reaches each cluster: it goes with --enable, not with "
                         "--disable or --skip-workload-check.")
    for option, attr, least in (("--canary", "canary", 0), ("--max-parallel", "max_parallel", 1),
                                ("--max-failures", "max_failures", 1)):
        value = getattr(namespace, attr, None)
        if value is not None and value < least:
            raise UsageError(f"{option} must be {least} or more, got {value}.")
    journal = getattr(namespace, "journal", None)
    if journal is not None and (not journal.strip() or os.path.isdir(journal)):
        raise UsageError(f"--journal '{_printable(journal)}' must be a file path (it is created if missing).")
    canary_ids = getattr(namespace, "canary_ids", None) or []
    for value in canary_ids:
        try:
            parse_cluster_id(value)
        except ValueError as ex:
            raise UsageError(f"--canary-ids: {ex}.") from None
    if canary_ids and getattr(namespace, "canary", None) is not None:
        raise UsageError("--canary-ids names the canary clusters; --canary counts them: give one of the two.")
    if getattr(namespace, "pause_after_canary", False):
        if not canary_ids and getattr(namespace, "canary", None) == 0:
            raise UsageError("--pause-after-canary needs a canary wave: drop --canary 0, or name the canaries with "
                             "--canary-ids.")
        if not canary_ids and not journal:
            raise UsageError("--pause-after-canary needs --canary-ids or --journal, so that the same command, run "
                             "again, knows the canary wave already ran and goes on with the rest.")


def validate_selection(namespace):
    """The clusters of a fleet command (the rollout; `aks imds-restriction list` validates with it alone): --ids
    (the rollout's) or --subscriptions / --all-subscriptions, --resource-groups and --tag; `namespace.tags` becomes
    ((key, value or None), ...)."""
    ids = getattr(namespace, "ids", None) or []
    selectors = [option for option, attr in (("--subscriptions", "subscriptions"),
                                             ("--all-subscriptions", "all_subscriptions"),
                                             ("--resource-groups", "resource_groups"), ("--tag", "tags"),
                                             ("--subscription", "subscription"))
                 if getattr(namespace, attr, None)]
    if ids and selectors:
        raise UsageError(f"--ids names the clusters itself: it cannot go with {', '.join(selectors)}.")
    for value in ids:
        try:
            parse_cluster_id(value)
        except ValueError as ex:
            raise UsageError(f"--ids: {ex}.") from None
    if getattr(namespace, "all_subscriptions", False) and (getattr(namespace, "subscriptions", None)
                                                           or getattr(namespace, "subscription", None)):
        raise UsageError("--all-subscriptions cannot go with --subscriptions or --subscription.")
    if getattr(namespace, "subscriptions", None) and getattr(namespace, "subscription", None):
        raise UsageError("Use --subscriptions for several subscriptions (--subscription names one); not both.")
    for subscription in getattr(namespace, "subscriptions", None) or []:
        check_given(subscription, "--subscriptions", "a subscription's ID or name")
    for group in getattr(namespace, "resource_groups", None) or []:
        _check_name(group, _RESOURCE_GROUP, "--resource-groups",
                    "1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'")
    tags = []
    for item in getattr(namespace, "tags", None) or []:
        key, equals, value = item.partition("=")
        if not key.strip() or _CONTROL.search(item):
            raise UsageError(f"--tag '{_printable(item)}' has no key. Expected key=value (or key: any value).")
        tags.append((key.strip(), value if equals else None))
    namespace.tags = tuple(tags)


def validate_rollout_status(namespace):
    journal = getattr(namespace, "journal", None)
    if not journal or not os.path.isfile(journal):
        raise UsageError(f"--journal '{_printable(journal or '')}' is not a file: give the journal of a rollout "
                         "(its --journal path).")
