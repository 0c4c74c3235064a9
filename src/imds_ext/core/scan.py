"""Which workloads lose their Azure tokens when IMDS closes: a classification of what runs in the cluster by the
signals of docs/aks-kubernetes.md ("Who takes tokens from IMDS"). The pods are the truth: each is attributed to its
top-level owner through `ownerReferences` of any kind (Pod -> ReplicaSet -> Deployment or Argo Rollout, Pod -> Job
-> CronJob or KEDA ScaledJob, a kind the scan does not know named as it is), and the templates of the controllers
with no running pod (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, bare ReplicaSets) are read too; a
workload's verdict is the worst of its pods and template. `classify` is a pure function over one pod template;
`read_cluster` reads the cluster a page at a time and keeps only small maps (owners, the ConfigMaps' identity keys)
and the aggregated workloads, never the pods."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, Iterator, List, Optional, Sequence, Tuple

from azure.core.exceptions import ResourceNotFoundError

from imds_ext.core.errors import ImdsExtError
from imds_ext.core.kube import KubeClient, KubernetesRefused

BREAKS, AT_RISK, UNAFFECTED = "breaks", "at risk", "unaffected"
_RANK = {BREAKS: 0, AT_RISK: 1, UNAFFECTED: 2}
WORKLOAD_KINDS = (("apps/v1", "deployments", "Deployment"), ("apps/v1", "statefulsets", "StatefulSet"),
                  ("apps/v1", "daemonsets", "DaemonSet"), ("batch/v1", "jobs", "Job"),
                  ("batch/v1", "cronjobs", "CronJob"), ("apps/v1", "replicasets", "ReplicaSet"))
PODS = "/api/v1/pods"
SERVICE_ACCOUNTS = "/api/v1/serviceaccounts"
SPC = "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses"
ISSUERS = ("/apis/cert-manager.io/v1/clusterissuers", "/apis/cert-manager.io/v1/issuers")
EXTERNAL_DNS_AZURE = ("azure", "azure-private-dns")  # external-dns's Azure providers
AZURE_IDENTITY_ENV = ("AZURE_CLIENT_ID", "MSI_ENDPOINT", "IDENTITY_ENDPOINT")
WI_LABEL = "azure.workload.identity/use"
WI_ANNOTATION = "azure.workload.identity/client-id"
# A ConfigMap's keys, as far as the identity settings go; None when the scan could not read it.
ConfigMapKeys = Callable[[str], Optional[FrozenSet[str]]]


class WorkloadsWouldBreak(ImdsExtError):
    """The scan found workloads that take tokens from IMDS; the message names each one, `report` (when the scan ran
    to the end) is the whole report with each one's fix."""

    def __init__(self, message: str, report: Optional[dict] = None):
        super().__init__(message)
        self.report = report


class ScanFailed(ImdsExtError):
    """The scan could not read what it needs (a list the credential may not read); the message names the
    permission."""


@dataclass
class Workload:
    namespace: str
    kind: str
    name: str
    verdict: str = UNAFFECTED
    reasons: List[str] = field(default_factory=list)
    pods: int = 0  # the pods seen running for it (0: only its template was read)

    def merge(self, other: "Workload") -> None:
        """The worst of the two verdicts, with its reasons (each once)."""
        if _RANK[other.verdict] < _RANK[self.verdict]:
            self.verdict, self.reasons = other.verdict, list(other.reasons)
        elif other.verdict == self.verdict:
            self.reasons += [r for r in other.reasons if r not in self.reasons]

    def to_dict(self, fix: Optional[str]) -> dict:
        return {"namespace": self.namespace, "kind": self.kind, "name": self.name, "verdict": self.verdict,
                "reasons": self.reasons, "pods": self.pods, "fix": fix if self.verdict != UNAFFECTED else None}


@dataclass
class ClusterScan:
    workloads: List[Workload]
    warnings: List[str]  # what could not be checked (an optional list the credential may not read), and why


def _template(obj: dict, kind: str) -> dict:
    """The pod template of an object of `kind`: the list's kind, since the API server leaves kind out of a list's
    items (kubernetes/kubernetes#3030)."""
    spec = obj.get("spec") or {}
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec") or {})
    if kind == "Pod":
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


def _unread(_name: str) -> Optional[FrozenSet[str]]:
    return None


def _identity_settings(container: dict, config_map: ConfigMapKeys) -> Tuple[List[str], List[str]]:
    """The Azure identity settings a container's environment sets (`env`, its `valueFrom` included, and the keys of
    the ConfigMaps `envFrom` names), and the sources it takes its environment from that the scan cannot look into
    (a Secret, never read; a ConfigMap it could not read)."""
    named = []
    for env in container.get("env") or []:
        if env.get("name") not in AZURE_IDENTITY_ENV:
            continue
        ref = env.get("valueFrom") or {}
        source = next((f" (from {kind} '{(ref[key] or {}).get('name')}')" for key, kind in (
            ("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")) if key in ref), "")
        named.append(env["name"] + source)
    hidden = []
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix") or ""
        if "configMapRef" in source:
            map_name = (source["configMapRef"] or {}).get("name")
            keys = config_map(map_name)
            if keys is None:
                hidden.append(f"ConfigMap '{map_name}', which the scan could not read")
            else:
                named += [f"{prefix}{key} (from ConfigMap '{map_name}', envFrom)" for key in sorted(keys)
                          if prefix + key in AZURE_IDENTITY_ENV]
        elif "secretRef" in source:
            hidden.append(f"Secret '{(source['secretRef'] or {}).get('name')}', which the scan does not read")
    return named, hidden


def classify(namespace: str, kind: str, name: str, template: dict, service_accounts: Dict[str, dict],
             provider_classes: Dict[str, dict], identity_issuers: Sequence[str] = (),
             config_map: ConfigMapKeys = _unread) -> Workload:
    """One workload's verdict, from its pod template, its service account, the SecretProviderClasses it mounts,
    (for cert-manager's controller) the issuers that authenticate to Azure DNS with a managed identity, and the
    keys of the ConfigMaps its containers take their environment from (`config_map`: a ConfigMap of the namespace
    by name, None when it could not be read)."""
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
            named, hidden = _identity_settings(container, config_map)
            if named:
                risks.append(f"container '{container.get('name')}' sets {', '.join(named)} without Workload ID "
                             "(an Azure SDK managed-identity credential would ask IMDS)")
            risks += [f"container '{container.get('name')}' takes its environment from {where} (envFrom): "
                      f"{', '.join(AZURE_IDENTITY_ENV)} may be set there, without Workload ID (an Azure SDK "
                      "managed-identity credential would ask IMDS)" for where in hidden]
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


def _resource(path: str) -> str:
    """`pods`, `secretproviderclasses.secrets-store.csi.x-k8s.io`: a list's resource as RBAC names it."""
    parts = path.strip("/").split("/")
    return parts[-1] if parts[0] == "api" else f"{parts[-1]}.{parts[1]}"


class _Reader:
    """The scan's reads: every list a page at a time; the ConfigMaps that `envFrom` names, each read once; what an
    optional read could not check, as warnings."""

    def __init__(self, kube: KubeClient):
        self.kube = kube
        self.warnings: List[str] = []
        self._config_maps: Dict[Tuple[str, str], Optional[FrozenSet[str]]] = {}
        self._unreadable_maps: Dict[str, List[str]] = {}  # namespace -> the ConfigMaps it could not read

    def each(self, path: str, unchecked: Optional[str] = None) -> Iterator[dict]:
        """Every object of the list at `path`; none when its API (a CRD) is not installed. A list the credential
        may not read ends the scan (ScanFailed, naming the permission), unless it is optional (`unchecked`: what
        goes unchecked without it, said in a warning)."""
        try:
            yield from self.kube.items(path)
        except ResourceNotFoundError:
            return
        except KubernetesRefused as ex:
            if ex.status_code != 403:
                raise
            permission = f"'list' on {_resource(path)} in every namespace"
            if unchecked is None:
                raise ScanFailed(f"The scan needs {permission}, which the credential does not have. "
                                 f"{ex}") from ex
            self.warnings.append(f"Not checked: {unchecked}. The credential may not {permission}: {ex}")

    def config_map(self, namespace: str, name: str) -> Optional[FrozenSet[str]]:
        """The keys of a ConfigMap that can make an identity setting (with an `envFrom` prefix or not); None when
        the credential may not read it."""
        key = (namespace, name)
        if key not in self._config_maps:
            try:
                data = self.kube.get(f"/api/v1/namespaces/{namespace}/configmaps/{name}").get("data") or {}
                self._config_maps[key] = frozenset(k for k in data if any(n.endswith(k) for n in AZURE_IDENTITY_ENV))
            except ResourceNotFoundError:  # a missing ConfigMap sets nothing (the pod does not start without it)
                self._config_maps[key] = frozenset()
            except KubernetesRefused as ex:
                if ex.status_code != 403:
                    raise
                self._config_maps[key] = None
                self._unreadable_maps.setdefault(namespace, []).append(name)
        return self._config_maps[key]

    def all_warnings(self) -> List[str]:
        return self.warnings + [
            f"Not checked: the identity settings that ConfigMap(s) {', '.join(sorted(names))} of namespace "
            f"'{namespace}' may give through envFrom (their workloads are at risk). The credential may not 'get' "
            f"configmaps in namespace '{namespace}' (docs/kubernetes-access.md)."
            for namespace, names in sorted(self._unreadable_maps.items())]


def _controller(meta: dict) -> Optional[Tuple[str, str]]:
    """(kind, name) of the owner that controls an object (the reference marked `controller`, else the first)."""
    refs = meta.get("ownerReferences") or []
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    return (ref.get("kind") or "", ref.get("name") or "") if ref else None


def _skips_template(kind: str, owner: Optional[Tuple[str, str]]) -> bool:
    """A template another one stands for: a ReplicaSet's when it has an owner (the Deployment's template, and the
    Rollout's pods, say what runs; old revisions do not), a CronJob's Job (the CronJob's)."""
    return owner is not None and (kind == "ReplicaSet" or (kind == "Job" and owner[0] == "CronJob"))


def _add(into: Dict[Tuple[str, str, str], Workload], found: Workload, kind: str, name: str, pods: int = 0) -> None:
    """Merge a verdict into the workload (`kind`, `name`) of its namespace."""
    key = (found.namespace, kind, name)
    work = into.get(key)
    if work is None:
        into[key] = Workload(found.namespace, kind, name, found.verdict, list(found.reasons), found.pods + pods)
        return
    work.merge(found)
    work.pods += found.pods + pods


def read_cluster(kube: KubeClient) -> ClusterScan:
    """Every workload of the cluster, classified: the controllers' templates, then every pod, each into its
    top-level owner."""
    reader = _Reader(kube)
    accounts: Dict[str, Dict[str, dict]] = {}
    for account in reader.each(SERVICE_ACCOUNTS):
        meta = account["metadata"]
        client_id = (meta.get("annotations") or {}).get(WI_ANNOTATION)
        accounts.setdefault(meta.get("namespace", ""), {})[meta["name"]] = {
            "metadata": {"annotations": {WI_ANNOTATION: client_id} if client_id else {}}}
    classes: Dict[str, Dict[str, dict]] = {}
    for spc in reader.each(SPC, "the Key Vault SecretProviderClasses that workloads mount (useVMManagedIdentity, "
                                "usePodIdentity)"):
        parameters = (spc.get("spec") or {}).get("parameters") or {}
        classes.setdefault(spc["metadata"].get("namespace", ""), {})[spc["metadata"]["name"]] = {
            "spec": {"parameters": {k: v for k, v in parameters.items() if k in ("useVMManagedIdentity",
                                                                                    "usePodIdentity")}}}
    issuers = managed_identity_issuers([  # each with its list's kind, which the items do not carry
        {**issuer, "kind": "ClusterIssuer" if path.endswith("/clusterissuers") else "Issuer"} for path in ISSUERS
        for issuer in reader.each(path, f"cert-manager's {_resource(path).split('.')[0]} (an Azure DNS solver on "
                                        "a managed identity)")])

    def judge(namespace: str, kind: str, name: str, template: dict) -> Workload:
        return classify(namespace, kind, name, template, accounts.get(namespace, {}), classes.get(namespace, {}),
                        issuers, functools.partial(reader.config_map, namespace))

    owners: Dict[Tuple[str, str, str], Tuple[str, str]] = {}  # (namespace, kind, name) -> its controller
    # The templates read, merged by their direct owner (or themselves): a ScaledJob's thousand Jobs are one entry.
    templates: Dict[Tuple[str, str, str], Workload] = {}
    for group, plural, kind in WORKLOAD_KINDS:
        for obj in reader.each(f"/apis/{group}/{plural}"):
            meta = obj["metadata"]
            namespace, owner = meta.get("namespace", ""), _controller(meta)
            if owner:
                owners[(namespace, kind, meta["name"])] = owner
            if not _skips_template(kind, owner):
                _add(templates, judge(namespace, kind, meta["name"], _template(obj, kind)),
                     *(owner or (kind, meta["name"])))

    def top(namespace: str, kind: str, name: str) -> Tuple[str, str]:
        seen = set()
        while (namespace, kind, name) in owners and (kind, name) not in seen:
            seen.add((kind, name))
            kind, name = owners[(namespace, kind, name)]
        return kind, name

    workloads: Dict[Tuple[str, str, str], Workload] = {}
    for (namespace, kind, name), found in templates.items():
        _add(workloads, found, *top(namespace, kind, name))
    del templates
    for pod in reader.each(PODS):
        meta = pod["metadata"]
        namespace, owner = meta.get("namespace", ""), _controller(meta)
        kind, name = top(namespace, *owner) if owner else ("Pod", meta["name"])
        _add(workloads, judge(namespace, kind, name, _template(pod, "Pod")), kind, name, pods=1)
    ordered = sorted(workloads.values(), key=lambda w: (_RANK[w.verdict], w.namespace, w.kind, w.name))
    return ClusterScan(ordered, reader.all_warnings())


def fix_for(resource_group: str, name: str, work: Workload) -> str:
    return (f"Move {work.kind} {work.namespace}/{work.name} to Microsoft Entra Workload ID: "
            f"'az aks update -g {resource_group} -n {name} --enable-oidc-issuer --enable-workload-identity', "
            "a user-assigned identity with a federated credential for its service account, the annotation "
            f"{WI_ANNOTATION} on the service account and the label {WI_LABEL}: \"true\" on the pod template "
            "(https://learn.microsoft.com/azure/aks/workload-identity-migrate-from-pod-identity).")


def report(cluster: str, resource_group: str, workloads: List[Workload], pod_identity_enabled: bool,
           warnings: Sequence[str] = ()) -> dict:
    findings = []
    if pod_identity_enabled:
        findings.append("The AKS pod identity add-on (podIdentityProfile.enabled) is on: its pods take tokens "
                        "through IMDS.")
    counts = {verdict: sum(1 for w in workloads if w.verdict == verdict) for verdict in (BREAKS, AT_RISK, UNAFFECTED)}
    return {"cluster": cluster, "summary": {"breaks": counts[BREAKS], "atRisk": counts[AT_RISK],
                                            "unaffected": counts[UNAFFECTED]},
            "findings": findings, "warnings": list(warnings),
            "workloads": [w.to_dict(fix_for(resource_group, cluster, w)) for w in workloads]}


def breaking(report_: dict) -> List[str]:
    """One line per workload that breaks, and per cluster-level finding."""
    return report_["findings"] + [f"{w['kind']} {w['namespace']}/{w['name']}: {'; '.join(w['reasons'])}"
                                  for w in report_["workloads"] if w["verdict"] == BREAKS]


def breaking_message(cluster: str, lines: Sequence[str]) -> str:
    return (f"{len(lines)} workload(s) or component(s) of cluster '{cluster}' take tokens from IMDS and break when "
            "IMDS restriction is on:\n  " + "\n  ".join(lines) + "\nMove them to Microsoft Entra Workload ID (each "
            "one's fix is in the report on stdout; docs/aks-kubernetes.md).")
