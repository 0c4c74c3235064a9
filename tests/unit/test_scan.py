"""The workload classification: each signal of docs/aks-kubernetes.md gives its verdict and names itself; the
reading of a cluster (a fake API server): owners of any kind, ConfigMaps behind envFrom, 403s, memory."""
import gc
import weakref

import pytest
from azure.core.exceptions import ResourceNotFoundError

from imds_ext.core import scan
from imds_ext.core.kube import KubernetesRefused


def template(labels=None, host=False, env=None, volumes=None, account=None):
    return {"metadata": {"labels": labels or {}},
            "spec": {"hostNetwork": host, "serviceAccountName": account,
                     "containers": [{"name": "app", "env": [{"name": k, "value": "x"} for k in env or []]}],
                     "volumes": volumes or []}}


def spc_volume(name):
    return {"name": "kv", "csi": {"driver": "secrets-store.csi.k8s.io", "volumeAttributes": {
        "secretProviderClass": name}}}


def classify(tpl, accounts=None, classes=None):
    return scan.classify("ns", "Deployment", "web", tpl, accounts or {}, classes or {})


def test_aad_pod_identity_binding_breaks():
    work = classify(template(labels={"aadpodidbinding": "web"}))
    assert work.verdict == scan.BREAKS and "aadpodidbinding=web" in work.reasons[0]


def test_key_vault_through_imds_breaks_and_workload_identity_mode_does_not():
    classes = {"vm": {"spec": {"parameters": {"useVMManagedIdentity": "true"}}},
               "pod": {"spec": {"parameters": {"usePodIdentity": "true"}}},
               "wi": {"spec": {"parameters": {"clientID": "1234"}}}}
    assert classify(template(volumes=[spc_volume("vm")]), classes=classes).verdict == scan.BREAKS
    assert "usePodIdentity" in classify(template(volumes=[spc_volume("pod")]), classes=classes).reasons[0]
    assert classify(template(volumes=[spc_volume("wi")]), classes=classes).verdict == scan.UNAFFECTED


def test_an_identity_setting_without_workload_id_is_at_risk():
    work = classify(template(env=["AZURE_CLIENT_ID"]))
    assert work.verdict == scan.AT_RISK and "AZURE_CLIENT_ID" in work.reasons[0]
    on_wi = classify(template(labels={scan.WI_LABEL: "true"}, env=["AZURE_CLIENT_ID"], account="app"),
                     accounts={"app": {"metadata": {"annotations": {scan.WI_ANNOTATION: "1234"}}}})
    assert on_wi.verdict == scan.UNAFFECTED and on_wi.reasons == ["uses Microsoft Entra Workload ID"]


def test_host_network_keeps_imds_whatever_else_it_does():
    work = classify(template(labels={"aadpodidbinding": "x"}, host=True))
    assert work.verdict == scan.UNAFFECTED and "host network" in work.reasons[0]


def test_the_report_counts_and_fixes():
    works = [classify(template(labels={"aadpodidbinding": "w"})), classify(template())]
    result = scan.report("c1", "rg", works, pod_identity_enabled=True)
    assert result["summary"] == {"breaks": 1, "atRisk": 0, "unaffected": 1}
    assert "Workload ID" in result["workloads"][0]["fix"] and result["workloads"][1]["fix"] is None
    assert len(scan.breaking(result)) == 2  # the workload and the pod identity add-on


def container_template(container, labels=None):
    return {"metadata": {"labels": labels or {}}, "spec": {"containers": [container]}}


def test_external_dns_with_the_azure_provider_without_workload_id_is_at_risk():
    for args in (["--source=service", "--provider=azure"], ["--provider", "azure-private-dns"]):
        work = classify(container_template({"name": "external-dns", "args": args}))
        assert work.verdict == scan.AT_RISK and "external-dns" in work.reasons[0]
        assert "useManagedIdentityExtension" in work.reasons[0]
    other = classify(container_template({"name": "external-dns", "args": ["--provider=aws"]}))
    assert other.verdict == scan.UNAFFECTED
    on_wi = classify(container_template({"name": "external-dns", "args": ["--provider=azure"]},
                                        labels={scan.WI_LABEL: "true"}))
    assert on_wi.verdict == scan.UNAFFECTED


def issuer(kind, name, azure_dns, namespace=None):
    return {"kind": kind, "metadata": {"name": name, **({"namespace": namespace} if namespace else {})},
            "spec": {"acme": {"solvers": [{"dns01": {"azureDNS": azure_dns}}]}}}


def test_cert_managers_controller_breaks_when_an_issuer_uses_a_managed_identity_without_workload_id():
    issuers = scan.managed_identity_issuers([
        issuer("ClusterIssuer", "letsencrypt", {"managedIdentity": {"clientID": "1234"}}),
        issuer("Issuer", "sp", {"clientID": "1234", "clientSecretSecretRef": {"name": "s", "key": "k"}}, "shop"),
        issuer("Issuer", "kubelet", {"subscriptionID": "s", "hostedZoneName": "example.com"}, "shop")])
    assert issuers == ["ClusterIssuer letsencrypt", "Issuer shop/kubelet"]  # the service principal one is fine
    controller = {"name": "cert-manager-controller", "image": "quay.io/jetstack/cert-manager-controller:v1.16.2"}
    work = scan.classify("cert-manager", "Deployment", "cert-manager", container_template(controller), {}, {},
                         issuers)
    assert work.verdict == scan.BREAKS and work.reasons[0].endswith("ClusterIssuer letsencrypt, Issuer shop/kubelet")
    assert scan.classify("cert-manager", "Deployment", "cert-manager", container_template(controller), {}, {},
                         []).verdict == scan.UNAFFECTED  # no issuer with a managed identity
    on_wi = scan.classify("cert-manager", "Deployment", "cert-manager",
                          container_template(controller, labels={scan.WI_LABEL: "true"}), {}, {}, issuers)
    assert on_wi.verdict == scan.UNAFFECTED


# -- reading the cluster: a fake API server ----------------------------------------------------------------
class FakeKube:
    """Lists by path (a 403 where `forbidden` says), ConfigMaps by namespace and name; every GET recorded."""

    def __init__(self, lists=None, config_maps=None, forbidden=()):
        self.lists, self.config_maps, self.forbidden, self.gets = lists or {}, config_maps or {}, forbidden, []

    def _refuse(self, path):
        raise KubernetesRefused(f'{path.rsplit("/", 1)[1]} is forbidden: User "u" cannot list it', 403)

    def items(self, path):
        if path in self.forbidden:
            self._refuse(path)
        yield from self.lists.get(path, [])

    def get(self, path):
        self.gets.append(path)
        if path in self.forbidden or "configmaps" in self.forbidden:
            self._refuse(path)
        if path not in self.config_maps:
            raise ResourceNotFoundError("not found")
        return self.config_maps[path]


def a_pod(name, namespace="shop", owner=None, labels=None, container=None):
    meta = {"name": name, "namespace": namespace, "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    return {"kind": "Pod", "metadata": meta, "spec": {"containers": [container or {"name": "app"}]}}


def test_a_forbidden_optional_list_is_a_warning_naming_the_permission_not_an_abort():
    kube = FakeKube(lists={scan.PODS: [a_pod("p", labels={"aadpodidbinding": "x"})]},
                    forbidden=(scan.SPC, scan.ISSUERS[0], scan.ISSUERS[1]))
    found = scan.read_cluster(kube)
    assert [(w.kind, w.verdict) for w in found.workloads] == [("Pod", scan.BREAKS)]
    assert len(found.warnings) == 3
    assert found.warnings[0].startswith("Not checked: the Key Vault SecretProviderClasses")
    assert "'list' on secretproviderclasses.secrets-store.csi.x-k8s.io in every namespace" in found.warnings[0]
    assert "'list' on clusterissuers.cert-manager.io" in found.warnings[1]
    result = scan.report("c1", "rg", found.workloads, False, found.warnings)
    assert result["warnings"] == found.warnings


def test_a_forbidden_config_map_is_a_warning_and_its_workloads_are_at_risk():
    container = {"name": "app", "envFrom": [{"configMapRef": {"name": "azure"}}]}
    kube = FakeKube(lists={scan.PODS: [a_pod(f"web-{i}", owner=("StatefulSet", "web"), container=container)
                                       for i in range(2)]}, forbidden=("configmaps",))
    found = scan.read_cluster(kube)
    [work] = found.workloads
    assert work.verdict == scan.AT_RISK and "ConfigMap 'azure', which the scan could not read" in work.reasons[0]
    assert found.warnings == ["Not checked: the identity settings that ConfigMap(s) azure of namespace 'shop' may "
                              "give through envFrom (their workloads are at risk). The credential may not 'get' "
                              "configmaps in namespace 'shop' (docs/kubernetes-access.md)."]
    assert len(kube.gets) == 1  # read once, for both pods


def test_forbidden_pods_end_the_scan_naming_the_permission():
    with pytest.raises(scan.ScanFailed, match="The scan needs 'list' on pods in every namespace.*pods is forbidden"):
        scan.read_cluster(FakeKube(forbidden=(scan.PODS,)))


def test_config_map_keys_count_with_an_env_from_prefix():
    container = {"name": "app", "envFrom": [{"configMapRef": {"name": "ids"}, "prefix": "AZURE_"}]}
    kube = FakeKube(lists={scan.PODS: [a_pod("p", container=container)]},
                    config_maps={"/api/v1/namespaces/shop/configmaps/ids": {"data": {"CLIENT_ID": "1"}}})
    [work] = scan.read_cluster(kube).workloads
    assert work.verdict == scan.AT_RISK and "AZURE_CLIENT_ID (from ConfigMap 'ids', envFrom)" in work.reasons[0]


def test_pods_go_to_their_top_level_owner_and_the_worst_verdict_wins():
    deployment = {"kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
                  "spec": {"template": {"metadata": {}, "spec": {"containers": [{"name": "app"}]}}}}
    replica_set = {"kind": "ReplicaSet", "metadata": {"name": "web-1", "namespace": "shop", "ownerReferences": [
        {"kind": "Deployment", "name": "web", "controller": True}]}, "spec": {"template": {"spec": {}}}}
    pods = [a_pod("web-1-a", owner=("ReplicaSet", "web-1")),  # unaffected like the template
            a_pod("web-1-b", owner=("ReplicaSet", "web-1"), labels={"aadpodidbinding": "x"}),  # one pod breaks
            a_pod("node-static", namespace="kube-system", owner=("Node", "aks-node-0"))]
    kube = FakeKube(lists={"/apis/apps/v1/deployments": [deployment], "/apis/apps/v1/replicasets": [replica_set],
                           scan.PODS: pods})
    found = {(w.kind, w.name): w for w in scan.read_cluster(kube).workloads}
    assert set(found) == {("Deployment", "web"), ("Node", "aks-node-0")}
    assert found[("Deployment", "web")].verdict == scan.BREAKS and found[("Deployment", "web")].pods == 2


def test_the_pods_are_read_as_they_come_never_held():
    """Memory bounded by a page: the scan consumes the pods as the pager yields them, keeping none."""
    class Body(dict):
        pass

    alive = []

    def pods():
        for i in range(2000):
            body = Body(a_pod(f"web-{i}", owner=("ReplicaSet", "web-1")))
            alive.append(weakref.ref(body))
            yield body
            gc.collect() if i % 500 == 499 else None
            assert sum(ref() is not None for ref in alive) <= 2  # the one being read, at most one more

    kube = FakeKube()
    kube.lists[scan.PODS] = pods()
    [work] = scan.read_cluster(kube).workloads
    assert (work.kind, work.name, work.pods) == ("ReplicaSet", "web-1", 2000)


def test_list_items_without_kind_as_the_api_server_sends_them_are_still_judged():
    """A list's items carry no kind or apiVersion (only the list does: kubernetes/kubernetes#3030); the scan knows
    each list's kind, so a pod's own labels and a CronJob's job template are read all the same."""
    pod = a_pod("debug", labels={"aadpodidbinding": "x"})
    del pod["kind"]
    cron = {"metadata": {"name": "nightly", "namespace": "shop"}, "spec": {"jobTemplate": {"spec": {"template": {
        "metadata": {"labels": {"aadpodidbinding": "y"}}, "spec": {"containers": [{"name": "job"}]}}}}}}
    cluster_issuer = issuer("ClusterIssuer", "letsencrypt", {"managedIdentity": {"clientID": "1234"}})
    del cluster_issuer["kind"]
    controller = a_pod("cert-manager", namespace="cert-manager", container={
        "name": "cert-manager-controller", "image": "quay.io/jetstack/cert-manager-controller:v1.16.2"})
    kube = FakeKube(lists={scan.PODS: [pod, controller], "/apis/batch/v1/cronjobs": [cron],
                           scan.ISSUERS[0]: [cluster_issuer]})
    found = {(w.kind, w.name): w for w in scan.read_cluster(kube).workloads}
    assert {key: w.verdict for key, w in found.items()} == {
        ("Pod", "debug"): scan.BREAKS, ("CronJob", "nightly"): scan.BREAKS, ("Pod", "cert-manager"): scan.BREAKS}
    assert found[("Pod", "cert-manager")].reasons[0].endswith(": ClusterIssuer letsencrypt")
