"""Faults; state file; 32 concurrent clients; idle and slow connections. (The replay of real recordings is
tests/conformance.)"""
import contextlib
import socket
import ssl
import threading
import time

import pytest
import requests
from azure.core.exceptions import ServiceResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

from imds_ext.emulator import (
    WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_TENANT_ID, Emulator, StateFileError,
)
from tests.support.clusters import cluster_body
from tests.support.constants import SUB


def test_sdk_retries_an_injected_503(aks, rg, admin):
    admin.fault(method="GET", path="/managedClusters$", status=503, retryAfter=1, count=1)
    assert list(aks.managed_clusters.list_by_resource_group(rg)) == []
    assert [e["status"] for e in admin.requests() if e["path"].endswith("/managedClusters")] == [503, 200]


def test_dropped_connection_and_delay(aks, rg, admin):
    admin.fault(method="GET", path="/managedClusters$", drop=True, count=10)
    with pytest.raises(ServiceResponseError):
        list(aks.managed_clusters.list_by_resource_group(rg, retry_total=0))
    admin.clear_faults()
    admin.fault(method="GET", path="/managedClusters$", delaySeconds=0.2)
    assert list(aks.managed_clusters.list_by_resource_group(rg)) == []


def test_state_file_round_trip_and_corrupt_file(tmp_path):
    path = str(tmp_path / "state.json")
    with Emulator(state_file=path) as emu:
        emu.backend.seed({"clusters": [{"resourceGroup": "rg", "name": "c1", "cluster": cluster_body()}]})
        emu.write_env_file(str(tmp_path / "env"))
    assert "export AZURE_CLIENT_ID=" in (tmp_path / "env").read_text()
    with Emulator(state_file=path) as emu:
        report = emu.backend.container_service.node_report("00000000-0000-0000-0000-000000000000", "RG", "c1")
        assert report["pools"]["nodepool1"]["podLinkLocalAccess"] == "IMDS"
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(StateFileError) as e:
        Emulator(state_file=path)
    assert path in str(e.value)


def test_32_concurrent_clients_lose_no_update(arm, rg, aks, emulator):
    aks.managed_clusters.begin_create_or_update(rg, "c1", cluster_body()).result()
    url = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/" \
          "Microsoft.ContainerService/managedClusters/c1"
    errors, per_client = [], 3

    def client():
        for _ in range(per_client):
            while True:
                current = arm("GET", url)
                if current.status_code != 200:
                    errors.append(current.status_code)
                    return
                body = current.json()
                if body["properties"]["provisioningState"] != "Succeeded":
                    continue
                tags = body.get("tags") or {}
                tags["count"] = str(int(tags.get("count", "0")) + 1)
                body["tags"] = tags
                r = arm("PUT", url, json=body, headers={"If-Match": body["eTag"]})
                if r.status_code == 200:
                    break
                if r.status_code not in (409, 412):
                    errors.append(r.status_code)
                    return

    threads = [threading.Thread(target=client) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert arm("GET", url).json()["tags"]["count"] == str(32 * per_client)


def _address(emu):
    host, port = emu.arm_endpoint.rsplit("//", 1)[1].rsplit(":", 1)
    return host, int(port)


def test_idle_and_slow_connections_do_not_stall_a_new_client():
    """130 raw TCP connections that never speak, 60 TLS connections that never send a request and 60 that send
    half a request (slowloris), all at once: a new client, a real SDK one, is still answered within seconds."""
    with Emulator() as emu, contextlib.ExitStack() as held:
        address = _address(emu)
        context = ssl.create_default_context(cafile=emu.ca_bundle_path)
        for i in range(120):
            tls = held.enter_context(context.wrap_socket(socket.create_connection(address, timeout=10),
                                                         server_hostname=address[0]))
            if i % 2:
                tls.sendall(b"GET /metadata/endpoints HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and nothing more
        for _ in range(130):
            held.enter_context(socket.create_connection(address, timeout=10))
        started = time.monotonic()
        r = requests.get(f"{emu.arm_endpoint}/metadata/endpoints?api-version=2022-09-01", verify=emu.ca_bundle_path,
                         timeout=15)
        assert r.status_code == 200
        credential = ClientSecretCredential(WELL_KNOWN_TENANT_ID, WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET,
                                            authority=emu.authority_host, connection_verify=emu.ca_bundle_path,
                                            disable_instance_discovery=True)
        groups = ResourceManagementClient(credential, SUB, base_url=emu.arm_endpoint, retry_total=0,
                                          credential_scopes=[emu.arm_endpoint + "/.default"],
                                          connection_verify=emu.ca_bundle_path, connection_timeout=15,
                                          read_timeout=15)
        assert list(groups.resource_groups.list()) == []
        assert time.monotonic() - started < 15
