"""`az-imds emulator start`: foreground server, env-file handshake, clean stop, state across restarts."""
import os
import signal
import subprocess
import sys
import time

import pytest


def start(tmp_path, state_file):
    env_file = tmp_path / "emu.env"
    if env_file.exists():
        env_file.unlink()
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", "emulator", "start", "--port", "0",
                             "--env-file", str(env_file), "--state-file", str(state_file),
                             "--lro-delay", "0", "--registration-delay", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not env_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"emulator did not start: {proc.communicate()}")
        time.sleep(0.1)
    env = dict(os.environ)
    for line in env_file.read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value.strip("'")
    return proc, env


def az_imds(env, *args):
    return subprocess.run([sys.executable, "-m", "imds_ext", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, err


def test_start_source_the_env_file_stop_and_restart_with_state(tmp_path):
    state = tmp_path / "state.json"
    proc, env = start(tmp_path, state)
    assert set(env) >= {"AZIMDS_ARM_ENDPOINT", "AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID", "AZURE_CLIENT_ID",
                        "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID", "REQUESTS_CA_BUNDLE"}
    assert env["AZIMDS_ARM_ENDPOINT"].startswith("https://127.0.0.1:")
    try:
        r = az_imds(env, "group", "create", "-n", "kept", "-l", "westus2")
        assert r.returncode == 0, r.stderr
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert state.exists()

    proc, env = start(tmp_path, state)
    try:
        r = az_imds(env, "group", "show", "-n", "kept", "--query", "location", "-o", "tsv")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "westus2"
    finally:
        assert stop(proc)[0] == 0


def test_a_corrupt_state_file_is_a_clear_error_not_a_reset(tmp_path):
    state = tmp_path / "state.json"
    state.write_text("{not json")
    r = subprocess.run([sys.executable, "-m", "imds_ext", "emulator", "start", "--state-file", str(state),
                        "--env-file", str(tmp_path / "env")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert str(state) in r.stderr and "not valid JSON" in r.stderr
    assert "Traceback" not in r.stderr
    assert state.read_text() == "{not json"  # left as it was
    assert not (tmp_path / "env").exists()
