"""Requests per second the emulator serves: 1 client vs 32 concurrent clients, GETs and PUTs, with HTTP
keep-alive (what the Azure SDKs do) and with a new TLS connection per request. No assertions: read the figures.

The emulator runs as its own process (`az-imds emulator start`), so the clients here do not share its GIL.

Run: python benchmarks/bench_emulator.py [seconds-per-case]
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests

from imds_ext.emulator import WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_TENANT_ID

API = "api-version=2026-05-02-preview"


def start_emulator(workdir):
    env_file = os.path.join(workdir, "emu.env")
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", "emulator", "start", "--port", "0",
                             "--env-file", env_file, "--lro-delay", "0", "--registration-delay", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not os.path.exists(env_file):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit("the emulator did not start")
        time.sleep(0.1)
    env = {}
    for line in open(env_file, encoding="utf-8"):
        key, _, value = line.strip().removeprefix("export ").partition("=")
        env[key] = value.strip("'")
    return proc, env


def run(env, token, clients, method, keep_alive, seconds):
    base = env["AZIMDS_ARM_ENDPOINT"]
    sub = env["AZURE_SUBSCRIPTION_ID"]
    url = (f"{base}/subscriptions/{sub}/resourceGroups/bench/providers/Microsoft.ContainerService/managedClusters/"
           f"c{{}}?{API}")
    body = {"location": "eastus", "properties": {"agentPoolProfiles": [{"name": "nodepool1"}],
                                                 "oidcIssuerProfile": {"enabled": True}}}
    counts, errors, stop = [0] * clients, [0] * clients, time.monotonic() + seconds

    def worker(i):
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"}
        if not keep_alive:
            headers["Connection"] = "close"
        while time.monotonic() < stop:
            # each client owns a cluster, so PUTs are not refused with 409 while its previous one settles
            r = session.request(method, url.format(i), headers=headers, json=body if method == "PUT" else None,
                                verify=env["REQUESTS_CA_BUNDLE"])
            if r.status_code < 300:
                counts[i] += 1
            else:
                errors[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds, sum(errors)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    with tempfile.TemporaryDirectory() as workdir:
        proc, env = start_emulator(workdir)
        try:
            ca = env["REQUESTS_CA_BUNDLE"]
            token = requests.post(f"{env['AZURE_AUTHORITY_HOST']}/{WELL_KNOWN_TENANT_ID}/oauth2/v2.0/token", verify=ca,
                                  data={"grant_type": "client_credentials", "client_id": WELL_KNOWN_CLIENT_ID,
                                        "client_secret": WELL_KNOWN_CLIENT_SECRET,
                                        "scope": env["AZIMDS_ARM_ENDPOINT"] + "/.default"}).json()["access_token"]
            requests.put(f"{env['AZIMDS_ARM_ENDPOINT']}/subscriptions/{env['AZURE_SUBSCRIPTION_ID']}/resourcegroups/"
                         "bench?api-version=2024-11-01", json={"location": "eastus"}, verify=ca,
                         headers={"Authorization": f"Bearer {token}"}).raise_for_status()
            run(env, token, 32, "PUT", True, 0.5)  # create the clusters
            print(f"{seconds:.0f} s per case; requests/second (errors)")
            print(f"{'case':<24}{'1 client':>14}{'32 clients':>14}{'32 / 1':>9}")
            for keep_alive in (True, False):
                for method in ("GET", "PUT"):
                    one, e1 = run(env, token, 1, method, keep_alive, seconds)
                    many, e32 = run(env, token, 32, method, keep_alive, seconds)
                    label = f"{method} {'keep-alive' if keep_alive else 'new connection'}"
                    print(f"{label:<24}{one:>9.0f} ({e1}){many:>9.0f} ({e32}){many / one:>8.2f}x")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
