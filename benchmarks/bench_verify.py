"""`aks imds-restriction verify` at 10, 100 and 1,000 nodes: wall time against one probe's own run, and the requests
it makes to the cluster's API server (writes must not grow with the nodes).
The emulator's probe containers run --probe-seconds before they exit, as curl's timeouts make them on a cluster.

    python benchmarks/bench_verify.py [--probe-seconds 5] [--nodes 10,100,1000]

Goal: at 1,000 nodes, wall time within 2x one probe's run plus 10 s. No assertions: read the figures.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

from imds_ext.emulator import Emulator
from imds_ext.emulator.client import AdminClient


def cluster(nodes: int) -> dict:
    # Pools of at most 1,000 nodes (AKS's limit per pool); the first is the System pool.
    pools, left, index = [], nodes, 0
    while left > 0:
        count = min(left, 1000)
        pools.append({"name": f"pool{index}", "count": count, "mode": "System" if index == 0 else "User",
                      "osType": "Linux", "vmSize": "Standard_DS2_v2", "type": "VirtualMachineScaleSets"})
        left, index = left - count, index + 1
    return {"location": "westus2", "identity": {"type": "SystemAssigned"}, "properties": {
        "dnsPrefix": "bench", "oidcIssuerProfile": {"enabled": True},
        "networkProfile": {"networkPlugin": "azure", "podLinkLocalAccess": "None"}, "agentPoolProfiles": pools}}


def run(admin, env, nodes: int, probe_seconds: float) -> dict:
    admin.reset()
    admin.seed(resourceGroups=[{"name": "bench", "location": "westus2"}],
               clusters=[{"resourceGroup": "bench", "name": "c1", "cluster": cluster(nodes)}],
               kubernetes=[{"resourceGroup": "bench", "cluster": "c1",
                            "facts": {"containerSeconds": probe_seconds}}])
    admin.clear_requests()
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "imds_ext", "aks", "imds-restriction", "verify", "-g", "bench",
                             "-n", "c1", "-o", "none"], env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"verify at {nodes} nodes failed: {result.stderr[-2000:]}")
    kube = [e for e in admin.requests() if e["path"].startswith("/kubernetes/")]
    return {"nodes": nodes, "wall": wall, "writes": sum(e["method"] != "GET" for e in kube),
            "reads": sum(e["method"] == "GET" for e in kube)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe-seconds", type=float, default=5.0)
    parser.add_argument("--nodes", default="10,100,1000")
    args = parser.parse_args()
    sizes = [int(n) for n in args.nodes.split(",")]
    with Emulator(lro_delay=0) as emu:
        admin = AdminClient.for_emulator(emu)
        env = {**os.environ, **emu.env(), "AZIMDS_CONFIG_DIR": tempfile.mkdtemp()}
        rows = [run(admin, env, n, args.probe_seconds) for n in sizes]
    goal = 2 * args.probe_seconds + 10
    print(f"verify, probes that run {args.probe_seconds:g} s (goal at 1,000 nodes: under {goal:g} s)")
    print(f"{'nodes':>6} {'wall s':>8} {'x probe':>8} {'writes':>7} {'reads':>6}")
    for row in rows:
        print(f"{row['nodes']:>6} {row['wall']:>8.1f} {row['wall'] / args.probe_seconds:>8.2f} "
              f"{row['writes']:>7} {row['reads']:>6}")


if __name__ == "__main__":
    main()
