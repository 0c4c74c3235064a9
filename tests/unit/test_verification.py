"""verify's judgement of one node from its probes' container statuses, and the client's choice of credential for a
kubeconfig's exec plugin: pure functions, the cases a real cluster produces."""
import re

import pytest

from imds_ext.core.errors import ConfigurationError
from imds_ext.core.kube import AKS_SERVER_SCOPE, kubelogin_scope
from imds_ext.core.verification import ENFORCED, INCONCLUSIVE, OPEN, Probe, judge, not_probed, pool_of


def _pod(restart_always=True, **exit_codes):
    statuses = []
    for name, code in exit_codes.items():
        done = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}
        statuses.append({"name": name, "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": done}
                        if restart_always else {"name": name, "state": done})
    return Probe.of({"status": {"phase": "Running", "containerStatuses": statuses}})


def test_a_timeout_with_the_reference_and_the_control_answering_is_enforced():
    verdict, reason, evidence = judge(_pod(reference=0, imds=28), _pod(imds=0))
    assert verdict == ENFORCED
    assert evidence == {"pod": "timed out", "reference": "answered", "hostNetwork": "answered"}


def test_an_answer_to_the_pod_is_open():
    assert judge(_pod(reference=0, imds=0), _pod(imds=0))[0] == OPEN


@pytest.mark.parametrize("pod, host, reason", [
    (dict(reference=127, imds=127), dict(imds=127), "has no curl"),
    (dict(reference=0, imds=137), dict(imds=0), "was killed (exit 137"),
    (dict(reference=28, imds=28), dict(imds=0), "reach nothing"),
    (dict(reference=0, imds=28), dict(imds=28), "did not answer the host-network control"),
    (dict(reference=0, imds=7), dict(imds=0), "refused the pod's connection"),
])
def test_anything_else_is_inconclusive_with_its_reason(pod, host, reason):
    verdict, why, _ = judge(_pod(**pod), _pod(**host))
    assert verdict == INCONCLUSIVE and reason in why


def test_a_probe_still_running_has_no_verdict_yet():
    running = Probe.of({"status": {"phase": "Running", "containerStatuses": [
        {"name": "reference", "state": {"running": {}}}, {"name": "imds", "state": {"running": {}}}]}})
    assert judge(running, _pod(imds=0))[0] is None
    assert judge(None, _pod(imds=0))[0] is None


def test_a_pod_that_cannot_start_is_inconclusive_at_once():
    pulled_not = Probe.of({"status": {"phase": "Pending", "containerStatuses": [
        {"name": "imds", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling"}}}]}})
    assert judge(pulled_not, None)[:2] == (INCONCLUSIVE, "the pod-network probe did not run: image not pulled "
                                                         "(ImagePullBackOff: Back-off pulling)")
    unschedulable = Probe.of({"status": {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "Insufficient cpu"}]}})
    assert "not scheduled: Insufficient cpu" in judge(_pod(reference=0, imds=28), unschedulable)[1]


def test_nodes_that_are_not_pool_vms():
    virtual = {"metadata": {"labels": {"type": "virtual-kubelet", "kubernetes.io/os": "linux"}}}
    windows = {"metadata": {"labels": {"kubernetes.io/os": "windows", "kubernetes.azure.com/agentpool": "win"}}}
    nap = {"metadata": {"labels": {"kubernetes.io/os": "linux", "karpenter.sh/nodepool": "default"}}}
    assert "virtual node" in not_probed(virtual) and "Linux nodes only" in not_probed(windows)
    assert not_probed(nap) is None and pool_of(nap) == "nap:default" and pool_of(windows) == "win"


def test_kubelogin_gets_its_own_server_id_and_nothing_else_gets_a_token():
    assert kubelogin_scope("u", {"command": "kubelogin", "args": ["get-token", "--server-id", "abc"]}) == "abc/.default"
    assert kubelogin_scope("u", {"command": "/usr/local/bin/kubelogin",
                                 "args": ["get-token", "--server-id=def"]}) == "def/.default"
    assert kubelogin_scope("u", {"command": "kubelogin", "args": ["get-token"]}) == AKS_SERVER_SCOPE
    for plugin in ({"command": "aws", "args": ["eks", "get-token"]}, {"command": "gke-gcloud-auth-plugin"},
                   {"command": "kubelogin", "args": ["convert-kubeconfig"]}, {"command": "/tmp/kubelogin.sh"}):
        with pytest.raises(ConfigurationError, match="which is not kubelogin for an AKS cluster"):
            kubelogin_scope("u", plugin)


@pytest.mark.parametrize("config, message", [
    (["a", "list"], "is not a kubeconfig"),
    ({"current-context": "c", "contexts": [{"name": "c", "context": {"cluster": "k"}}]}, "names no user"),
    ({"current-context": "c", "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
      "clusters": [{"name": "k", "cluster": {"server": "https://k", "certificate-authority-data": "%%not base64"}}],
      "users": [{"name": "u", "user": {"token": "t"}}]},
     "certificate-authority-data of f.yaml, context 'c' is not base64"),
    ({"current-context": "c", "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
      "clusters": [{"name": "k", "cluster": {}}], "users": [{"name": "u", "user": {"token": "t"}}]},
     "names no server"),
])
def test_a_malformed_kubeconfig_is_a_sentence_naming_it(config, message):
    from imds_ext.core.kube import KubeClient

    with pytest.raises(ConfigurationError, match=re.escape(message)):
        KubeClient.from_kubeconfig(config, source="f.yaml")


def test_a_kubeconfig_that_is_not_a_regular_file_is_refused_before_reading(tmp_path):
    import os

    from imds_ext.core.access import read_kubeconfig

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        with pytest.raises(ConfigurationError, match="a device, pipe or socket, not a regular file"):
            read_kubeconfig(path)
    bom = tmp_path / "bom"
    bom.write_bytes("\ufeffapiVersion: v1\n".encode())
    assert read_kubeconfig(str(bom)) == {"apiVersion": "v1"}
