"""`feature` and `provider` commands print what `az feature` / `az provider` print."""
from tests.support.constants import FEATURE

NS = ("--namespace", "Microsoft.ContainerService")


def test_feature_register_warns_like_az_and_returns_the_feature(az_imds, admin):
    r = az_imds("feature", "register", *NS, "--name", "IMDSRestrictionPreview")
    assert r.code == 0, r.err
    assert ("Once the feature 'IMDSRestrictionPreview' is registered, invoking 'az provider register -n "
            "Microsoft.ContainerService' is required to get the change propagated") in r.err
    feature = r.json
    assert feature["name"] == FEATURE
    assert feature["type"] == "Microsoft.Features/providers/features"
    assert feature["properties"]["state"] in ("Registering", "Registered")


def test_feature_register_wait_reaches_registered(az_imds, admin):
    admin.config(registration_delay=1)
    r = az_imds("feature", "register", *NS, "--name", "IMDSRestrictionPreview", "--wait",
                "--query", "properties.state", "-o", "tsv")
    assert r.code == 0, r.err
    assert r.out.strip() == "Registered"
    shown = az_imds("feature", "show", *NS, "--name", "IMDSRestrictionPreview", "--query", "properties.state",
                    "-o", "tsv")
    assert shown.out.strip() == "Registered"


def test_feature_list_and_unknown_feature(az_imds, admin):
    names = az_imds("feature", "list", *NS, "--query", "[].name").json
    assert FEATURE in names
    everything = az_imds("feature", "list", "--query", "length(@)").json
    assert everything >= len(names)
    r = az_imds("feature", "show", *NS, "--name", "NoSuchFeature")
    assert r.code == 3 and "NoSuchFeature" in r.err


def test_provider_register_prints_nothing_on_stdout(az_imds, admin):
    admin.seed(providers={"Microsoft.ContainerService": "NotRegistered"})
    admin.config(registration_delay=30)
    r = az_imds("provider", "register", *NS)
    assert r.code == 0 and r.out == ""
    assert "Registering is still on-going. You can monitor using 'az provider show -n Microsoft.ContainerService'" \
        in r.err
    shown = az_imds("provider", "show", *NS, "--query", "registrationState", "-o", "tsv")
    assert shown.out.strip() == "Registering"


def test_provider_register_wait(az_imds, admin):
    admin.seed(providers={"Microsoft.ContainerService": "NotRegistered"})
    r = az_imds("provider", "register", *NS, "--wait")
    assert r.code == 0 and r.out == "" and "on-going" not in r.err
    assert az_imds("provider", "show", *NS, "--query", "registrationState", "-o", "tsv").out.strip() == "Registered"


def test_feature_unregister_then_register_again(az_imds, admin):
    admin.seed(features={FEATURE: "Registered"})
    r = az_imds("feature", "unregister", *NS, "--name", "IMDSRestrictionPreview", "--wait",
                "--query", "properties.state", "-o", "tsv")
    assert r.code == 0, r.err
    assert r.out.strip() == "Unregistered"
    assert "Once the feature 'IMDSRestrictionPreview' is unregistered" in r.err


def test_provider_unregister(az_imds, admin):
    admin.config(registration_delay=30)
    r = az_imds("provider", "unregister", *NS)
    assert r.code == 0 and r.out == ""
    assert "Unregistering is still on-going" in r.err
    shown = az_imds("provider", "show", *NS, "--query", "registrationState", "-o", "tsv")
    assert shown.out.strip() == "Unregistering"


def test_unknown_provider_exits_3(az_imds, admin):
    r = az_imds("provider", "show", "--namespace", "Microsoft.NoSuchThing")
    assert r.code == 3
