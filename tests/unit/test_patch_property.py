"""Property: enable and disable change the IMDS setting (and, on enable with --enable-oidc-issuer, the issuer) and
add the reimage record; every other field, known to the SDK or not, goes to the service exactly as it was read."""
import copy
import json

from azure.mgmt.containerservice.models import ManagedCluster
from hypothesis import given, settings, strategies as st

from imds_ext.core import marker, plan as planning

try:  # where the SDK's JSON encoder lives (the one its operations serialize request bodies with)
    from azure.mgmt.containerservice._utils.model_base import SdkJSONEncoder
except ImportError:  # older layouts
    from azure.mgmt.containerservice._model_base import SdkJSONEncoder

KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC_", min_size=1, max_size=8)
LEAVES = st.none() | st.booleans() | st.integers(-10 ** 6, 10 ** 6) | st.text(max_size=8)
JSON = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                    max_leaves=12)
POOL = st.fixed_dictionaries({"name": st.sampled_from(["nodepool1", "userpool", "win1"]),
                              "osType": st.sampled_from(["Linux", "Windows"])}).flatmap(
    lambda base: st.dictionaries(KEYS, JSON, max_size=4).map(lambda extra: {**extra, **base}))
CLUSTER = st.fixed_dictionaries({
    "location": st.text(min_size=1, max_size=8),
    "tags": st.dictionaries(KEYS, st.text(max_size=8), max_size=3),
    "properties": st.fixed_dictionaries({
        "agentPoolProfiles": st.lists(POOL, max_size=3, unique_by=lambda p: p["name"]),
        "networkProfile": st.dictionaries(KEYS, JSON, max_size=4).map(lambda d: {
            **d, "podLinkLocalAccess": "IMDS"} if d.get("networkPlugin") else d),
        "oidcIssuerProfile": st.fixed_dictionaries({"enabled": st.booleans()}),
    }).flatmap(lambda known: st.dictionaries(KEYS, JSON, max_size=4).map(lambda extra: {**extra, **known})),
}).flatmap(lambda known: st.dictionaries(KEYS, JSON, max_size=3).map(lambda extra: {**extra, **known}))


def _sent(model) -> dict:
    """What the SDK puts on the wire for a PUT of `model` (read-only fields are the service's)."""
    return json.loads(json.dumps(model, cls=SdkJSONEncoder, exclude_readonly=True))


def _without(body: dict, *paths) -> dict:
    body = copy.deepcopy(body)
    for path in paths:
        node = body
        for key in path[:-1]:
            node = node.get(key) or {}
        node.pop(path[-1], None)
    return body


@settings(max_examples=150, deadline=None)
@given(body=CLUSTER, enable=st.booleans(), enable_oidc_issuer=st.booleans())
def test_only_the_setting_the_issuer_and_the_record_change(body, enable, enable_oidc_issuer):
    read = ManagedCluster(copy.deepcopy(body))
    before = _sent(read)
    plan = planning.make_plan(read, "rg", "c1", enable, enable_oidc_issuer and enable)
    after = _sent(planning.apply(read, plan, record=True))

    changed = (("properties", "networkProfile", "podLinkLocalAccess"), ("properties", "oidcIssuerProfile", "enabled"),
               ("tags", marker.TAG))
    assert _without(after, *changed) == _without(before, *changed)
    assert after["properties"]["networkProfile"]["podLinkLocalAccess"] == ("None" if enable else "IMDS")
    assert after["properties"]["oidcIssuerProfile"]["enabled"] == (
        before["properties"]["oidcIssuerProfile"]["enabled"] or (enable_oidc_issuer and enable))
    linux = {p["name"] for p in body["properties"]["agentPoolProfiles"] if p["osType"] == "Linux"}
    assert marker.pending(after["tags"], plan.desired) in ({n.lower() for n in linux} or None, {marker.ALL})
