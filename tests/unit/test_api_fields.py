"""tools/api_fields.py: the fields of an api-version, read from the generated SDK models' attribute maps."""
import importlib.util
import os

from imds_ext.emulator.providers.containerservice import api_2023_01_01

HERE = os.path.dirname(__file__)
spec = importlib.util.spec_from_file_location("api_fields", os.path.join(HERE, "..", "..", "tools", "api_fields.py"))
api_fields = importlib.util.module_from_spec(spec)
spec.loader.exec_module(api_fields)

MODELS = '''
class Inner(_serialization.Model):
    _attribute_map = {"size": {"key": "size", "type": "str"}, "loop": {"key": "loop", "type": "Outer"}}


class Outer(_serialization.Model):
    _attribute_map = {
        "name": {"key": "name", "type": "str"},
        "count": {"key": "properties.count", "type": "int"},
        "pools": {"key": "properties.pools", "type": "[Inner]"},
        "addons": {"key": "properties.addons", "type": "{Inner}"},
        "tags": {"key": "tags", "type": "{str}"},
        "dotted": {"key": "properties.a\\\\.b", "type": "str"},
    }
'''


def test_flattened_keys_nest_and_collections_of_models_are_marked():
    tree = api_fields.tree("Outer", api_fields.attribute_maps(MODELS))
    assert tree["name"] is True and tree["tags"] is True
    assert tree["properties"]["count"] is True and tree["properties"]["a.b"] is True
    assert tree["properties"]["pools"] == {"[]": {"size": True, "loop": True}}  # a model seen above is a value
    assert tree["properties"]["addons"] == {"*": {"size": True, "loop": True}}


def test_the_generated_2023_01_01_fields_lack_what_the_version_has_not():
    network = api_2023_01_01.MANAGED_CLUSTER["properties"]["networkProfile"]
    assert "networkPluginMode" not in network and "podLinkLocalAccess" not in network and network["podCidr"]
    assert "kind" not in api_2023_01_01.MANAGED_CLUSTER and api_2023_01_01.MANAGED_CLUSTER["sku"]["tier"]
    assert "eTag" not in api_2023_01_01.MANAGED_CLUSTER["properties"]["agentPoolProfiles"]["[]"]
