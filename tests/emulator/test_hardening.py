"""The emulator under bad input and bad conditions: ARM's 400s naming the field, limits, the state file, start-up
failures, secrets kept out of the request log."""
import http.client
import json
import os
import socket
import ssl
import tempfile

import pytest
import requests

from imds_ext.emulator import Emulator, StartError, StateFileError
from tests.support.clusters import cluster_body, pool
from tests.support.constants import SUB

MC = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters"
GROUPS = f"/subscriptions/{SUB}/resourcegroups"


def _with(**props):
    body = cluster_body()
    body["properties"].update(props)
    return body


@pytest.mark.parametrize("body, target", [
    ({"location": 5}, "location"),
    ({"location": "w", "properties": []}, "properties"),
    (_with(agentPoolProfiles="x"), "properties.agentPoolProfiles"),
    (_with(agentPoolProfiles=[pool("p1", count="x")]), "properties.agentPoolProfiles[0].count"),
    (_with(networkProfile="x"), "properties.networkProfile"),
    (_with(kubernetesVersion="../../x"), "properties.kubernetesVersion"),
    (_with(oidcIssuerProfile={"enabled": "yes"}), "properties.oidcIssuerProfile.enabled"),
    (_with(addonProfiles={"omsagent": "on"}), "properties.addonProfiles.omsagent"),
    (dict(cluster_body(), tags={"a": 5}), "tags.a"),
])
def test_malformed_cluster_bodies_are_400_naming_the_field(arm, rg, admin, body, target):
    r = arm("PUT", f"{MC}/c1", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] in ("InvalidParameter", "LocationRequired") and r.json()["target"] == target
    assert arm("GET", f"{MC}/c1").status_code == 404  # nothing was created


@pytest.mark.parametrize("location", ["west\nus", "westus\n", "west\rus", "west/us", " westus"])
def test_a_location_with_a_newline_is_a_400_naming_location_and_nothing_is_stored(arm, rg, admin, location):
    r = arm("PUT", f"{MC}/c1", json=dict(cluster_body(), location=location))
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "InvalidParameter" and r.json()["target"] == "location"
    assert arm("GET", f"{MC}/c1").status_code == 404
    r = arm("PUT", f"{GROUPS}/rg2", api="2021-04-01", json={"location": location})
    assert r.status_code == 400 and r.json()["error"]["target"] == "location"
    assert arm("GET", f"{GROUPS}/rg2", api="2021-04-01").status_code == 404
    assert arm("PUT", f"{MC}/c1", json=dict(cluster_body(), location="West US 2")).status_code == 201


@pytest.mark.parametrize("path, code", [
    (f"{MC}/{'a' * 64}", "InvalidResourceName"),
    (f"{MC}/a%20b", "InvalidResourceName"),
    (f"{MC}/%ff", "InvalidResourceName"),
    (f"{MC}/-x", "InvalidResourceName"),
    (f"{GROUPS}/{'g' * 91}", "InvalidResourceGroupName"),
    (f"{GROUPS}/ends.", "InvalidResourceGroupName"),
])
def test_invalid_names_are_400(arm, rg, admin, path, code):
    cluster = "/managedClusters/" in path
    r = arm("PUT", path, json=cluster_body() if cluster else {"location": "westus2"},
            **({} if cluster else {"api": "2021-04-01"}))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code


def test_other_bodies_are_400_too(arm, rg, admin):
    arm("PUT", f"{MC}/c1", json=cluster_body())
    assert arm("PUT", f"{MC}/c1/agentPools/p2", json={"properties": {"maxPods": "x"}}).status_code == 400
    assert arm("PATCH", f"{MC}/c1", json={"tags": "x"}).status_code == 400
    ext = f"{MC}/c1/providers/Microsoft.KubernetesConfiguration/extensions/e1"
    assert arm("PUT", ext, api="2023-05-01", json={"properties": {"extensionType": 5}}).status_code == 400
    assert arm("PUT", f"{GROUPS}/rg2", api="2021-04-01", json={"location": "w", "tags": []}).status_code == 400


def test_an_oversized_body_is_refused_before_it_is_read(emulator, admin, token):
    context = ssl.create_default_context(cafile=emulator.ca_bundle_path)
    host, port = emulator.arm_endpoint.rsplit("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
    conn.putrequest("PUT", f"{MC}/big?api-version=2026-05-02-preview")
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(150 * 1024 * 1024))
    conn.endheaders()  # no body follows: the answer must not wait for it
    response = conn.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"]["code"] == "RequestContentTooLarge"
    conn.close()


@pytest.mark.parametrize("body", [b"x" * (5 * 1024 * 1024), iter([b"x" * 65536] * 80)],
                         ids=["content-length", "chunked"])
def test_a_body_over_4_mib_that_is_sent_gets_the_413_not_a_reset_connection(arm, rg, admin, body):
    r = arm("PUT", f"{MC}/big", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "RequestContentTooLarge"
    assert arm("GET", f"{MC}/big").status_code == 404


@pytest.mark.parametrize("depth", [100, 1000, 100000])
def test_a_body_nested_too_deep_is_a_400_not_a_500(arm, rg, admin, depth):
    r = arm("PUT", f"{MC}/deep", data="[" * depth + "]" * depth, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequestContent", r.text
    assert "nested deeper than 64 levels" in r.json()["error"]["message"]
    assert arm("PUT", f"{MC}/deep", json=cluster_body()).status_code == 201  # a real body is nowhere near


@pytest.mark.parametrize("spec", [{"path": 5}, {"path": "x", "status": "abc"}, {"path": "x", "delaySeconds": -1},
                                  {"path": "x", "status": 503, "unknown": 1}])
def test_bad_faults_are_400(admin, spec):
    with pytest.raises(Exception) as e:
        admin.fault(**spec)
    assert e.value.response.status_code == 400 and e.value.response.json()["error"]["code"] == "InvalidFault"


@pytest.mark.parametrize("raw", ['{"lroDelaySeconds": "abc"}', '{"lroDelaySeconds": 1e400}',
                                 '{"registrationDelaySeconds": -1}', '{"lroDelay": 1}'])
def test_bad_configuration_is_400_and_changes_nothing(emulator, admin, raw):
    before = admin.config()
    r = admin.session.put(admin.base + "/config", data=raw, verify=admin.verify,
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidConfiguration"
    assert admin.config() == before


@pytest.mark.parametrize("delays", [{"lro_delay": float("nan")}, {"lro_delay": -1},
                                    {"registration_delay": float("inf")}, {"registration_delay": 1e9}])
def test_an_emulator_made_with_a_delay_no_config_would_take_is_refused(delays):
    with pytest.raises(ValueError, match="must be a number of seconds from 0 to 86400"):
        Emulator(**delays)


def test_bad_seed_documents_are_400(admin):
    for doc in ({"clusters": "x"}, {"clusters": [{"name": "c"}]}, {"resourceGroups": [{"name": 5}]},
                {"clusters": [{"resourceGroup": "r", "name": "c", "cluster": cluster_body(),
                               "nodes": {"nodepool1": "None"}}]}):
        with pytest.raises(Exception) as e:
            admin.seed(doc)
        assert e.value.response.status_code == 400 and e.value.response.json()["error"]["code"] == "InvalidSeed"


def test_secrets_in_a_query_string_never_reach_the_request_log(arm, admin):
    arm("GET", f"/subscriptions/{SUB}/resourcegroups?client_secret=s3cr3t&access_token=t0k3n", api="2021-04-01")
    [entry] = [e for e in admin.requests("GET", "/resourcegroups")]
    assert entry["query"]["client_secret"] == "***" and entry["query"]["access_token"] == "***"
    assert entry["query"]["api-version"] == "2021-04-01"
    assert "s3cr3t" not in json.dumps(admin.requests()) and "t0k3n" not in json.dumps(admin.requests())


@pytest.mark.parametrize("path", ["/_EMULATOR/state", "/_Emulator/state", "/_EMULATOR/STATE"])
def test_the_admin_api_answers_its_exact_paths_only_and_its_calls_are_never_logged(emulator, admin, path):
    r = requests.get(emulator.arm_endpoint + path, verify=emulator.ca_bundle_path, timeout=30)
    assert r.status_code == 501 and r.json()["error"]["code"] == "NotImplemented"  # not the state
    assert requests.delete(emulator.arm_endpoint + path.replace("state", "requests"), verify=emulator.ca_bundle_path,
                           timeout=30).status_code == 501
    assert [(e["path"], e["status"]) for e in admin.requests()] == [
        (path, 501), (path.replace("state", "requests"), 501)]  # any other request is logged; the log is intact
    admin.state()
    assert requests.get(emulator.arm_endpoint + "/_emulator/state/", verify=emulator.ca_bundle_path,
                        timeout=30).status_code == 200
    assert len(admin.requests()) == 2  # the admin calls themselves are not


def test_a_state_file_with_wrong_inner_types_is_refused_at_start(tmp_path):
    path = tmp_path / "state.json"
    with Emulator(state_file=str(path)) as emu:
        emu.backend.seed({"resourceGroups": [{"name": "rg", "location": "westus2"}]})
    state = json.loads(path.read_text())
    state["resourceGroups"][f"{SUB}/rg"]["location"] = 5
    path.write_text(json.dumps(state))
    with pytest.raises(StateFileError) as e:
        Emulator(state_file=str(path))
    assert f"resourceGroups['{SUB}/rg'].location" in str(e.value) and "left untouched" in str(e.value)
    assert json.loads(path.read_text()) == state


def test_a_state_file_written_before_deployment_safeguards_were_modelled_still_loads(tmp_path):
    path = tmp_path / "state.json"
    with Emulator(state_file=str(path)) as emu:
        emu.backend.seed({"resourceGroups": [{"name": "rg", "location": "westus2"}]})
    state = json.loads(path.read_text())
    del state["deploymentSafeguards"]  # as an emulator of the previous release wrote it
    path.write_text(json.dumps(state))
    with Emulator(state_file=str(path)) as emu:
        assert [g["name"] for g in emu.backend.resources.list_groups(SUB)] == ["rg"]
    del state["clusters"]  # a table every version-3 file has is still required
    path.write_text(json.dumps(state))
    with pytest.raises(StateFileError):
        Emulator(state_file=str(path))


def test_a_state_file_in_a_missing_folder_is_refused_at_start(tmp_path):
    with pytest.raises(StateFileError) as e:
        Emulator(state_file=str(tmp_path / "missing" / "state.json"))
    assert "does not exist" in str(e.value)


def test_a_change_that_cannot_be_saved_is_not_applied(tmp_path):
    path = tmp_path / "state.json"
    with Emulator(state_file=str(path)) as emu:
        emu.backend.seed({"resourceGroups": [{"name": "rg", "location": "westus2"}]})
        path.unlink()
        path.mkdir()  # the state file can no longer be replaced
        with pytest.raises(Exception) as e:
            emu.backend.resources.put_group(SUB, "rg2", {"location": "westus2"})
        assert getattr(e.value, "status", None) == 500 and "was not applied" in str(e.value)
        assert [g["name"] for g in emu.backend.resources.list_groups(SUB)] == ["rg"]
        path.rmdir()


def test_a_port_in_use_is_a_start_error_and_leaves_no_key_behind():
    before = {d for d in os.listdir(tempfile.gettempdir()) if d.startswith("imds-emulator-")}
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        with pytest.raises(StartError) as e:
            Emulator(port=taken.getsockname()[1]).start()
        assert "address already in use" in str(e.value)
    finally:
        taken.close()
    after = {d for d in os.listdir(tempfile.gettempdir()) if d.startswith("imds-emulator-")}
    assert after <= before
