"""The client of the admin API (docs/emulator.md) for the demo, the benchmarks and every test tier (requests,
verifying TLS against the emulator's CA)."""
from __future__ import annotations

from typing import Optional

import requests

from imds_ext.emulator.constants import ADMIN_PREFIX, WELL_KNOWN_SUBSCRIPTION_ID


class AdminClient:
    def __init__(self, endpoint: str, ca_bundle_path: str, session: Optional[requests.Session] = None):
        self.base = endpoint.rstrip("/") + ADMIN_PREFIX
        self.session = session or requests.Session()
        # Per request, not session.verify: requests lets REQUESTS_CA_BUNDLE override a session's setting.
        self.verify = ca_bundle_path

    @classmethod
    def for_emulator(cls, emu) -> "AdminClient":
        return cls(emu.arm_endpoint, emu.ca_bundle_path)

    def _call(self, method: str, path: str, json=None):
        resp = self.session.request(method, self.base + path, json=json, timeout=30, verify=self.verify)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def reset(self):
        return self._call("POST", "/reset")

    def requests(self, method: Optional[str] = None, contains: str = "") -> list:
        """The request log, oldest first; only `method` requests whose path contains `contains`, when given."""
        return [e for e in self._call("GET", "/requests") if (method is None or e["method"] == method.upper())
                and contains.lower() in e["path"].lower()]

    def clear_requests(self):
        return self._call("DELETE", "/requests")

    def seed(self, doc: Optional[dict] = None, **parts):
        """Load a seed document, given whole or by its parts: seed(resourceGroups=[...], features={...})."""
        return self._call("POST", "/seed", {**(doc or {}), **parts})

    def nodes(self, resource_group: str, cluster: str, subscription: str = WELL_KNOWN_SUBSCRIPTION_ID) -> dict:
        return self._call("GET", f"/nodes/{subscription}/{resource_group}/{cluster}")

    def enforced(self, resource_group: str, cluster: str) -> dict:
        """What each pool's nodes enforce: {pool: podLinkLocalAccess}."""
        return {pool: v["podLinkLocalAccess"] for pool, v in self.nodes(resource_group, cluster)["pools"].items()}

    def config(self, lro_delay: Optional[float] = None, registration_delay: Optional[float] = None,
               retry_after=..., kubernetes_versions=..., omit_retry_after: Optional[bool] = None,
               default_kubernetes_version=...) -> dict:
        """Set what is given; `retry_after` None derives Retry-After from the operation delay again;
        `kubernetes_versions` None goes back to the emulator's own list; `default_kubernetes_version` (a minor of
        that list) is what a create without a version gets, None the newest."""
        body = {k: v for k, v in (("lroDelaySeconds", lro_delay), ("registrationDelaySeconds", registration_delay))
                if v is not None}
        if retry_after is not ...:
            body["retryAfterSeconds"] = retry_after
        if kubernetes_versions is not ...:
            body["kubernetesVersions"] = kubernetes_versions
        if default_kubernetes_version is not ...:
            body["defaultKubernetesVersion"] = default_kubernetes_version
        if omit_retry_after is not None:
            body["omitRetryAfter"] = omit_retry_after
        return self._call("PUT", "/config", body)

    def fault(self, **spec) -> list:
        return self._call("POST", "/faults", spec)

    def clear_faults(self):
        return self._call("DELETE", "/faults")

    def state(self) -> dict:
        return self._call("GET", "/state")
