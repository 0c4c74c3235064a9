"""The workload classification: each signal of docs/aks-kubernetes.md gives its verdict and names itself."""
from imds_ext.core import scan


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
