"""Custom request headers, as `az aks --aks-custom-headers Key1=Value1,Key2=Value2` takes them."""
from __future__ import annotations

from typing import Dict, Optional

from imds_ext.core import constants


def parse_custom_headers(value: Optional[str]) -> Dict[str, str]:
    """`Key1=Value1,Key2=Value2` as a dict; ValueError naming the item that is not `Key=Value`."""
    headers: Dict[str, str] = {}
    if not value:
        return headers
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"'{item}' is not of the form Key=Value")
        headers[key.strip()] = val.strip()
    return headers


def names_feature(headers: Dict[str, str]) -> bool:
    """True when the headers opt this request into the IMDS preview (AKSHTTPCustomFeatures)."""
    for key, value in headers.items():
        if key.lower() == constants.CUSTOM_FEATURES_HEADER.lower():
            if any(v.strip().lower() == constants.FEATURE_ID.lower() for v in value.split(",")):
                return True
    return False
