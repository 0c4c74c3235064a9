"""Start-up: `az-imds aks update --help` beside a bare `import knack` and beside the real `az aks update --help`.

Each command runs --runs times in a fresh interpreter; the table gives the median wall time, the peak memory
(max RSS) and the ratio to the knack import. The real az is the one the az test tier installs
(~/.cache/imds-ext/azcli, or IMDS_EXT_AZ_VENV); its column is left out when it is not there. No assertions.

    python benchmarks/bench_startup.py [--runs 7]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

MEASURE = ("import json, resource, subprocess, sys, time; t = time.perf_counter(); "
           "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
           "print(json.dumps([time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")


def measure(argv, runs):
    times, peaks = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, check=True)
        seconds, kib = json.loads(out.stdout)
        times.append(seconds)
        peaks.append(kib)
    return statistics.median(times), max(peaks) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    env_az = Path(os.environ.get("IMDS_EXT_AZ_VENV") or Path.home() / ".cache" / "imds-ext" / "azcli") / "bin" / "az"
    cases = [("python -c 'import knack'", [sys.executable, "-c", "import knack"]),
             ("az-imds aks update --help", [sys.executable, "-m", "imds_ext", "aks", "update", "--help"])]
    if env_az.exists():
        cases.append(("az aks update --help (real az)", [str(env_az), "aks", "update", "--help"]))
    started = time.perf_counter()
    results = [(label, *measure(argv, runs)) for label, argv in cases]
    base = results[0][1]
    print(f"{'command':<34} {'median s':>9} {'peak MiB':>9} {'x knack':>8}")
    for label, seconds, mib in results:
        print(f"{label:<34} {seconds:>9.3f} {mib:>9.1f} {seconds / base:>8.2f}")
    print(f"({runs} runs each, {time.perf_counter() - started:.0f} s in all; goal: az-imds at most 2x the knack "
          "import)")


if __name__ == "__main__":
    main()
