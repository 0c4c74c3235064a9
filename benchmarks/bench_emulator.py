"""Requests per second of the emulator: 1 client vs 32 concurrent clients, GETs and PUTs. No assertions.

Run: PYTHONPATH=src python benchmarks/bench_emulator.py [seconds-per-case]
"""
import sys
import threading
import time

import requests

from imds_ext.emulator import (
    WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_SUBSCRIPTION_ID, WELL_KNOWN_TENANT_ID, Emulator,
)

API = "api-version=2026-05-02-preview"


def run(emu, token, clients, method, seconds):
    url = (f"{emu.arm_endpoint}/subscriptions/{WELL_KNOWN_SUBSCRIPTION_ID}/resourceGroups/bench/providers/"
           f"Microsoft.ContainerService/managedClusters/c{{}}?{API}")
    body = {"location": "eastus", "properties": {"agentPoolProfiles": [{"name": "nodepool1"}],
                                                 "oidcIssuerProfile": {"enabled": True}}}
    counts, stop = [0] * clients, time.monotonic() + seconds

    def worker(i):
        s = requests.Session()
        h = {"Authorization": f"Bearer {token}"}
        while time.monotonic() < stop:
            # each client owns a cluster: PUTs are not refused by 409 while the previous one settles
            r = s.request(method, url.format(i), headers=h, json=body if method == "PUT" else None,
                          verify=emu.ca_bundle_path)
            if r.status_code < 300:
                counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    with Emulator() as emu:
        token = requests.post(f"{emu.authority_host}/{WELL_KNOWN_TENANT_ID}/oauth2/v2.0/token",
                              verify=emu.ca_bundle_path,
                              data={"grant_type": "client_credentials", "client_id": WELL_KNOWN_CLIENT_ID,
                                    "client_secret": WELL_KNOWN_CLIENT_SECRET,
                                    "scope": emu.arm_endpoint + "/.default"}).json()["access_token"]
        emu.backend.put_resource_group(WELL_KNOWN_SUBSCRIPTION_ID, "bench", {"location": "eastus"})
        run(emu, token, 32, "PUT", 0.5)  # create the clusters
        print(f"{'case':<6}{'1 client req/s':>18}{'32 clients req/s':>20}")
        for method in ("GET", "PUT"):
            one = run(emu, token, 1, method, seconds)
            many = run(emu, token, 32, method, seconds)
            print(f"{method:<6}{one:>18.0f}{many:>20.0f}")


if __name__ == "__main__":
    main()
