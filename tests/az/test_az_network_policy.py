"""`az aks imds-restriction network-policy apply` through the real `az` with the extension (issue 19): a cluster the
managed restriction refuses (Container Insights on Cilium) protected by one cluster-wide policy."""
import pytest

from tests.support.clusters import seed_cluster
from tests.support.constants import RG
from tests.support.policies import namespace

pytestmark = pytest.mark.az

INSIGHTS = {"omsagent": {"enabled": True, "config": {"logAnalyticsWorkspaceResourceID": "/subscriptions/x/ws"}}}


def test_apply_protects_a_cluster_the_managed_feature_refuses(az_logged_in, admin):
    seed_cluster(admin, network_dataplane="cilium", addonProfiles=INSIGHTS, objects=[namespace("shop")])
    r = az_logged_in("aks", "imds-restriction", "network-policy", "apply", "-g", RG, "-n", "c1", "--yes", "-o", "json")
    assert r.code == 0, r.err
    assert r.json["mechanism"] == "cilium-clusterwide" and r.json["status"] == "protected"
    assert "shop" in r.json["namespaces"]["protected"] and "Traceback" not in r.err
    bodies = [o["body"] for o in admin.state()["kubernetes"].values()
              if o["body"].get("kind") == "CiliumClusterwideNetworkPolicy"]
    assert [b["metadata"]["labels"]["app.kubernetes.io/managed-by"] for b in bodies] == ["imds-ext"]
    # The same command again writes nothing.
    admin.clear_requests()
    again = az_logged_in("aks", "imds-restriction", "network-policy", "apply", "-g", RG, "-n", "c1", "--yes",
                         "-o", "json")
    assert again.code == 0 and again.json["changes"] == []
    assert [e for e in admin.requests() if e["path"].startswith("/kubernetes/") and e["method"] != "GET"] == []
