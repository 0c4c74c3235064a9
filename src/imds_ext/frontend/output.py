"""Output shapes: resources print as `az` prints them, and the table transformers of `-o table`."""
from collections.abc import Mapping


def _plain(value):
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def resource(value, flatten=False):
    """An ARM resource (SDK model or dict) as a plain dict.

    `flatten=True` lifts `properties` into the top level, as `az aks show` prints managed clusters and
    agent pools, so `--query networkProfile.podLinkLocalAccess` works as it does with az.
    """
    if value is None:
        return None
    data = _plain(value)
    if flatten and isinstance(data.get("properties"), Mapping):
        props = data.pop("properties")
        data.update(props)
    return data


# -- table transformers (`-o table`), as az's `_format.py` has them ----------------------------------------
def _cluster_row(mc):
    from collections import OrderedDict

    id_parts = (mc.get("id") or "").split("/")  # /subscriptions/{sub}/resourceGroups/{rg}/...
    return OrderedDict([
        ("Name", mc.get("name")), ("Location", mc.get("location")),
        ("ResourceGroup", id_parts[4] if len(id_parts) > 4 else None),
        ("KubernetesVersion", mc.get("kubernetesVersion")), ("ProvisioningState", mc.get("provisioningState")),
        ("PodLinkLocalAccess", (mc.get("networkProfile") or {}).get("podLinkLocalAccess", "IMDS")),
        ("Fqdn", mc.get("fqdn")),
    ])


def aks_show_table(result):
    return [_cluster_row(result)]


def aks_list_table(result):
    return [_cluster_row(mc) for mc in result]


def imds_report_table(report):
    from collections import OrderedDict

    return [OrderedDict([
        ("Name", report["name"]), ("ResourceGroup", report["resourceGroup"]),
        ("PodLinkLocalAccess", report["podLinkLocalAccess"]), ("Restricted", report["restricted"]),
        ("ReimageDue", ", ".join(report["reimageDue"]) or "-"), ("Feature", report["feature"]["state"]),
        ("OidcIssuer", report["oidcIssuer"]["enabled"]), ("WorkloadIdentity", report["workloadIdentity"]["enabled"]),
        ("Pools", len(report["pools"])), ("CanEnable", report["canEnable"]), ("Blockers", len(report["blockers"])),
    ])]


def feature_table(result):
    from collections import OrderedDict

    features = result if isinstance(result, list) else [result]
    return [OrderedDict([("Name", f.get("name")), ("RegistrationState", (f.get("properties") or {}).get("state"))])
            for f in features]


def verify_table(report):
    """One row per node: its verdict, and the reason (the evidence, or why it could not be judged); with a
    network-policy block, one more row for the probe in an exempt namespace."""
    from collections import OrderedDict

    rows = [OrderedDict([("Pool", n["pool"]), ("Node", n["node"]), ("Expected", n["expected"]),
                         ("Verdict", n["verdict"]), ("Reason", n["reason"])]) for n in report["nodes"]]
    exempt = report.get("exemptProbe")
    if exempt:  # the block's other half (network policy): a pod in an exempt namespace keeps IMDS
        pools = {n["node"]: n["pool"] for n in report["nodes"]}
        rows.append(OrderedDict([("Pool", pools.get(exempt["node"], "-")), ("Node", exempt["node"]),
                                 ("Expected", exempt["expected"]), ("Verdict", exempt["verdict"]),
                                 ("Reason", exempt["reason"])]))  # each reason names the exempt namespace
    rows += [OrderedDict([("Pool", n["pool"]), ("Node", n["node"]), ("Expected", "-"), ("Verdict", "not probed"),
                          ("Reason", n["reason"])]) for n in report.get("notProbed") or []]
    return rows


def scan_table(report):
    from collections import OrderedDict

    return [OrderedDict([("Namespace", w["namespace"]), ("Kind", w["kind"]), ("Name", w["name"]),
                         ("Verdict", w["verdict"]), ("Reason", "; ".join(w["reasons"]))]) for w in report["workloads"]]


# -- short tables (az with the extension): no column wider than a terminal shows beside the others; `-o json`
# has every reason, evidence and fix whole.
REASON_WIDTH = 60


def verify_short_table(report):
    """verify -o table, the reason of each node cut to REASON_WIDTH."""
    return [{**row, "Reason": _short(row["Reason"] or "", REASON_WIDTH)} for row in verify_table(report)]


def scan_short_table(report):
    """scan -o table: one row per workload, the pods seen, its first reason cut to REASON_WIDTH and how many
    more there are."""
    from collections import OrderedDict

    def reason(reasons):
        more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
        return _short(reasons[0], REASON_WIDTH - len(more)) + more if reasons else "-"

    return [OrderedDict([("Namespace", w["namespace"]), ("Kind", w["kind"]), ("Name", w["name"]),
                         ("Verdict", w["verdict"]), ("Pods", w.get("pods", "-")), ("Reason", reason(w["reasons"]))])
            for w in report["workloads"]]


# -- fleet rollout -------------------------------------------------------------------------------------------
def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def _codes(findings) -> str:
    """Findings ({code, message, fix}) in a table cell: their codes (the JSON output has each one whole)."""
    return ", ".join(f["code"] for f in findings or ())


def _detail(row) -> str:
    if row.get("blockers"):
        return _codes(row["blockers"])
    return _short(row.get("error") or "")


def rollout_table(rows):
    from collections import OrderedDict

    return [OrderedDict([("Subscription", r["subscription"]), ("ResourceGroup", r["resourceGroup"]),
                         ("Name", r["name"]), ("PodLinkLocalAccess", r["podLinkLocalAccess"]), ("Action", r["action"]),
                         ("Wave", r.get("wave") or "-"), ("Result", r["result"]), ("Detail", _detail(r)),
                         ("Warnings", _codes(r.get("warnings")) or "-")]) for r in rows]


def imds_list_table(rows):
    """`aks imds-restriction list -o table`: one short row per cluster; blockers by code, the reason of an
    unknown state cut short (`-o json` has every blocker with its message and fix)."""
    from collections import OrderedDict

    return [OrderedDict([("Subscription", r["subscription"]), ("ResourceGroup", r["resourceGroup"]),
                         ("Name", r["name"]), ("Setting", r["podLinkLocalAccess"]), ("State", r["state"]),
                         ("ReimageDue", ", ".join(r["reimageDue"]) or "-"),
                         ("CanEnable", "?" if r["canEnable"] is None else r["canEnable"]),
                         ("Blockers", _short(_codes(r["blockers"]), 60) or "-")]) for r in rows]


def rollout_status_table(rows):
    from collections import OrderedDict

    return [OrderedDict([("Subscription", r["subscription"]), ("ResourceGroup", r["resourceGroup"]),
                         ("Name", r["name"]), ("State", r["state"]), ("Steps", " > ".join(r["steps"])),
                         ("Updated", r["updated"]), ("Detail", _detail(r))]) for r in rows]


_ACTIONS = {"change": "{verb}", "finish": "finish the node-image upgrade still due", "none": "nothing (done)",
            "blocked": "blocked", "networkPolicy": "block IMDS by network policy (--fallback network-policy)"}


def _advice(finding: dict) -> str:
    """A finding's fix as text: a destructive one says what it costs, as an option."""
    from imds_ext.core.preflight import Finding

    return Finding(**{k: finding.get(k) for k in ("code", "message", "fix", "cost")}).advice


def rollout_plan(rows, enable: bool, canary: int, max_parallel: int, max_failures) -> str:
    """The plan as the user reads it before confirming: every cluster, its state, its action, each blocker with
    its fix, and the waves."""
    verb = "enable" if enable else "disable"
    subs = len({r["subscription"] for r in rows})
    lines = [f"Rollout plan: {verb} IMDS restriction on {len(rows)} cluster(s) in {subs} subscription(s)."]
    for r in rows:
        action = _ACTIONS[r["action"]].format(verb=verb)
        if r.get("mechanism") and r["action"] in ("networkPolicy", "none"):  # --fallback network-policy: how
            action += (f": {r['mechanism']}" if r["action"] == "networkPolicy" else
                       f": IMDS blocked by network policy ({r['mechanism']})")
        lines.append(f"  {r['subscription']}/{r['resourceGroup']}/{r['name']}: podLinkLocalAccess="
                     f"{r['podLinkLocalAccess']} -> {action}")
        for blocker in r["blockers"]:
            lines.append(f"      [{blocker['code']}] {blocker['message']}")
            if blocker.get("fix"):
                lines.append(f"      {_advice(blocker)}")
        for warning in r["warnings"]:
            lines.append(f"      Warning: {warning['message']}")
            if warning.get("fix"):
                lines.append(f"      {_advice(warning)}")
    to_do = sum(r["action"] in ("change", "finish", "networkPolicy") for r in rows)
    by_policy = sum(r["action"] == "networkPolicy" for r in rows)
    blocked = sum(r["action"] == "blocked" for r in rows)
    if to_do:
        first = min(canary, to_do)
        waves = (f"all {to_do}" if not first else f"a canary wave of {first} cluster(s)" if first == to_do else
                 f"a canary wave of {first} cluster(s) that must fully succeed, then the other {to_do - first}")
        limit = (f"; no new cluster is started after {max_failures} failure(s)" if max_failures else "")
        lines.append(f"{to_do} cluster(s) to change: {waves}, at most {max_parallel} at a time{limit}.")
        if to_do > by_policy:
            lines[-1] += (" Each gets the update, then a node-image upgrade of its Linux pools (nodes are reimaged, "
                          "workloads are drained); the tag 'imds-ext-reimage-pending' records the reimage due on each "
                          "cluster in the same update, and is removed once its pools are reimaged (one more tags "
                          "update).")
        if by_policy:
            lines[-1] += (f" {by_policy} of them get IMDS blocked by network policy instead, as 'aks "
                          "imds-restriction network-policy apply --yes' does: policies written through the cluster's "
                          "API server, no update and no reimage; their managed setting is left as it is.")
    if blocked:
        lines.append(f"{blocked} cluster(s) blocked: they are left as they are until their blockers are fixed.")
    return "\n".join(lines)
