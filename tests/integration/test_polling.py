"""With the service's own polling behaviour (no Retry-After), az-imds still follows an operation closely: it polls
after a quarter of the time the operation has run, at least every second (core/polling.py), not at azure-core's
fixed 30 seconds."""
from collections import Counter

from tests.support.constants import RG


def test_without_retry_after_the_tool_polls_on_its_schedule(az_imds, admin, seed_cluster):
    seed_cluster()
    admin.config(lro_delay=4, omit_retry_after=True)
    r = az_imds("aks", "update", "-g", RG, "-n", "c1", "--enable-imds-restriction", "--yes")
    assert r.code == 0, r.err
    assert set(admin.enforced(RG, "c1").values()) == {"None"}
    per_operation = Counter(e["path"].rsplit("/", 1)[1] for e in admin.requests("GET", "/operations/"))
    # A 4-second operation: polled about every second; at a fixed 30 s it would be polled once.
    assert per_operation and all(3 <= polls <= 6 for polls in per_operation.values()), per_operation
