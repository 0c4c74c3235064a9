"""Bad input and bad environments: a sentence naming what is wrong and how to fix it, the right exit code, no
traceback, and no request to ARM."""
import pytest

from tests.support.constants import RG

UPDATE = ("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes")


def _arm_requests(admin):
    return [e for e in admin.requests() if e["path"].startswith("/subscriptions/")]


@pytest.mark.parametrize("args, message", [
    (("aks", "update", "-g", RG, "-n", "", "--enable-imds-restriction", "--yes"), "--name/-n is empty"),
    (("aks", "update", "-g", "", "-n", "c1", "--disable-imds-restriction", "--yes"), "--resource-group/-g is empty"),
    (("aks", "show", "-g", RG, "-n", "bad-"), "--name/-n 'bad-' is not a valid name"),
    (("aks", "show", "-g", "rg.", "-n", "c1"), "--resource-group/-g 'rg.' is not a valid name"),
    (("aks", "imds-restriction", "show", "-g", RG, "-n", "x" * 64), "is not a valid name: 1-63 letters"),
    (("aks", "nodepool", "upgrade", "-g", RG, "--cluster-name", "c1", "-n", "Pool_1", "--node-image-only"),
     "--name/-n 'Pool_1' is not a valid name: a lowercase letter"),
    (UPDATE + ("--aks-custom-headers", "AKSHTTPCustomFeatures=x\r\nInjected: 1"),
     "--aks-custom-headers must be on one line"),
    (UPDATE + ("--aks-custom-headers", "Bad Name=x"), "'Bad Name' is not a valid header name"),
    (UPDATE + ("--if-match", "abc\r\nX-Injected: 1"), "--if-match must be an ETag"),
    (UPDATE + ("--if-match", " "), "--if-match must be an ETag"),
])
def test_bad_arguments_are_usage_errors_before_any_request(az_imds, admin, seed_cluster, args, message):
    seed_cluster()
    r = az_imds(*args)
    assert r.code == 2, r.err
    assert message in r.err
    assert "Traceback" not in r.err
    assert _arm_requests(admin) == []


@pytest.mark.parametrize("env, message", [
    ({"AZIMDS_AKS_API_VERSION": "2024-03-02-preview"}, "only AKS preview api-versions from 2024-04-02-preview"),
    ({"AZIMDS_AKS_API_VERSION": "latest"}, "AZIMDS_AKS_API_VERSION='latest' cannot manage IMDS restriction"),
    ({"AZIMDS_ARM_ENDPOINT": "http://127.0.0.1:1"}, "is not an https:// URL of Azure Resource Manager"),
    ({"AZURE_TENANT_ID": "not a tenant!"}, "The credential settings in the environment are not valid"),
    ({"AZIMDS_CORE_INSTANCE_DISCOVERY": "maybe"}, "AZIMDS_CORE_INSTANCE_DISCOVERY (core.instance_discovery) must be "
                                                  "true or false"),
])
def test_bad_environment_values_are_named_before_any_request(az_imds, cli_env, admin, seed_cluster, env, message):
    seed_cluster()
    r = az_imds(*UPDATE, env=dict(cli_env, **env))
    assert r.code == 1, r.err
    assert message in r.err
    assert "Traceback" not in r.err
    assert _arm_requests(admin) == []
    assert admin.enforced(RG, "c1") == {"nodepool1": "IMDS", "userpool": "IMDS"}


@pytest.mark.parametrize("endpoint, reason", [
    ("https://127.0.0.1:9", "Connection refused"),
    ("https://imds-ext-test.invalid", "imds-ext-test.invalid"),
])
def test_an_unreachable_service_is_a_sentence(az_imds, cli_env, endpoint, reason):
    env = dict(cli_env, AZIMDS_ARM_ENDPOINT=endpoint, AZURE_AUTHORITY_HOST=endpoint)
    r = az_imds("aks", "show", "-g", RG, "-n", "c1", env=env)
    assert r.code == 1
    assert reason in r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) <= 6


def test_an_unreadable_answer_is_a_sentence(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="GET", path="/managedClusters/c1$", count=1, status=200, body="not json")
    r = az_imds("aks", "imds-restriction", "show", "-g", RG, "-n", "c1")
    assert r.code == 1
    assert r.err.startswith("ERROR: ") and "Traceback" not in r.err
