"""`aks imds-restriction network-policy apply|show|remove`, for both command lines: the arguments, their validation,
the handler steps (prompts, exit codes, what goes to stderr) and the table (docs/network-policy.md)."""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import List, Optional

from knack.log import get_logger

from imds_ext.frontend.handlers import guided
from imds_ext.frontend.validators import UsageError, _printable, validate_cluster_names, validate_kube_options

logger = get_logger(__name__)

MECHANISMS = ("cilium-clusterwide", "per-namespace")  # core/netpolicy.py's, named here for --help without the core
GROUP = "Network policy"
MECHANISM = ("How to block IMDS: cilium-clusterwide (one CiliumClusterwideNetworkPolicy with a deny rule no other "
             "policy can reopen; Cilium only) or per-namespace (a NetworkPolicy in every covered namespace; Azure "
             "NPM, Calico or Cilium). Default: the strongest one the cluster's engine enforces.")
EXEMPT = ("Namespaces that keep IMDS, besides kube-system, gatekeeper-system and app-routing-system (where the AKS "
          "add-ons that need it run) and the namespaces labelled imds-ext.io/allow-imds=true: comma- or "
          "space-separated. Recorded on the objects apply writes, so a later apply without it keeps them; given, "
          "it replaces them ('' for none).")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def arguments(c, kube_group: Optional[str] = None) -> None:
    """The arguments of the three commands, declared once for both command lines (in the argument context of
    'aks imds-restriction network-policy')."""
    c.argument("mechanism", arg_group=GROUP, help=MECHANISM, choices=list(MECHANISMS))
    c.argument("exempt_namespaces", nargs="+", arg_group=GROUP, help=EXEMPT)
    c.argument("yes", options_list=["--yes", "-y"], action="store_true", help="Do not prompt for confirmation.")
    from imds_ext.frontend import flags

    c.argument("admin", action="store_true", help=flags.ADMIN, arg_group=kube_group)
    c.argument("kubeconfig", help=flags.KUBECONFIG, arg_group=kube_group)
    c.argument("context", help=flags.CONTEXT, arg_group=kube_group)


def exempt_list(values) -> Optional[List[str]]:
    """--exempt-namespaces as names (None when not given; [] for '')."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    return sorted({n for v in values for n in re.split(r"[,\s]+", v or "") if n})


def validate_network_policy(namespace):
    """The names, the Kubernetes options, --mechanism and --exempt-namespaces, before any request."""
    validate_cluster_names(namespace)
    validate_kube_options(namespace)
    mechanism = getattr(namespace, "mechanism", None)
    if mechanism is not None and mechanism not in MECHANISMS:
        raise UsageError(f"--mechanism must be one of {', '.join(MECHANISMS)}, got '{_printable(mechanism)}'.")
    for name in exempt_list(getattr(namespace, "exempt_namespaces", None)) or []:
        if len(name) > 63 or not _LABEL.fullmatch(name):
            raise UsageError(f"--exempt-namespaces: '{_printable(name)}' is not a namespace name (lowercase letters, "
                             "digits and '-', at most 63 characters).")


def _flow(service):
    from imds_ext.core.netpolicy_flow import NetworkPolicyFlow

    return NetworkPolicyFlow(service)


def _told(report: dict) -> bool:
    """Warnings and what is not protected on stderr; ok unless the block does not hold somewhere."""
    for warning in report.get("warnings") or []:
        logger.warning(warning)
    for pool in report.get("notCoveredPools") or []:
        logger.warning("Pool '%s' (Windows) is not covered: %s.", pool["pool"], pool["reason"])
    uncovered = report["namespaces"]["uncovered"]
    if uncovered:
        logger.error("IMDS is not blocked in %d namespace(s) of cluster '%s':\n  %s", len(uncovered),
                     report["cluster"], "\n  ".join(f"{u['namespace']}: {u['reason']}" for u in uncovered))
    return report["status"] != "not protected"


@guided
def apply(service, resource_group_name, name, mechanism=None, exempt_namespaces=None, yes=False, admin=False,
          kubeconfig=None, context=None):
    """`network-policy apply`: (report, ok); ok when every covered namespace is protected."""
    report = _flow(service).apply(resource_group_name, name, mechanism=mechanism,
                                  exempt=exempt_list(exempt_namespaces), yes=yes, admin=admin, kubeconfig=kubeconfig,
                                  context=context)
    if not report["changes"]:
        logger.warning("Nothing to change: the block is already in place as asked.")
    return report, _told(report)


def show(service, resource_group_name, name, mechanism=None, exempt_namespaces=None, admin=False, kubeconfig=None,
         context=None):
    """`network-policy show`: (report, ok); not ok (exit 1) when some covered namespace is not protected."""
    report = _flow(service).show(resource_group_name, name, mechanism=mechanism,
                                 exempt=exempt_list(exempt_namespaces), admin=admin, kubeconfig=kubeconfig,
                                 context=context)
    for blocker in report["blockers"]:
        logger.error("%s Fix: %s", blocker["message"], blocker["fix"])
    return report, _told(report)


@guided
def remove(service, resource_group_name, name, yes=False, admin=False, kubeconfig=None, context=None):
    """`network-policy remove`: (report, True); only what imds-ext created is deleted."""
    report = _flow(service).remove(resource_group_name, name, yes=yes, admin=admin, kubeconfig=kubeconfig,
                                   context=context)
    if not report["removed"]:
        logger.warning("Nothing to remove: cluster '%s' holds no network policy of imds-ext's.", name)
    return report, True


def network_policy_table(report):
    """One row per namespace (protected, not protected, exempt) and per pool not covered; remove: what it deleted."""
    if "removed" in report:
        return [OrderedDict([("Action", r["action"]), ("Kind", r["kind"]), ("Namespace", r["namespace"] or "-"),
                             ("Name", r["name"])]) for r in report["removed"]]
    mechanism = report["mechanism"] or "-"
    rows = [OrderedDict([("Namespace", ns), ("State", "protected"), ("Mechanism", mechanism), ("Reason", "")])
            for ns in report["namespaces"]["protected"]]
    rows += [OrderedDict([("Namespace", u["namespace"]), ("State", "not protected"), ("Mechanism", mechanism),
                          ("Reason", u["reason"])]) for u in report["namespaces"]["uncovered"]]
    rows += [OrderedDict([("Namespace", e["namespace"]), ("State", "exempt"), ("Mechanism", "-"),
                          ("Reason", e["reason"] + ("" if e["present"] else " (not in the cluster)"))])
             for e in report["namespaces"]["exempt"]]
    rows += [OrderedDict([("Namespace", f"pool {p['pool']}"), ("State", "not covered"), ("Mechanism", mechanism),
                          ("Reason", p["reason"])]) for p in report.get("notCoveredPools") or []]
    return rows


# -- help, written once for both command lines ({cli}: az or az-imds) ----------------------------------------------
GROUP_HELP = """
type: group
short-summary: Block IMDS by network policy where the managed restriction cannot serve (add-ons, Windows).
long-summary: >
    Cilium clusters get one CiliumClusterwideNetworkPolicy that denies egress to 169.254.169.254/32 outside the
    exempt namespaces (no other policy can reopen it); Azure NPM and Calico clusters a NetworkPolicy in every
    covered namespace that allows all egress but 169.254.169.254/32, with an audit of the policies that reopen it.
    A cluster with no engine is refused with the command that installs one. Prove it with 'verify'.
    docs/network-policy.md.
"""
APPLY_HELP = """
type: command
short-summary: Block IMDS for every pod outside the exempt namespaces, by the strongest mechanism enforced.
long-summary: >
    Reads the engine from the cluster (networkProfile.networkPolicy, networkDataplane), refuses when it enforces
    nothing (every blocker with its fix), shows what it will write and asks (--yes skips), then writes only what is
    missing or changed: a re-run writes nothing, and covers namespaces created since. Every object is labelled
    app.kubernetes.io/managed-by=imds-ext and imds-ext.io/component=imds-block. Exit codes: 0 every covered
    namespace is protected (Windows pools not covered are warned about), 1 refused or some namespace not protected
    (another policy reopens IMDS: named), 2 usage, 3 cluster not found.
examples:
  - name: Block IMDS on a cluster the managed restriction refuses (Container Insights on).
    text: {cli} aks imds-restriction network-policy apply -g MyResourceGroup -n MyManagedCluster --yes
  - name: Keep IMDS for two more namespaces.
    text: >
        {cli} aks imds-restriction network-policy apply -g MyResourceGroup -n MyManagedCluster
        --exempt-namespaces monitoring,legacy-app
"""
SHOW_HELP = """
type: command
short-summary: Show the network-policy block of a cluster, its holes and what it would take away.
long-summary: >
    The engine and mechanism, the protected, not protected and exempt namespaces (with why), the policies that
    reopen IMDS, the Windows pools not covered, what an apply would write, and the workloads in covered namespaces
    that take tokens from IMDS (the scan's). Exit codes: 0 protected, 1 not protected, 3 cluster not found.
examples:
  - name: Is the block in place everywhere?
    text: {cli} aks imds-restriction network-policy show -g MyResourceGroup -n MyManagedCluster -o table
"""
REMOVE_HELP = """
type: command
short-summary: Remove the network policies imds-ext created, and nothing else.
examples:
  - name: Remove the block without prompting.
    text: {cli} aks imds-restriction network-policy remove -g MyResourceGroup -n MyManagedCluster --yes
"""


def register_help(helps, cli: str) -> None:
    helps["aks imds-restriction network-policy"] = GROUP_HELP
    for verb, text in (("apply", APPLY_HELP), ("show", SHOW_HELP), ("remove", REMOVE_HELP)):
        helps[f"aks imds-restriction network-policy {verb}"] = text.replace("{cli}", cli)
