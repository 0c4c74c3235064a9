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


def test_a_state_file_it_cannot_save_is_a_500_undone_and_logged(tmp_path):
    state = tmp_path / "state.json"
    proc, env = start(tmp_path, state)
    try:
        state.unlink(missing_ok=True)
        state.mkdir()  # the state file can no longer be replaced
        r = az_imds(env, "group", "create", "-n", "lost", "-l", "westus2")
        assert r.returncode == 1
        assert "could not save its state file" in r.stderr and "The change was not applied." in r.stderr
        state.rmdir()
        assert az_imds(env, "group", "show", "-n", "lost").returncode == 3  # undone, not kept in memory
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert "emulator ERROR: The emulator could not save its state file" in err  # in the emulator's own log


@pytest.mark.parametrize("args, message", [
    (("--env-file", "/nonexistent/folder/emu.env"), "The folder of --env-file '/nonexistent/folder/emu.env' does not"),
    (("--state-file", "/nonexistent/folder/state.json"), "The folder of the state file"),
    (("--host", "192.0.2.1"), "cannot listen on 192.0.2.1:0: cannot assign requested address"),
])
def test_start_up_failures_are_one_line_and_leave_no_key_behind(tmp_path, args, message):
    import tempfile

    before = {d for d in os.listdir(tempfile.gettempdir()) if d.startswith("imds-emulator-")}
    r = subprocess.run([sys.executable, "-m", "imds_ext", "emulator", "start", *args], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1
    assert message in r.stderr and "Traceback" not in r.stderr
    after = {d for d in os.listdir(tempfile.gettempdir()) if d.startswith("imds-emulator-")}
    assert after <= before


@pytest.mark.parametrize("option, value", [("--lro-delay", "nan"), ("--lro-delay", "-1"), ("--lro-delay", "1e9"),
                                           ("--registration-delay", "inf"), ("--registration-delay", "abc")])
def test_a_delay_that_is_not_0_to_86400_seconds_is_a_usage_error_naming_the_option(option, value):
    r = subprocess.run([sys.executable, "-m", "imds_ext", "emulator", "start", "--port", "0", option, value],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert f"argument {option}: must be a number of seconds from 0 to 86400, got '{value}'" in r.stderr
    assert "listening" not in r.stdout and "Traceback" not in r.stderr


def test_the_demo_stopped_by_sigterm_leaves_no_key_behind():
    import tempfile

    before = {d for d in os.listdir(tempfile.gettempdir()) if d.startswith("imds-emulator-")}
    proc = subprocess.Popen([sys.executable, "-m", "imds_ext", "demo", "--lro-delay", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ({d for d in os.listdir(tempfile.gettempdir()) if d.startswith("imds-emulator-")} - before):
        assert proc.poll() is None and time.monotonic() < deadline, "the demo did not start its emulator"
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    after = {d for d in os.listdir(tempfile.gettempdir()) if d.startswith("imds-emulator-")}
    assert after <= before


def test_the_demo_tells_the_whole_story_and_checks_every_step():
    r = subprocess.run([sys.executable, "-m", "imds_ext", "demo", "--lro-delay", "0"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "Done: every step behaved as expected." in r.stdout
    steps = [line for line in r.stdout.splitlines() if line.startswith("== ")]
    assert len(steps) == 18 and "What would break?" in steps[1] and "verify then proves it" in steps[10]
    assert "Verified: all 3 Linux node(s)" in r.stderr
    # An inconclusive verdict (the probe image is not pulled) and how it is resolved.
    assert "inconclusive" in steps[7] or "inconclusive" in steps[7].lower()
    assert "could not be judged (inconclusive; this says nothing about the setting, so do not reimage" in r.stderr
    assert "image not pulled (ImagePullBackOff" in r.stdout
    # Part two, the fleet: the blocked cluster is named with its fix, then finished once fixed.
    assert "team-b/search: podLinkLocalAccess=IMDS -> blocked" in r.stderr
    assert "Rollout: 4 of 5 cluster(s) done, 1 blocked" in r.stderr
    assert "Rollout: 5 of 5 cluster(s) done" in r.stderr
