"""JSON Schemas of the Microsoft.ContainerService request bodies, for the fields the emulator reads. Fields it does
not read are kept as sent (additional properties are allowed), as the service keeps them; a client may send
null for a field it leaves unset."""
from imds_ext.emulator.constants import RESTRICTED, UNRESTRICTED
from imds_ext.emulator.validation import KUBERNETES_VERSION, LOCATION, schema


def _nullable(kind: str) -> dict:
    return {"type": [kind, "null"]}


TAGS = {"type": ["object", "null"], "additionalProperties": {"type": "string", "maxLength": 256}}
_VERSION = {"anyOf": [{"type": "null"}, {"const": ""}, {"type": "string", "pattern": KUBERNETES_VERSION}]}
POOL_PROPERTIES = {
    "type": "object",
    "properties": {
        "count": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000},
        "vmSize": _nullable("string"),
        "osType": _nullable("string"),
        "osSKU": _nullable("string"),
        "type": _nullable("string"),
        "mode": _nullable("string"),
        "orchestratorVersion": _VERSION,
        "maxPods": {"type": ["integer", "null"], "minimum": 10, "maximum": 250},
        "osDiskSizeGB": {"type": ["integer", "null"], "minimum": 0, "maximum": 4096},
        "tags": TAGS,
        "nodeLabels": TAGS,
    },
}
CLUSTER = schema({
    "type": "object",
    "required": ["location"],
    "properties": {
        "location": LOCATION,
        "tags": TAGS,
        "identity": {"type": ["object", "null"], "properties": {"type": _nullable("string")}},
        "sku": _nullable("object"),
        "properties": {
            "type": ["object", "null"],
            "properties": {
                "kubernetesVersion": _VERSION,
                "dnsPrefix": _nullable("string"),
                "nodeResourceGroup": _nullable("string"),
                "agentPoolProfiles": {"type": ["array", "null"], "maxItems": 100, "items": {
                    **POOL_PROPERTIES, "required": ["name"],
                    "properties": {**POOL_PROPERTIES["properties"], "name": {"type": "string"}}}},
                "networkProfile": {"type": ["object", "null"], "properties": {
                    "podLinkLocalAccess": {"enum": [RESTRICTED, UNRESTRICTED, None]}}},
                "oidcIssuerProfile": {"type": ["object", "null"], "properties": {"enabled": _nullable("boolean")}},
                "securityProfile": _nullable("object"),
                "identityProfile": _nullable("object"),
                "addonProfiles": {"type": ["object", "null"], "additionalProperties": {
                    "type": "object", "properties": {"enabled": {"type": "boolean"}}}},
            },
        },
    },
})
POOL = schema({"type": "object", "properties": {"properties": {**POOL_PROPERTIES, "type": ["object", "null"]}}})
TAGS_PATCH = schema({"type": "object", "required": ["tags"], "additionalProperties": False,
                     "properties": {"tags": {**TAGS, "type": "object"}}})
