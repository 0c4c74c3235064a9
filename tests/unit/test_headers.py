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
