"""`aks imds-restriction scan` at 1,000, 10,000 and 50,000 pods: peak memory and wall time, side by side.

The emulator runs in a process of its own (this script with --serve), the scan as the real `az-imds` in another,
whose peak resident memory (ru_maxrss, from os.wait4 on that child alone), CPU and wall time are measured. The
emulator must not be the scan's parent: a child's ru_maxrss starts from its parent's resident size at the fork. A
baseline row is `az-imds aks show` of the same cluster: the interpreter, knack and the Azure SDKs, before any pod
is read; "cpu per 1k pods" is the scan's own CPU time beyond that start-up (the wall time also holds the
emulator's). The workloads stay the same (WORKLOADS Deployments, each with its ReplicaSet) while their replicas
grow, so the report is the same size at every scale and what grows is only what the scan reads: the pods, a page
of 500 at a time. Pods are realistic in size (labels, owner, two containers with env, resources, probes, mounts;
the status the API server adds).

They are put into the emulator's store directly: its admin seed creates objects one by one, each checked against
the others (fine for tests, quadratic at 50,000). Goal (issue 15): peak memory flat, within 1.5x from 1,000 to
50,000 pods; time linear. No assertions: read the figures.

    python benchmarks/bench_scan.py [--pods 1000 10000 50000] [--workloads 100]
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

from imds_ext.emulator.client import AdminClient

SUB = "00000000-0000-0000-0000-000000000000"
FEATURE = "Microsoft.ContainerService/IMDSRestrictionPreview"
NAMESPACES = 10


def seed_cluster(emulator):
    from imds_ext.emulator.client import AdminClient

    admin = AdminClient.for_emulator(emulator)
    admin.reset()
    admin.seed({"features": {FEATURE: "Registered"}, "resourceGroups": [{"name": "bench", "location": "westus2"}],
                "clusters": [{"resourceGroup": "bench", "name": "c1", "cluster": {
                    "location": "westus2", "properties": {
                        "dnsPrefix": "c1", "oidcIssuerProfile": {"enabled": True},
                        "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "vmSize": "Standard_DS2_v2",
                                               "osType": "Linux", "mode": "System"}]}}}]})


def container(name, image, identity=False):
    env = [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": "8080"},
           {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
    if identity:
        env.append({"name": "AZURE_CLIENT_ID", "value": "00000000-0000-0000-0000-00000000c11d"})
    return {"name": name, "image": image, "env": env, "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
            "volumeMounts": [{"name": "config", "mountPath": "/etc/app"},
                             {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                              "readOnly": True}]}


def pod_spec(identity):
    return {"serviceAccountName": "default", "containers": [container("app", "myregistry.azurecr.io/shop/app:1.4.2",
                                                                      identity),
                                                            container("sidecar", "myregistry.azurecr.io/proxy:2.1")],
            "volumes": [{"name": "config", "configMap": {"name": "app-config"}},
                        {"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {
                            "expirationSeconds": 3607, "path": "token"}}]}}],
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300}],
            "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30}


def fill(emulator, pods, workloads):
    """Deployments, their ReplicaSets and `pods` pods, straight into the emulator's table."""
    from imds_ext.emulator.providers.containerservice.records import cluster_key
    from imds_ext.emulator.providers.kubernetes.backend import KubeObject

    backend = emulator.backend.kubernetes
    key = cluster_key(SUB, "bench", "c1")
    table = backend.objects
    [(node, _)] = backend.nodes(emulator.backend.container_service.clusters[key])[:1]
    with emulator.backend.store.lock:
        for k in [k for k, o in table.items() if o.cluster == key]:
            del table[k]

        def put(api_version, plural, body):
            meta = body["metadata"]
            table[backend._key(key, api_version, plural, meta["namespace"], meta["name"])] = KubeObject(
                cluster=key, api_version=api_version, plural=plural, namespace=meta["namespace"], body=body)

        for w in range(workloads):
            namespace, name, identity = f"team-{w % NAMESPACES}", f"app-{w:03d}", w % 10 == 0
            labels = {"app.kubernetes.io/name": name, "pod-template-hash": "6d8f9c7b5"}
            template = {"metadata": {"labels": labels}, "spec": pod_spec(identity)}
            put("apps/v1", "deployments", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
                "name": name, "namespace": namespace, "uid": f"d-{w}"}, "spec": {"template": template}})
            put("apps/v1", "replicasets", {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {
                "name": f"{name}-6d8f9c7b5", "namespace": namespace, "uid": f"rs-{w}", "ownerReferences": [
                    {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": f"d-{w}",
                     "controller": True}]}, "spec": {"template": template}})
        for i in range(pods):
            w = i % workloads
            namespace, name = f"team-{w % NAMESPACES}", f"app-{w:03d}"
            put("v1", "pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {
                "name": f"{name}-6d8f9c7b5-{i:06d}", "namespace": namespace, "uid": f"p-{i}",
                "labels": {"app.kubernetes.io/name": name, "pod-template-hash": "6d8f9c7b5"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{name}-6d8f9c7b5",
                                     "uid": f"rs-{w}", "controller": True, "blockOwnerDeletion": True}]},
                "spec": {**pod_spec(w % 10 == 0), "nodeName": node.name}})


def run(env, *args):
    """(wall seconds, CPU seconds, peak RSS in MiB, exit code) of `az-imds ARGS`, measured on that child alone."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "imds_ext", *args], env=env, stdout=out,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def serve(pods, workloads, env_file):
    """The emulator with the cluster and its pods, until SIGTERM."""
    from imds_ext.emulator import Emulator

    with Emulator() as emulator:
        seed_cluster(emulator)
        fill(emulator, pods, workloads)
        emulator.write_env_file(env_file)
        signal.sigwait([signal.SIGTERM])


def start_emulator(folder, pods, workloads):
    env_file = os.path.join(folder, f"emulator-{pods}.env")
    proc = subprocess.Popen([sys.executable, __file__, "--serve", "--pods", str(pods), "--workloads", str(workloads),
                             "--env-file", env_file], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not os.path.exists(env_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit("the emulator did not start")
        time.sleep(0.2)
    env = dict(os.environ, AZIMDS_CONFIG_DIR=os.path.join(folder, "config"))
    with open(env_file, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.strip().removeprefix("export ").partition("=")
            env[key] = value.strip("'")
    return proc, env


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--workloads", type=int, default=100)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--env-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
        return serve(args.pods[0], args.workloads, args.env_file)
    rows, base = [], None
    with tempfile.TemporaryDirectory() as folder:
        for pods in args.pods:
            emulator, env = start_emulator(folder, pods, args.workloads)
            try:
                if base is None:
                    base = run(env, "aks", "show", "-g", "bench", "-n", "c1")
                admin = AdminClient(env["AZIMDS_ARM_ENDPOINT"], env["REQUESTS_CA_BUNDLE"])
                admin.clear_requests()
                seconds, cpu, rss, code = run(env, "aks", "imds-restriction", "scan", "-g", "bench", "-n", "c1", "-o",
                                         "json")
                rows.append((pods, seconds, cpu, rss, code, len(admin.requests("GET", "/api/v1/pods"))))
            finally:
                emulator.send_signal(signal.SIGTERM)
                emulator.wait(timeout=60)
    base_seconds, base_cpu, base_rss, _ = base
    print(f"scan of {args.workloads} Deployments (one in ten at risk) as their pods grow; az-imds and the emulator "
          "in processes of their own")
    print(f"{'pods':>8}{'wall s':>9}{'cpu s':>8}{'cpu per 1k pods':>17}{'peak MiB':>10}{'x 1st':>7}{'over base':>11}"
          f"{'pages':>7}{'exit':>6}")
    print(f"{'aks show':>8}{base_seconds:>9.2f}{base_cpu:>8.2f}{'':>17}{base_rss:>10.1f}")
    for pods, seconds, cpu, rss, code, pages in rows:
        print(f"{pods:>8}{seconds:>9.2f}{cpu:>8.2f}{(cpu - base_cpu) / (pods / 1000):>15.3f} s{rss:>10.1f}"
              f"{rss / rows[0][3]:>6.2f}x{rss - base_rss:>10.1f}M{pages:>7}{code:>6}")
    print("wall s includes the emulator's serving of each page; cpu s is az-imds's own (user + system), and "
          "cpu per 1k pods is the scan's beyond the start-up of 'aks show'.")


if __name__ == "__main__":
    main()
