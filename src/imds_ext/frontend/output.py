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
        ("PodLinkLocalAccess", report["podLinkLocalAccess"]), ("Feature", report["feature"]["state"]),
        ("OidcIssuer", report["oidcIssuer"]["enabled"]), ("WorkloadIdentity", report["workloadIdentity"]["enabled"]),
        ("Pools", len(report["pools"])), ("CanEnable", report["canEnable"]), ("Blockers", len(report["blockers"])),
    ])]


def feature_table(result):
    from collections import OrderedDict

    features = result if isinstance(result, list) else [result]
    return [OrderedDict([("Name", f.get("name")), ("RegistrationState", (f.get("properties") or {}).get("state"))])
            for f in features]


def verify_table(report):
    from collections import OrderedDict

    rows = [OrderedDict([("Pool", n["pool"]), ("Node", n["node"]), ("Network", "pod"), ("Expected", n["expected"]),
                         ("Observed", n["observed"]), ("Verdict", n["verdict"])]) for n in report["nodes"]]
    rows += [OrderedDict([("Pool", h["pool"]), ("Node", h["node"]), ("Network", "host"), ("Expected", "reachable"),
                          ("Observed", h["imds"]), ("Verdict", h["verdict"])]) for h in report["hostNetwork"]]
    return rows


def scan_table(report):
    from collections import OrderedDict

    return [OrderedDict([("Namespace", w["namespace"]), ("Kind", w["kind"]), ("Name", w["name"]),
                         ("Verdict", w["verdict"]), ("Reason", "; ".join(w["reasons"]))]) for w in report["workloads"]]
