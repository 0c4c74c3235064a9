"""Which workloads lose their Azure tokens when IMDS closes: a classification of the cluster's workloads (the pod
templates of Deployments, StatefulSets, DaemonSets, Jobs and CronJobs, and pods no controller owns) by the
signals of docs/aks-kubernetes.md ("Who takes tokens from IMDS"). Pure functions over Kubernetes objects; the
reading is `read_cluster`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from azure.core.exceptions import ResourceNotFoundError

from imds_ext.core.errors import ImdsExtError
from imds_ext.core.kube import KubeClient

BREAKS, AT_RISK, UNAFFECTED = "breaks", "at risk", "unaffected"
WORKLOAD_KINDS = (("apps/v1", "deployments", "Deployment"), ("apps/v1", "statefulsets", "StatefulSet"),
                  ("apps/v1", "daemonsets", "DaemonSet"), ("batch/v1", "jobs", "Job"),
                  ("batch/v1", "cronjobs", "CronJob"))
SPC = "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses"
ISSUERS = ("/apis/cert-manager.io/v1/clusterissuers", "/apis/cert-manager.io/v1/issuers")
EXTERNAL_DNS_AZURE = ("azure", "azure-private-dns")  # external-dns's Azure providers
AZURE_IDENTITY_ENV = ("AZURE_CLIENT_ID", "MSI_ENDPOINT", "IDENTITY_ENDPOINT")
WI_LABEL = "azure.workload.identity/use"
WI_ANNOTATION = "azure.workload.identity/client-id"


class WorkloadsWouldBreak(ImdsExtError):
    """The scan found workloads that take tokens from IMDS; the message names each one and its fix."""


@dataclass
class Workload:
    namespace: str
    kind: str
    name: str
    verdict: str = UNAFFECTED
    reasons: List[str] = field(default_factory=list)

    def to_dict(self, fix: Optional[str]) -> dict:
        return {"namespace": self.namespace, "kind": self.kind, "name": self.name, "verdict": self.verdict,
                "reasons": self.reasons, "fix": fix if self.verdict != UNAFFECTED else None}


def _template(obj: dict) -> dict:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec") or {})
    if obj.get("kind") == "Pod":
        return {"metadata": obj.get("metadata") or {}, "spec": spec}
    return spec.get("template") or {}


def _external_dns_provider(container: dict) -> Optional[str]:
    """The Azure provider an external-dns container runs with (`--provider=azure` or `--provider azure`)."""
    args = [str(a) for a in (container.get("args") or []) + (container.get("command") or [])]
    for i, arg in enumerate(args):
        value = arg.split("=", 1)[1] if arg.startswith("--provider=") else (
            args[i + 1] if arg == "--provider" and i + 1 < len(args) else None)
        if value in EXTERNAL_DNS_AZURE:
            return value
    return None


def managed_identity_issuers(issuers: List[dict]) -> List[str]:
    """cert-manager (Cluster)Issuers with an Azure DNS solver that authenticates with a managed identity (no
    `clientSecretSecretRef`, the service principal's secret): through IMDS unless cert-manager runs on Workload ID."""
    found = []
    for issuer in issuers:
        solvers = ((issuer.get("spec") or {}).get("acme") or {}).get("solvers") or []
        if any("azureDNS" in (s.get("dns01") or {}) and not (s["dns01"]["azureDNS"] or {}).get("clientSecretSecretRef")
               for s in solvers):
            meta = issuer.get("metadata") or {}
            namespaced = issuer.get("kind") != "ClusterIssuer" and meta.get("namespace")
            where = f"{meta.get('namespace')}/" if namespaced else ""
            found.append(f"{issuer.get('kind', 'Issuer')} {where}{meta.get('name')}")
    return found


def classify(namespace: str, kind: str, name: str, template: dict, service_accounts: Dict[str, dict],
             provider_classes: Dict[str, dict], identity_issuers: Sequence[str] = ()) -> Workload:
    """One workload's verdict, from its pod template, its service account, the SecretProviderClasses it mounts and
    (for cert-manager's controller) the issuers that authenticate to Azure DNS with a managed identity."""
    work = Workload(namespace, kind, name)
    spec, labels = template.get("spec") or {}, (template.get("metadata") or {}).get("labels") or {}
    if spec.get("hostNetwork"):
        work.reasons.append("runs on the host network, which keeps IMDS")
        return work
    on_workload_id = str(labels.get(WI_LABEL, "")).lower() == "true"
    account = service_accounts.get(spec.get("serviceAccountName") or "default") or {}
    account_id = ((account.get("metadata") or {}).get("annotations") or {}).get(WI_ANNOTATION)
    breaks, risks = [], []
    if "aadpodidbinding" in labels:
        breaks.append(f"is bound to an aad-pod-identity identity (label aadpodidbinding={labels['aadpodidbinding']})")
    for volume in spec.get("volumes") or []:
        csi = volume.get("csi") or {}
        if csi.get("driver") != "secrets-store.csi.k8s.io":
            continue
        class_name = (csi.get("volumeAttributes") or {}).get("secretProviderClass")
        params = ((provider_classes.get(class_name) or {}).get("spec") or {}).get("parameters") or {}
        for flag in ("useVMManagedIdentity", "usePodIdentity"):
            if str(params.get(flag, "")).lower() == "true":
                breaks.append(f"mounts SecretProviderClass '{class_name}' with {flag}: \"true\" (Key Vault access "
                              "through IMDS)")
    if not on_workload_id:
        for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            named = [e["name"] for e in container.get("env") or [] if e.get("name") in AZURE_IDENTITY_ENV]
            if named:
                risks.append(f"container '{container.get('name')}' sets {', '.join(named)} without Workload ID "
                             "(an Azure SDK managed-identity credential would ask IMDS)")
            provider = _external_dns_provider(container)
            if provider:
                risks.append(f"container '{container.get('name')}' runs external-dns with --provider={provider} "
                             "without Workload ID: with useManagedIdentityExtension in its azure.json (its managed-"
                             "identity mode) it takes tokens from IMDS")
            if identity_issuers and "cert-manager-controller" in str(container.get("image", "")):
                breaks.append(f"container '{container.get('name')}' is cert-manager's controller without Workload ID, "
                              "and these issuers reach Azure DNS with a managed identity (through IMDS): "
                              f"{', '.join(identity_issuers)}")
    if breaks:
        work.verdict, work.reasons = BREAKS, breaks + risks
    elif risks:
        work.verdict, work.reasons = AT_RISK, risks
    elif on_workload_id:
        work.reasons.append("uses Microsoft Entra Workload ID" + ("" if account_id else
                                                                  " (its service account has no client-id)"))
    else:
        work.reasons.append("no sign of IMDS use")
    return work


def _items(kube: KubeClient, path: str) -> list:
    try:
        return kube.items(path)
    except ResourceNotFoundError:  # the API (a CRD) is not installed: nothing of that kind
        return []


def read_cluster(kube: KubeClient) -> List[Workload]:
    """Every workload of the cluster, classified."""
    accounts: Dict[str, Dict[str, dict]] = {}
    for account in _items(kube, "/api/v1/serviceaccounts"):
        accounts.setdefault(account["metadata"].get("namespace", ""), {})[account["metadata"]["name"]] = account
    classes: Dict[str, Dict[str, dict]] = {}
    for spc in _items(kube, SPC):
        classes.setdefault(spc["metadata"].get("namespace", ""), {})[spc["metadata"]["name"]] = spc
    issuers = managed_identity_issuers([issuer for path in ISSUERS for issuer in _items(kube, path)])
    objects = [obj for group, plural, _ in WORKLOAD_KINDS for obj in _items(kube, f"/apis/{group}/{plural}")]
    objects += [pod for pod in _items(kube, "/api/v1/pods") if not pod["metadata"].get("ownerReferences")]
    out = []
    for obj in objects:
        if obj.get("kind") == "Job" and obj["metadata"].get("ownerReferences"):
            continue  # a CronJob's run: the CronJob stands for it
        namespace = obj["metadata"].get("namespace", "")
        out.append(classify(namespace, obj.get("kind", "Pod"), obj["metadata"]["name"], _template(obj),
                            accounts.get(namespace, {}), classes.get(namespace, {}), issuers))
    return sorted(out, key=lambda w: ({BREAKS: 0, AT_RISK: 1}.get(w.verdict, 2), w.namespace, w.kind, w.name))


def fix_for(resource_group: str, name: str, work: Workload) -> str:
    return (f"Move {work.kind} {work.namespace}/{work.name} to Microsoft Entra Workload ID: "
            f"'az aks update -g {resource_group} -n {name} --enable-oidc-issuer --enable-workload-identity', "
            "a user-assigned identity with a federated credential for its service account, the annotation "
            f"{WI_ANNOTATION} on the service account and the label {WI_LABEL}: \"true\" on the pod template "
            "(https://learn.microsoft.com/azure/aks/workload-identity-migrate-from-pod-identity).")


def report(cluster: str, resource_group: str, workloads: List[Workload], pod_identity_enabled: bool) -> dict:
    findings = []
    if pod_identity_enabled:
        findings.append("The AKS pod identity add-on (podIdentityProfile.enabled) is on: its pods take tokens "
                        "through IMDS.")
    counts = {verdict: sum(1 for w in workloads if w.verdict == verdict) for verdict in (BREAKS, AT_RISK, UNAFFECTED)}
    return {"cluster": cluster, "summary": {"breaks": counts[BREAKS], "atRisk": counts[AT_RISK],
                                            "unaffected": counts[UNAFFECTED]},
            "findings": findings,
            "workloads": [w.to_dict(fix_for(resource_group, cluster, w)) for w in workloads]}


def breaking(report_: dict) -> List[str]:
    """One line per workload that breaks, and per cluster-level finding."""
    return report_["findings"] + [f"{w['kind']} {w['namespace']}/{w['name']}: {'; '.join(w['reasons'])}"
                                  for w in report_["workloads"] if w["verdict"] == BREAKS]
