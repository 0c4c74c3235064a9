"""Bad input and bad environments: a sentence naming what is wrong and how to fix it, the right exit code, no
traceback, and no request to ARM."""
import pytest

from tests.support.constants import RG, SUB

UPDATE = ("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes")


def _arm_requests(admin):
    return [e for e in admin.requests() if e["path"].startswith("/subscriptions/")]


@pytest.mark.parametrize("args, message", [
    (("aks", "update", "-g", RG, "-n", "", "--enable-imds-restriction", "--yes"), "--name/-n is empty"),
    (("aks", "update", "-g", "", "-n", "c1", "--disable-imds-restriction", "--yes"), "--resource-group/-g is empty"),
    (("aks", "show", "-g", RG, "-n", "bad-"), "--name/-n 'bad-' is not a valid name"),
    (("aks", "show", "-g", "rg.", "-n", "c1"), "--resource-group/-g 'rg.' is not a valid name"),
    (("aks", "imds-restriction", "show", "-g", RG, "-n", "x" * 64), "is not a valid name: 1-63 letters"),
    (("aks", "nodepool", "upgrade", "-g", RG, "--cluster-name", "c1", "-n", "Pool_1", "--node-image-only"),
     "--name/-n 'Pool_1' is not a valid name: a lowercase letter"),
    (UPDATE + ("--aks-custom-headers", "AKSHTTPCustomFeatures=x\r\nInjected: 1"),
     "--aks-custom-headers must be on one line"),
    (UPDATE + ("--aks-custom-headers", "Bad Name=x"), "'Bad Name' is not a valid header name"),
    (UPDATE + ("--if-match", "abc\r\nX-Injected: 1"), "--if-match must be an ETag"),
    (UPDATE + ("--if-match", " "), "--if-match must be an ETag"),
])
def test_bad_arguments_are_usage_errors_before_any_request(az_imds, admin, seed_cluster, args, message):
    seed_cluster()
    r = az_imds(*args)
    assert r.code == 2, r.err
    assert message in r.err
    assert "Traceback" not in r.err
    assert _arm_requests(admin) == []


@pytest.mark.parametrize("env, message", [
    ({"AZIMDS_AKS_API_VERSION": "2024-03-02-preview"}, "only AKS preview api-versions from 2024-04-02-preview"),
    ({"AZIMDS_AKS_API_VERSION": "latest"}, "AZIMDS_AKS_API_VERSION='latest' cannot manage IMDS restriction"),
    ({"AZIMDS_ARM_ENDPOINT": "http://127.0.0.1:1"}, "is not an https:// URL of Azure Resource Manager"),
    ({"AZURE_TENANT_ID": "not a tenant!"}, "The credential settings in the environment are not valid"),
    ({"AZIMDS_CORE_INSTANCE_DISCOVERY": "maybe"}, "AZIMDS_CORE_INSTANCE_DISCOVERY (core.instance_discovery) must be "
                                                  "true or false"),
    ({"AZIMDS_CORE_OUTPUT": "xml"}, "The output format 'xml' (AZIMDS_CORE_OUTPUT, or 'output' in the [core] section"),
    ({"AZIMDS_ARM_ENDPOINT": "https://[::1"}, "AZIMDS_ARM_ENDPOINT='https://[::1' is not a valid URL (Invalid IPv6"),
    ({"AZIMDS_ARM_ENDPOINT": "https://127.0.0.1:99999"}, "AZIMDS_ARM_ENDPOINT='https://127.0.0.1:99999' is not a valid "
                                                         "URL (Port out of range 0-65535)"),
])
def test_bad_environment_values_are_named_before_any_request(az_imds, cli_env, admin, seed_cluster, env, message):
    seed_cluster()
    r = az_imds(*UPDATE, env=dict(cli_env, **env))
    assert r.code == 1, r.err
    assert message in r.err
    assert "Traceback" not in r.err
    assert _arm_requests(admin) == []
    assert admin.enforced(RG, "c1") == {"nodepool1": "IMDS", "userpool": "IMDS"}


@pytest.mark.parametrize("endpoint, reason", [
    ("https://127.0.0.1:9", "Connection refused"),
    ("https://imds-ext-test.invalid", "imds-ext-test.invalid"),
])
def test_an_unreachable_service_is_a_sentence(az_imds, cli_env, endpoint, reason):
    env = dict(cli_env, AZIMDS_ARM_ENDPOINT=endpoint, AZURE_AUTHORITY_HOST=endpoint)
    r = az_imds("aks", "show", "-g", RG, "-n", "c1", env=env)
    assert r.code == 1
    assert reason in r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) <= 6


def test_an_unreadable_answer_is_a_sentence(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="GET", path="/managedClusters/c1$", count=1, status=200, body="not json")
    r = az_imds("aks", "imds-restriction", "show", "-g", RG, "-n", "c1")
    assert r.code == 1
    assert r.err.startswith("ERROR: ") and "Traceback" not in r.err


def _refused_before_any_request(r, admin, message):
    assert r.code == 2, r.err
    assert message in r.err
    assert "Traceback" not in r.err and "Unexpected error" not in r.err
    assert _arm_requests(admin) == []


@pytest.mark.parametrize("option, value", [("--if-match", "日本"), ("--aks-custom-headers", "X=日本")])
def test_a_header_value_http_cannot_carry_is_a_usage_error_naming_the_option(az_imds, admin, seed_cluster, option,
                                                                            value):
    seed_cluster()
    r = az_imds(*UPDATE, option, value)
    _refused_before_any_request(r, admin, option)
    assert "only Latin-1" in r.err


@pytest.mark.parametrize("header", ["Transfer-Encoding", "Host", "Content-Length", "Authorization", "Connection"])
def test_transport_headers_in_aks_custom_headers_are_refused_naming_the_header(az_imds, admin, seed_cluster, header):
    seed_cluster()
    r = az_imds(*UPDATE, "--aks-custom-headers", f"{header}=x")
    _refused_before_any_request(r, admin, f"--aks-custom-headers: '{header}' is set by the HTTP transport")


@pytest.mark.parametrize("args, message", [
    (("aks", "show", "-g", RG, "-n", "c1\n"), "--name/-n 'c1?' must be on one line"),
    (("aks", "show", "-g", RG + "\n", "-n", "c1"), "--resource-group/-g 'rg1?' must be on one line"),
    (("aks", "list", "--subscription", SUB + "\n"), f"--subscription '{SUB}?' must be on one line"),
    (("feature", "show", "--namespace", "Microsoft.ContainerService\n", "-n", "x"), "--namespace"),
    (("aks", "create", "-g", RG, "-n", "new1", "-l", "west\nus", "--yes"), "--location/-l 'west?us' must be on one"),
    (("group", "create", "-n", "g2", "-l", "westus2\n"), "--location/-l 'westus2?' must be on one line"),
])
def test_a_name_with_a_trailing_newline_is_a_usage_error_and_sends_nothing(az_imds, admin, seed_cluster, args,
                                                                          message):
    seed_cluster()
    _refused_before_any_request(az_imds(*args), admin, message)


@pytest.mark.parametrize("args, message", [
    (("feature", "show", "--namespace", "Microsoft.ContainerService", "-n", ""), "--name/-n is empty"),
    (("feature", "show", "--namespace", "", "-n", "IMDSRestrictionPreview"), "--namespace is empty"),
    (("provider", "show", "-n", ""), "--namespace/-n is empty"),
    (("group", "show", "-n", ""), "is empty"),
])
def test_an_empty_feature_provider_or_group_name_is_a_usage_error(az_imds, admin, seed_cluster, args, message):
    seed_cluster()
    r = az_imds(*args)
    _refused_before_any_request(r, admin, message)
    assert r.out == ""


def test_a_query_calling_an_unknown_function_is_a_usage_error_naming_it(az_imds, seed_cluster):
    seed_cluster()
    r = az_imds("aks", "show", "-g", RG, "-n", "c1", "--query", "bogus(@)")
    assert r.code == 2, r.err
    assert "--query could not be applied to the result: Unknown function: bogus()" in r.err
    assert "Unexpected error" not in r.err


@pytest.mark.parametrize("body", [[], "not an object", 3])
def test_a_cluster_answer_that_is_not_an_object_names_the_request(az_imds, admin, seed_cluster, body):
    seed_cluster()
    admin.fault(method="GET", path="/managedClusters/c1$", count=1, status=200, body=body)
    r = az_imds("aks", "imds-restriction", "show", "-g", RG, "-n", "c1")
    assert r.code == 1, r.err
    assert "The answer to GET https://" in r.err and "/managedClusters/c1 is not a JSON object" in r.err
    assert "Unexpected error" not in r.err


def test_an_operation_poll_that_is_not_an_object_names_it_and_the_command_that_finishes(az_imds, admin,
                                                                                      seed_cluster):
    seed_cluster()
    admin.fault(method="GET", path="/operations/", count=1, status=200, body=[])
    r = az_imds(*UPDATE)
    assert r.code == 1, r.err
    assert "/operations/" in r.err and "is not a JSON object" in r.err
    assert f"Run 'az-imds aks update -g {RG} -n c1 --enable-imds-restriction --yes'" in r.err
    assert "Unexpected error" not in r.err


def test_a_dropped_connection_during_a_read_only_command_says_nothing_was_changed(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.fault(method="GET", path="/managedClusters/c1$", count=10, drop=True)  # every retry too
    r = az_imds("aks", "show", "-g", RG, "-n", "c1")
    assert r.code == 1, r.err
    assert "The connection broke before the service answered" in r.err
    assert "only read, so nothing was changed" in r.err and "may have been applied" not in r.err


def test_a_config_folder_that_cannot_be_created_is_one_warning_and_commands_still_run(az_imds, cli_env, tmp_path,
                                                                                    seed_cluster):
    seed_cluster()
    (tmp_path / "a-file").write_text("")
    folder = str(tmp_path / "a-file" / "config")  # cannot be created, as on a read-only file system
    for env in (dict(cli_env, AZIMDS_CONFIG_DIR=folder),
                dict({k: v for k, v in cli_env.items() if k != "AZIMDS_CONFIG_DIR"}, HOME=str(tmp_path / "a-file"))):
        for args in (("--version",), ("aks", "show", "--help"), ("aks", "show", "-g", RG, "-n", "c1")):
            r = az_imds(*args, env=env)
            assert r.code == 0, (args, r.err)
            assert "Traceback" not in r.err
            [warning] = r.err.strip().splitlines()
            assert "Cannot create the configuration folder" in warning and "AZIMDS_CONFIG_DIR" in warning


def test_a_config_file_that_is_not_ini_is_named_and_version_and_help_still_work(az_imds, cli_env, tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "config").write_text("this is not INI\n")
    env = dict(cli_env, AZIMDS_CONFIG_DIR=str(folder))
    r = az_imds("aks", "show", "-g", RG, "-n", "c1", env=env)
    assert r.code == 1
    assert r.err.strip() == (f"ERROR: The configuration file '{folder / 'config'}' is not an INI file (File contains "
                             "no section headers). Fix or remove it, or set AZIMDS_CONFIG_DIR to another folder.")
    for args in (("--version",), ("aks", "show", "--help")):
        r = az_imds(*args, env=env)
        assert r.code == 0 and "Traceback" not in r.err, r.err
        assert "is not an INI file" in r.err
