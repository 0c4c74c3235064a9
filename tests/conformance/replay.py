"""Replaying a real service recording against the emulator, and comparing what it answers with what AKS answered.

The recordings (`tests/emulator/recordings/`, from the Azure CLI's MIT-licensed test suites) are the service's own
answers. Each request is sent as recorded (operation ids mapped to the emulator's); the status code, the
long-running-operation headers clients read, and the body, key by key, must match, but for the fields listed in
LEGITIMATELY_DIFFERENT (docs/emulator.md says why each differs).
"""
import json
import os
import re
from urllib.parse import urlsplit

import yaml

RECORDINGS = os.path.join(os.path.dirname(__file__), "..", "emulator", "recordings")
CLIENT_READ_HEADERS = ("azure-asyncoperation", "location")
OPERATION_BODY_KEYS = {"name", "status", "startTime", "endTime", "error"}

# Paths (dotted, list items as []) whose values legitimately differ between a real run and the emulator:
# identities and names generated at random or sanitized, times, image and version numbers of another era,
# and server-chosen values that depend on the VM size and region.
LEGITIMATELY_DIFFERENT = [
    r"^id$", r"\.id$", r"^properties\.fqdn$", r"^properties\.azurePortalFQDN$", r"^properties\.resourceUID$",
    r"^identity\.(principalId|tenantId)$", r"^properties\.servicePrincipalProfile\.clientId$",
    r"^properties\.identityProfile\.kubeletidentity\.", r"^properties\.oidcIssuerProfile\.issuerURL$",
    r"nodeImageVersion$", r"latestNodeImageVersion$", r"[kK]ubernetesVersion$", r"[oO]rchestratorVersion$",
    r"\.upgrades\[\]", r"^properties\.controlPlaneProfile\.upgrades$", r"componentsByReleases",
    r"^properties\.linuxProfile\.ssh\.publicKeys", r"^properties\.nodeResourceGroup$", r"eTag$",
    r"\.osDiskSizeGB$", r"\.osDiskType$", r"\.vmSize$", r"\.upgradeSettings", r"^properties\.dnsPrefix$",
    r"^properties\.windowsProfile\.admin", r"^location$",
    # Named or cased differently by the service of another era: the SKU "Basic" became "Base"; loadBalancerSku was
    # once answered as "Standard" whatever the request said. The versions a region offers change every month.
    r"^sku\.name$", r"loadBalancerSku$", r"^values$",
]
# States an operation passes through: the emulator's clock runs faster than the service's, so a later state
# than the one recorded is what a client would also have seen, a moment later.
TRANSITIONAL = {"Creating", "Updating", "UpgradingNodeImageVersion", "Deleting", "Upgrading", "Scaling"}
# Keys of another era of the service the emulator does not serve (docs/emulator.md, "What it does not model").
NOT_MODELLED = [
    r"^properties\.controlPlanePluginProfiles", r"^properties\.nodeProvisioningProfile",
    r"^properties\.nodeResourceGroupProfile", r"^properties\.networkProfile\.dockerBridgeCidr$",
    r"^properties\.enablePodSecurityPolicy$",
]


def _matches(patterns, path):
    return any(re.search(p, path) for p in patterns)


def compare(recorded, ours, path=""):
    """Differences between a recorded body and ours: a list of 'path: recorded != ours' strings."""
    if _matches(NOT_MODELLED, path):
        return []
    if _matches(LEGITIMATELY_DIFFERENT, path):
        return [] if ours is not None or recorded is None else [f"{path}: missing"]
    if isinstance(recorded, dict):
        if not isinstance(ours, dict):
            return [f"{path or '(body)'}: {type(recorded).__name__} != {ours!r}"]
        out = []
        for key, value in recorded.items():
            sub = f"{path}.{key}" if path else key
            if key not in ours and not _matches(NOT_MODELLED, sub):
                if not _matches(LEGITIMATELY_DIFFERENT, sub):
                    out.append(f"{sub}: missing (recorded {json.dumps(value)[:80]})")
                continue
            out += compare(value, ours.get(key), sub)
        return out
    if isinstance(recorded, list):
        if not isinstance(ours, list) or len(ours) != len(recorded):
            return [f"{path}: {json.dumps(recorded)[:80]} != {json.dumps(ours)[:80]}"]
        return [d for r, o in zip(recorded, ours, strict=True) for d in compare(r, o, f"{path}[]")]
    if path.endswith("provisioningState") and recorded in TRANSITIONAL and ours == "Succeeded":
        return []
    return [] if recorded == ours else [f"{path}: {recorded!r} != {ours!r}"]


def load(name):
    with open(os.path.join(RECORDINGS, name + ".yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)["interactions"]


def era(name):
    """What the recording's world had before its first request: its resource groups (with their tags) and the
    Kubernetes versions its region offered (when the recording asked for them)."""
    groups, versions = {}, None
    for interaction in load(name):
        path = urlsplit(interaction["request"]["uri"]).path
        text = interaction["response"]["body"].get("string") or ""
        answered = interaction["response"]["status"]["code"] == 200 and text.strip()
        if interaction["request"]["method"] == "GET" and answered:
            body = json.loads(text)
            if re.search(r"/resourcegroups/[^/]+$", path, re.I):
                groups[body["name"]] = {"name": body["name"], "location": body["location"], "tags": body.get("tags")}
            elif path.endswith("/kubernetesVersions") and versions is None:
                versions = sorted(v for item in body["values"] for v in item["patchVersions"])
    return list(groups.values()), versions


def replay(name, arm):
    """Send every recorded request; a list of differences (empty when the emulator answered as AKS did)."""
    differences, operations = [], {}
    for number, interaction in enumerate(load(name)):
        request, recorded = interaction["request"], interaction["response"]
        url = urlsplit(request["uri"])
        path = url.path
        query = dict(p.split("=", 1) for p in url.query.split("&") if "=" in p)
        op = re.search(r"/(operations|operationresults)/([^/]+)$", path)
        if op:
            if op.group(2) not in operations:
                differences.append(f"#{number} {path}: an operation the emulator never announced")
                continue
            path = path[:op.start(2)] + operations[op.group(2)]
        headers = {k: v[0] for k, v in request["headers"].items() if k.lower() == "akshttpcustomfeatures"}
        body = json.loads(request["body"]) if request.get("body") else None
        response = arm(request["method"], path, api=query.get("api-version"), headers=headers, json=body)
        where = f"#{number} {request['method']} {path.rsplit('/', 2)[-2:]}"
        if response.status_code != recorded["status"]["code"]:
            differences.append(f"{where}: status {recorded['status']['code']} != {response.status_code} "
                               f"{response.text[:200]}")
            continue
        recorded_headers = {k.lower(): v[0] for k, v in recorded["headers"].items()}
        ours = {k.lower(): v for k, v in response.headers.items()}
        for header in CLIENT_READ_HEADERS:
            if (header in recorded_headers) != (header in ours):
                differences.append(f"{where}: header {header} {'missing' if header in recorded_headers else 'extra'}")
            elif header in ours:
                operations[urlsplit(recorded_headers[header]).path.rsplit("/", 1)[1]] = \
                    urlsplit(ours[header]).path.rsplit("/", 1)[1]
        text = recorded["body"].get("string") or ""
        if not text.strip():
            continue
        expected = json.loads(text)
        got = response.json() if response.content else None
        if op:  # an operation's status: its keys, and a status the same or later (the emulator's clock runs fast)
            if not set(got) <= OPERATION_BODY_KEYS or got.get("status") not in ("InProgress", "Succeeded"):
                differences.append(f"{where}: operation body {got}")
            continue
        differences += [f"{where}: {d}" for d in compare(expected, got)]
    return differences
