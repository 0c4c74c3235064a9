"""Output shapes: resources print as `az` prints them."""
from collections.abc import Mapping


def _plain(value):
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def resource(value, flatten=False):
    """An ARM resource (SDK model or dict) as a plain dict.

    `flatten=True` lifts `properties` into the top level, as `az aks show` prints managed clusters and
    agent pools, so `--query networkProfile.podLinkLocalAccess` works as it does with az.
    """
    if value is None:
        return None
    data = _plain(value)
    if flatten and isinstance(data.get("properties"), Mapping):
        props = data.pop("properties")
        data.update(props)
    return data
