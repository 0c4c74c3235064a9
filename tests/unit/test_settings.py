"""Where the subscription comes from: --subscription (ID or name), the environment, az's default."""
import json
import re

import pytest

from imds_ext.core.settings import arm_endpoint, is_subscription_id, resolve_settings
from imds_ext.core.errors import ConfigurationError

SUB_A = "11111111-1111-1111-1111-111111111111"
SUB_B = "22222222-2222-2222-2222-222222222222"


@pytest.fixture
def az_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    monkeypatch.delenv("AZIMDS_ARM_ENDPOINT", raising=False)
    profile = {"subscriptions": [{"id": SUB_A, "name": "Prod", "isDefault": False},
                                 {"id": SUB_B, "name": "Dev", "isDefault": True}]}
    # az writes its profile with a BOM
    (tmp_path / "azureProfile.json").write_text(json.dumps(profile), encoding="utf-8-sig")
    return tmp_path


def test_the_azure_cli_default_subscription_is_the_last_resort(az_profile):
    settings = resolve_settings()
    assert settings.subscription_id == SUB_B
    assert settings.endpoint == "https://management.azure.com"
    assert settings.scope == "https://management.azure.com/.default"


def test_environment_then_flag_take_precedence(az_profile, monkeypatch):
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB_A)
    assert resolve_settings().subscription_id == SUB_A
    assert resolve_settings(SUB_B).subscription_id == SUB_B


def test_a_subscription_name_is_looked_up_like_az_does(az_profile):
    assert resolve_settings("prod").subscription_id == SUB_A


def test_an_unknown_name_says_what_to_pass(az_profile):
    with pytest.raises(ConfigurationError, match="Pass the subscription ID"):
        resolve_settings("Nope")


def test_no_subscription_anywhere_names_every_way_to_give_one(tmp_path, monkeypatch):
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    with pytest.raises(ConfigurationError, match="--subscription.*AZURE_SUBSCRIPTION_ID.*az account set"):
        resolve_settings()


def test_sovereign_cloud_endpoint_is_its_own_audience(az_profile, monkeypatch):
    monkeypatch.setenv("AZIMDS_ARM_ENDPOINT", "https://management.usgovcloudapi.net/")
    settings = resolve_settings(SUB_A)
    assert settings.scope == "https://management.usgovcloudapi.net/.default"


def test_a_subscription_id_with_a_trailing_newline_is_not_an_id():
    assert is_subscription_id(SUB_A)
    assert not is_subscription_id(SUB_A + "\n")


@pytest.mark.parametrize("endpoint, reason", [("https://[::1", "Invalid IPv6 URL"),
                                              ("https://127.0.0.1:99999", "Port out of range"),
                                              ("https://host:port", "Port could not be cast")])
def test_a_malformed_arm_endpoint_is_a_configuration_error_naming_it(monkeypatch, endpoint, reason):
    monkeypatch.setenv("AZIMDS_ARM_ENDPOINT", endpoint)
    with pytest.raises(ConfigurationError, match=rf"AZIMDS_ARM_ENDPOINT='{re.escape(endpoint)}' is not a valid URL "
                                                 rf"\({reason}"):
        arm_endpoint()
