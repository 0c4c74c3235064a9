"""The emulator's reading of protobuf request bodies (providers/kubernetes/protobuf.py): zeros left out as the Go
encoder's omitempty leaves them, a pointer's zero kept, and a field it does not know refused rather than dropped."""
import pytest

from imds_ext.emulator.providers.kubernetes import protobuf


def varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def field(number: int, value) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = field(1, api_version.encode()) + field(2, kind.encode())
    return protobuf.MAGIC + field(1, type_meta) + field(2, raw)


def meta(name: str) -> bytes:
    """Field 1, an ObjectMeta with a name and namespace, and every other field's zero, as the Go encoder writes it."""
    return field(1, field(1, name.encode()) + field(2, b"") + field(3, b"shop") + field(7, 0) + field(8, b""))


def test_zeros_are_left_out_and_a_pointers_zero_is_kept():
    spec = field(1, 0) + field(5, 0) + field(4, b"")  # replicas 0 (a pointer), minReadySeconds 0, empty strategy
    obj = protobuf.object_of(envelope("apps/v1", "Deployment", meta("d0") + field(2, spec) + field(3, b"")))
    assert obj == {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d0", "namespace": "shop"},
                   "spec": {"replicas": 0}}


def test_a_secrets_data_is_base64_and_a_configmaps_is_text():
    entry = field(2, field(1, b"a") + field(2, b"\x00\xff"))
    secret = protobuf.object_of(envelope("v1", "Secret", meta("s") + entry + field(3, b"Opaque")))
    assert secret["data"] == {"a": "AP8="} and secret["type"] == "Opaque"
    config = protobuf.object_of(envelope("v1", "ConfigMap", meta("c") + field(2, field(1, b"k") + field(2, b"v"))))
    assert config["data"] == {"k": "v"}


def test_a_services_target_port_is_a_number_or_a_name():
    def port(target: bytes) -> bytes:
        return field(1, field(3, 80) + field(4, target))
    by_number = protobuf.object_of(envelope("v1", "Service", meta("s") + field(2, port(field(2, 8080)))))
    by_name = protobuf.object_of(envelope("v1", "Service", meta("s") + field(2, port(field(1, 1) + field(3, b"web")))))
    assert by_number["spec"]["ports"] == [{"port": 80, "targetPort": 8080}]
    assert by_name["spec"]["ports"] == [{"port": 80, "targetPort": "web"}]


def test_a_field_the_emulator_does_not_decode_is_refused_not_dropped():
    volumes = field(1, field(1, b"data"))  # PodSpec.volumes: not decoded
    template = field(2, volumes + field(2, field(1, b"c") + field(2, b"nginx")))
    with pytest.raises(protobuf.ProtobufError, match="field 1 of Deployment.spec.template.spec"):
        protobuf.object_of(envelope("apps/v1", "Deployment", meta("d") + field(2, field(3, template))))
    with pytest.raises(protobuf.ProtobufError, match="no protobuf decoding of ResourceQuota"):
        protobuf.object_of(envelope("v1", "ResourceQuota", meta("q")))
