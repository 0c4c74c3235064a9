import pytest

from imds_ext.core.headers import names_feature, parse_custom_headers


def test_parse_custom_headers_as_az_takes_them():
    assert parse_custom_headers("AKSHTTPCustomFeatures=Microsoft.ContainerService/IMDSRestrictionPreview, X=1") == {
        "AKSHTTPCustomFeatures": "Microsoft.ContainerService/IMDSRestrictionPreview", "X": "1"}
    assert parse_custom_headers(None) == {}


@pytest.mark.parametrize("bad", ["novalue", "=x"])
def test_parse_custom_headers_rejects_malformed_items(bad):
    with pytest.raises(ValueError, match="Key=Value"):
        parse_custom_headers(bad)


def test_names_feature_is_case_insensitive_and_exact():
    assert names_feature({"akshttpcustomfeatures": "microsoft.containerservice/imdsrestrictionpreview"})
    assert not names_feature({"AKSHTTPCustomFeatures": "Microsoft.ContainerService/OtherPreview"})
    assert not names_feature({"Other": "Microsoft.ContainerService/IMDSRestrictionPreview"})


@pytest.mark.parametrize("header", ["Transfer-Encoding", "host", "Content-Length", "Authorization", "Connection",
                                    "If-Match"])
def test_headers_the_transport_sets_itself_are_refused_by_name(header):
    with pytest.raises(ValueError, match=f"'{header}' is set by the HTTP transport"):
        parse_custom_headers(f"AKSHTTPCustomFeatures=x,{header}=y")


def test_a_value_http_cannot_carry_is_refused():
    with pytest.raises(ValueError, match="only Latin-1"):
        parse_custom_headers("X=日本")
    assert parse_custom_headers("X=café") == {"X": "café"}  # Latin-1 goes
