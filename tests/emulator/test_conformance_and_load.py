"""Replay of the real service recording; faults; state file; 32 concurrent clients."""
import json
import os
import threading
from urllib.parse import urlsplit

import pytest
import yaml
from azure.core.exceptions import ServiceResponseError

from imds_ext.emulator import Emulator, StateFileError
from tests.support.clusters import cluster_body

# A copy of ../shared/reference/recordings/ (a real, sanitized service run), so the replay runs on any clone.
RECORDING = os.path.join(os.path.dirname(__file__), "recordings", "test_aks_enable_imds_restriction.yaml")


def test_replay_of_the_real_recording(arm, admin, emulator):
    admin.seed({"resourceGroups": [{"name": "clitest000001", "location": "centraluseuap"}]})
    with open(RECORDING, encoding="utf-8") as f:
        interactions = yaml.safe_load(f)["interactions"]
    op_urls = {}
    for i in interactions:
        req, rec = i["request"], i["response"]
        url = urlsplit(req["uri"])
        path, query = url.path, dict(p.split("=", 1) for p in url.query.split("&"))
        if "/operations/" in path:  # the emulator's own operation id stands in for the recorded one
            path = op_urls[path.rsplit("/", 1)[1]]
        headers = {k: v[0] for k, v in req["headers"].items() if k.lower() in ("akshttpcustomfeatures",)}
        body = json.loads(req["body"]) if req.get("body") else None
        r = arm(req["method"], path, api=query["api-version"], headers=headers, json=body)
        assert r.status_code == rec["status"]["code"], (req["method"], path, r.text)
        recorded = {k.lower(): v[0] for k, v in rec["headers"].items()}
        for h in ("azure-asyncoperation", "location"):
            assert (h in {k.lower() for k in r.headers}) == (h in recorded), h
            if h in recorded:
                ours, theirs = urlsplit(r.headers[h]), urlsplit(recorded[h])
                assert ours.path.split("/")[:-1] == [s if s != "centraluseuap" else s for s in
                                                     theirs.path.split("/")[:-1]]
                op_urls[theirs.path.rsplit("/", 1)[1]] = ours.path
        text = rec["body"].get("string") or ""
        if "/operations/" in path:
            assert set(r.json()) <= {"name", "status", "startTime", "endTime"}
            assert {"name", "status", "startTime"} <= set(r.json())
        elif text and req["method"] in ("GET", "PUT") and "managedClusters" in path and r.status_code < 300:
            expected = json.loads(text)["properties"]["networkProfile"]["podLinkLocalAccess"]
            assert r.json()["properties"]["networkProfile"]["podLinkLocalAccess"] == expected


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
