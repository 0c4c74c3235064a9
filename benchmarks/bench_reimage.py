"""Node-image upgrade of every pool: concurrently (what az-imds does) vs one pool after another.

Runs both against the same in-process emulator, each pool's upgrade taking LRO_DELAY seconds, and prints the
wall time of each and their ratio side by side. No assertions: read the figures.

    python benchmarks/bench_reimage.py [--pools 6] [--lro-delay 1.0]
"""
import argparse
import os
import time

from imds_ext.core.clients import ArmClients
from imds_ext.core.interaction import Quiet
from imds_ext.core.service import ImdsRestrictionService
from imds_ext.core.settings import resolve_settings
from imds_ext.emulator import Emulator
from imds_ext.emulator.client import AdminClient


def seed(emulator, pools):
    body = {"location": "westus2", "properties": {
        "dnsPrefix": "bench", "oidcIssuerProfile": {"enabled": True},
        "agentPoolProfiles": [{"name": f"pool{i}", "count": 3, "vmSize": "Standard_DS2_v2", "osType": "Linux",
                               "mode": "System" if i == 0 else "User"} for i in range(pools)]}}
    admin = AdminClient.for_emulator(emulator)
    admin.reset()
    admin.seed({"clusters": [{"resourceGroup": "bench", "name": "c", "cluster": body}]})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=6)
    parser.add_argument("--lro-delay", type=float, default=1.0)
    args = parser.parse_args()
    with Emulator(lro_delay=args.lro_delay) as emulator:
        os.environ.update(emulator.env())
        from azure.identity import ClientSecretCredential

        env = emulator.env()
        credential = ClientSecretCredential(env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], env["AZURE_CLIENT_SECRET"],
                                            authority=emulator.authority_host, disable_instance_discovery=True)
        service = ImdsRestrictionService(ArmClients(resolve_settings(), credential=credential), Quiet())
        pools = [f"pool{i}" for i in range(args.pools)]

        seed(emulator, args.pools)
        start = time.perf_counter()
        service.upgrade_node_images("bench", "c", pools)
        concurrent = time.perf_counter() - start

        seed(emulator, args.pools)
        start = time.perf_counter()
        for pool in pools:
            service.upgrade_node_images("bench", "c", [pool])
        sequential = time.perf_counter() - start

    print(f"node-image upgrade of {args.pools} pools, {args.lro_delay:.1f}s each (emulated):")
    print(f"  {'concurrent (az-imds)':<24}{concurrent:8.2f} s")
    print(f"  {'one after another':<24}{sequential:8.2f} s")
    print(f"  {'speed-up':<24}{sequential / concurrent:8.2f} x")


if __name__ == "__main__":
    main()
