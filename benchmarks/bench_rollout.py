"""Fleet rollout: wall time at several --max-parallel, each as a ratio to one cluster's flow, and requests per cluster.

Starts the emulator in its own process in the faithful mode (no Retry-After, as AKS), seeds CLUSTERS clusters with two
Linux pools each, and runs the real `az-imds aks imds-restriction rollout start --enable` (no canary wave) at each
--max-parallel. The critical path is one cluster's flow alone (`az-imds aks update --enable-imds-restriction`, the same
steps); the schedule bound is what no scheduler can beat with that many clusters at once: ceil(CLUSTERS / P) times
the critical path. Requests per cluster come from the emulator's request log, beside those of the single update.
The rows at each --max-parallel run without the request budget (AZIMDS_ARM_READS_PER_SECOND=0: the schedule's own
cost); a last row runs the widest one with the default budget (20 reads and 8 writes per second per subscription,
inside ARM's limits), which operations of one second make the bottleneck. No assertions: read the figures.

    python benchmarks/bench_rollout.py [--clusters 200] [--parallel 1 16 64] [--lro-delay 1.0]
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

from imds_ext.emulator.client import AdminClient

FEATURE = "Microsoft.ContainerService/IMDSRestrictionPreview"


def body(i):
    return {"location": "westus2", "tags": {"fleet": "bench"}, "identity": {"type": "SystemAssigned"}, "properties": {
        "dnsPrefix": f"c{i}", "kubernetesVersion": "1.33.1", "oidcIssuerProfile": {"enabled": True},
        "securityProfile": {"workloadIdentity": {"enabled": True}},
        "agentPoolProfiles": [{"name": name, "count": 3, "vmSize": "Standard_DS2_v2", "osType": "Linux", "mode": mode}
                              for name, mode in (("system", "System"), ("user", "User"))]}}


def seed(admin, clusters):
    admin.reset()
    admin.config(lro_delay=ARGS.lro_delay, omit_retry_after=True)
    admin.seed({"features": {FEATURE: "Registered"},
                "resourceGroups": [{"name": "fleet", "location": "westus2"}],
                "clusters": [{"resourceGroup": "fleet", "name": f"c{i:03d}", "cluster": body(i)}
                             for i in range(clusters)]})
    admin.clear_requests()


def run(env, *args):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "imds_ext", *args], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"'az-imds {' '.join(args)}' failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds


def start_emulator(folder):
    env_file = os.path.join(folder, "env.sh")
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", "emulator", "start", "--env-file", env_file,
                             "--no-retry-after", "--lro-delay", str(ARGS.lro_delay)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not os.path.exists(env_file) and time.monotonic() < deadline:
        time.sleep(0.1)
    env = dict(os.environ)
    with open(env_file, encoding="utf-8") as f:
        for line in f:
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                env[key] = value.strip("'\"")
    return proc, env


def job_phases(log):
    """One cluster's job, request by request, in the phases that cost a wait: the update (its PUT and the polls
    after it), the reimage (the pools' POSTs and their polls), the record's removal (the tags PATCH and its polls);
    the reads before and between are "reads"."""
    phases = {"reads": 0, "update": 0, "reimage": 0, "record": 0}
    phase = "reads"
    for entry in log:
        method, path = entry["method"], entry["path"]
        if method == "PUT" and "/managedClusters/" in path:
            phase = "update"
        elif method == "POST" and path.endswith("/upgradeNodeImageVersion"):
            phase = "reimage"
        elif method == "PATCH" and "/managedClusters/" in path:
            phase = "record"
        elif method == "GET" and "/operations/" not in path and "/operationresults/" not in path.lower() \
                and phase == "update":
            phase = "reads"
        phases[phase] += 1
    return phases


def main():
    with tempfile.TemporaryDirectory() as folder:
        emulator, env = start_emulator(folder)
        try:
            env["AZIMDS_CONFIG_DIR"] = os.path.join(folder, "config")
            admin = AdminClient(env["AZIMDS_ARM_ENDPOINT"], env["REQUESTS_CA_BUNDLE"])

            seed(admin, 1)
            single = [run(env, "aks", "update", "-g", "fleet", "-n", "c000", "--enable-imds-restriction", "--yes",
                          "-o", "none")]
            single_requests = len(admin.requests())
            phases = job_phases(admin.requests())
            for _ in range(2):  # the median of three runs of one cluster's flow
                seed(admin, 1)
                single.append(run(env, "aks", "update", "-g", "fleet", "-n", "c000", "--enable-imds-restriction",
                                  "--yes", "-o", "none"))
            critical = sorted(single)[1]

            rows = []
            unlimited = {**env, "AZIMDS_ARM_READS_PER_SECOND": "0", "AZIMDS_ARM_WRITES_PER_SECOND": "0"}
            runs = [(p, unlimited, "off") for p in ARGS.parallel] + [(max(ARGS.parallel), env, "default")]
            for parallel, run_env, budget in runs:
                seed(admin, ARGS.clusters)
                seconds = run(run_env, "aks", "imds-restriction", "rollout", "start", "--enable", "--canary", "0",
                              "--max-parallel", str(parallel), "--yes", "-o", "none")
                requests = len(admin.requests())
                bound = math.ceil(ARGS.clusters / parallel) * critical
                rows.append((parallel, budget, seconds, seconds / critical, bound / critical, seconds / bound,
                             requests / ARGS.clusters))
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)

    print(f"rollout of {ARGS.clusters} clusters (2 Linux pools each), operations of {ARGS.lro_delay:.1f} s, "
          "no Retry-After (the faithful mode)")
    print(f"one cluster's flow alone (aks update --enable-imds-restriction, the critical path): {critical:.2f} s, "
          f"{single_requests} requests")
    print(f"  its requests by phase: {', '.join(f'{k} {v}' for k, v in phases.items())}; the operations it waits "
          f"for: the update, the reimage (pools at once) and the record's removal, {ARGS.lro_delay:.1f} s each here "
          "(on AKS the tags update takes about as long as the update: docs/convergence.md)")
    print(f"  {'max-parallel':>12} {'budget':>8} {'wall s':>9} {'x critical':>11} {'bound x':>8} {'x bound':>8} "
          f"{'req/cluster':>12}")
    for parallel, budget, seconds, ratio, bound, to_bound, per_cluster in rows:
        print(f"  {parallel:>12} {budget:>8} {seconds:>9.1f} {ratio:>11.2f} {bound:>8.0f} {to_bound:>8.2f} "
              f"{per_cluster:>12.1f}")
    print("  (bound x: ceil(clusters / max-parallel), the least any schedule can take, in critical paths; "
          "x bound: wall time over that bound)")


if __name__ == "__main__":
    PARSER = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    PARSER.add_argument("--clusters", type=int, default=200)
    PARSER.add_argument("--parallel", type=int, nargs="+", default=[1, 16, 64])
    PARSER.add_argument("--lro-delay", type=float, default=1.0)
    ARGS = PARSER.parse_args()
    main()
