"""az's conventions: help on every command, output formats, credentials, secrets never shown."""
import pytest

from tests.support.constants import RG, SUB

COMMANDS = ["aks create", "aks update", "aks upgrade", "aks show", "aks list", "aks nodepool upgrade",
            "aks imds-restriction show", "aks imds-restriction list", "feature register", "feature unregister",
            "feature show", "feature list",
            "provider register", "provider unregister", "provider show", "group create", "group show",
            "emulator start", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(az_imds, command):
    r = az_imds(*command.split(), "--help")
    assert r.code == 0
    assert "Examples" in r.out, command


def test_update_help_lists_both_flags(az_imds):
    out = az_imds("aks", "update", "--help").out
    assert "--enable-imds-restriction" in out and "--disable-imds-restriction" in out
    assert "--skip-node-image-upgrade" in out


def test_unknown_argument_is_a_usage_error(az_imds):
    assert az_imds("aks", "show", "-g", "x", "-n", "y", "--bogus").code == 2


def test_subscription_is_required(az_imds, cli_env):
    env = {k: v for k, v in cli_env.items() if k != "AZURE_SUBSCRIPTION_ID"}
    r = az_imds("aks", "list", env=env)
    assert r.code == 1 and "--subscription" in r.err


def test_subscription_flag_overrides_the_environment(az_imds, admin, seed_cluster):
    seed_cluster()
    r = az_imds("aks", "list", "--subscription", "11111111-1111-1111-1111-111111111111")
    # The emulator knows only its own subscription: the request went to the one asked for, and said so.
    assert r.code == 3, r.err
    assert "(SubscriptionNotFound) The subscription '11111111-1111-1111-1111-111111111111' could not be found." in r.err
    assert az_imds("aks", "list", "--subscription", SUB, "--query", "[].name").json == ["c1"]


def test_wrong_secret_is_an_authentication_error(az_imds, cli_env, admin):
    env = dict(cli_env, AZURE_CLIENT_SECRET="not-the-secret-5f3c9a")
    r = az_imds("aks", "list", env=env)
    assert r.code == 1
    assert "Authentication failed" in r.err and "AADSTS7000215" in r.err  # Entra's "invalid client secret"
    assert "not-the-secret-5f3c9a" not in r.err  # the secret given is never echoed
    assert admin.requests(contains="/managedClusters") == []  # nothing reached ARM


def test_output_formats(az_imds, admin, seed_cluster):
    seed_cluster()
    assert "\nname: c1\n" in az_imds("aks", "show", "-g", RG, "-n", "c1", "-o", "yaml").out
    assert az_imds("aks", "show", "-g", RG, "-n", "c1", "-o", "none").out == ""
    assert az_imds("aks", "show", "-g", RG, "-n", "c1", "-o", "tsv", "--query", "[name, location]").out.split() == \
        ["c1", "westus2"]


def test_debug_never_shows_the_secret_or_a_token(az_imds, cli_env, admin, seed_cluster):
    seed_cluster()
    r = az_imds("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes", "--debug")
    assert r.code == 0, r.err[-2000:]
    text = r.out + r.err
    assert cli_env["AZURE_CLIENT_SECRET"] not in text
    assert "eyJ" not in text  # no JWT (header, payload or the whole token)
    assert "Authorization" not in text or "REDACTED" in text


def test_a_group_alone_shows_its_help(az_imds):
    r = az_imds("aks")
    assert r.code == 0 and "imds-restriction" in r.out and "update" in r.out


def test_an_unknown_command_is_a_usage_error(az_imds):
    r = az_imds("aks", "bogus")
    assert r.code == 2 and "'bogus' is not in the 'az-imds aks' command group" in r.err


def test_not_logged_in_is_one_line_saying_how_and_the_chain_is_under_debug(az_imds, cli_env, admin):
    env = {k: v for k, v in cli_env.items() if k not in ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_ID")}
    r = az_imds("aks", "list", env=env)
    assert r.code == 1
    [line] = r.err.strip().splitlines()
    assert "run 'az login', or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET" in line
    debug = az_imds("aks", "list", "--debug", env=env).err
    assert "EnvironmentCredential" in debug and "ManagedIdentityCredential" in debug
