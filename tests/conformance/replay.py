"""Replaying a real service recording against the emulator, and comparing what it answers with what AKS answered.

The recordings are the service's own answers, from the Azure CLI's and the aks-preview extension's MIT-licensed
test suites: five in `tests/emulator/recordings/`, the corpus in `tests/conformance/recordings/corpus/` (its
README names the source). Each request the emulator serves is sent as recorded (operation ids mapped to the
emulator's); the status code, the long-running-operation headers clients read, and the body must match, key by
key and both ways (a key the emulator adds is a mismatch as much as one it leaves out), but for what the reviewed
allow-list (allowlist.py) excuses.

In scope: the Microsoft.ContainerService requests the emulator serves, but for the polls of an operation's status
(replayed, and checked, but counted apart: they carry no resource). Requests to other providers or to AKS APIs
the emulator does not serve are not sent.
"""
from __future__ import annotations

import base64
import dataclasses
import email.utils
import json
import os
import re
from datetime import date
from typing import List, Optional
from urllib.parse import parse_qsl, urlsplit

import yaml

from imds_ext.emulator import urls
from tests.conformance.allowlist import ANY, EXTRA, MISSING, TRANSITIONAL, VALUE, Rules, foreign

HERE = os.path.dirname(__file__)
FOLDERS = (os.path.join(HERE, "..", "emulator", "recordings"), os.path.join(HERE, "recordings", "corpus"))
CLIENT_READ_HEADERS = ("azure-asyncoperation", "location")
OPERATION_BODY_KEYS = {"name", "status", "startTime", "endTime", "error", "id", "percentComplete"}
AKS = re.compile(r"/providers/Microsoft\.ContainerService/", re.I)
POLL = re.compile(r"/providers/Microsoft\.ContainerService/locations/[^/]+/operations/[^/]+$", re.I)
ABSENT = object()

IN_SCOPE, POLLED, OTHER, NOT_SERVED = "aks", "poll", "other", "not served"


@dataclasses.dataclass
class Outcome:
    number: int
    method: str
    path: str
    scope: str  # IN_SCOPE, POLLED, OTHER (another provider's, sent when the emulator serves it) or NOT_SERVED
    differences: List[str]

    @property
    def matched(self) -> bool:
        return not self.differences


def names() -> List[str]:
    return sorted(os.path.splitext(f)[0] for folder in FOLDERS for f in os.listdir(folder) if f.endswith(".yaml"))


def _file(name: str) -> str:
    return next(p for p in (os.path.join(folder, name + ".yaml") for folder in FOLDERS) if os.path.exists(p))


def load(name: str) -> list:
    with open(_file(name), encoding="utf-8") as f:
        return yaml.safe_load(f)["interactions"]


def recorded_on(name: str) -> date:
    """The day of the recording's first answer."""
    for interaction in load(name):
        for key, value in interaction["response"]["headers"].items():
            if key.lower() == "date":
                return email.utils.parsedate_to_datetime(value[0]).date()
    raise ValueError(f"{name}: no answer has a date")


def scope(method: str, path: str) -> str:
    route, _ = urls.match(method, path)
    if route is None:
        return NOT_SERVED
    if not AKS.search(path):
        return OTHER
    return POLLED if POLL.search(path) else IN_SCOPE


def _versions(value, found: set) -> None:
    """Every Kubernetes patch version a recording names, in requests and answers alike."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and re.fullmatch(r"\d+\.\d+\.\d+", item) and "ersion" in key:
                found.add(item)
            else:
                _versions(item, found)
    elif isinstance(value, list):
        for item in value:
            _versions(item, found)


def _json(text):
    try:
        return json.loads(text) if text and text.strip() else None
    except ValueError:
        return None


def era(name: str):
    """What the recording's world had before its first request: its resource groups (with their tags and region)
    and the Kubernetes versions its region offered (those it listed, else every patch version it names)."""
    groups, listed, named = {}, None, set()
    for interaction in load(name):
        request, response = interaction["request"], interaction["response"]
        path = urlsplit(request["uri"]).path
        body = _json(response["body"].get("string"))
        _versions(body, named)
        _versions(_json(request.get("body")), named)
        if request["method"] != "GET" or response["status"]["code"] != 200 or not isinstance(body, dict):
            continue
        match = re.search(r"/resourcegroups/([^/]+)(/providers/Microsoft\.ContainerService/managedClusters/[^/]+)?$",
                          path, re.I)
        if match and match.group(2) is None:
            groups[body["name"]] = {"name": body["name"], "location": body["location"], "tags": body.get("tags")}
        elif match and match.group(1) not in groups and body.get("location"):
            groups[match.group(1)] = {"name": match.group(1), "location": body["location"]}
        elif path.endswith("/kubernetesVersions") and listed is None:
            listed = sorted(v for item in body["values"] for v in item["patchVersions"])
    return list(groups.values()), listed or sorted(named) or None


def _first_put_location(name: str) -> Optional[str]:
    for interaction in load(name):
        body = _json(interaction["request"].get("body"))
        if interaction["request"]["method"] == "PUT" and isinstance(body, dict) and body.get("location"):
            return body["location"]
    return None


def groups_of(name: str) -> list:
    """The resource groups to seed: those the recording read, else every group it names, in its cluster's
    region."""
    groups, _ = era(name)
    known = {g["name"].lower() for g in groups}
    location = _first_put_location(name) or "westus2"
    for interaction in load(name):
        match = re.search(r"/resourcegroups/([^/]+)", urlsplit(interaction["request"]["uri"]).path, re.I)
        if match and match.group(1).lower() not in known:
            known.add(match.group(1).lower())
            groups.append({"name": match.group(1), "location": location})
    return groups


def default_minor(name: str) -> Optional[str]:
    """The minor the recording's region gave a create that named no version (not always its newest)."""
    for interaction in load(name):
        request, response = interaction["request"], interaction["response"]
        sent, answer = _json(request.get("body")), _json(response["body"].get("string"))
        if request["method"] == "PUT" and response["status"]["code"] == 201 and isinstance(sent, dict) and \
                isinstance(answer, dict) and not (sent.get("properties") or {}).get("kubernetesVersion") and \
                re.search(r"/managedClusters/[^/]+$", urlsplit(request["uri"]).path, re.I):
            version = (answer.get("properties") or {}).get("kubernetesVersion")
            return ".".join(version.split(".")[:2]) if version else None
    return None


PROVIDERS = re.compile(r"^/subscriptions/[^/]+/providers(/(?P<ns>[^/]+)(/(?P<action>register|unregister))?)?$", re.I)


def providers_of(name: str) -> dict:
    """The subscription's resource providers as the recording first read them (in a list of them, or one), in the
    service's order and spelling, unless the recording had registered or unregistered them before: their states
    before its first request."""
    states, changed = {}, set()
    for interaction in load(name):
        request, response = interaction["request"], interaction["response"]
        match = PROVIDERS.match(urlsplit(request["uri"]).path)
        body = _json(response["body"].get("string"))
        if not match or response["status"]["code"] != 200 or not isinstance(body, dict):
            continue
        if match.group("action"):
            changed.add(match.group("ns").lower())
            continue
        for item in body.get("value", []) if match.group("ns") is None else [body]:
            namespace, state = item.get("namespace"), item.get("registrationState")
            if namespace and state and namespace.lower() not in changed | {n.lower() for n in states}:
                states[namespace] = state
    return states


def prepare(name: str, admin) -> None:
    """The emulator as the recording's world was: its groups, its providers' registrations, its region's versions
    and default."""
    providers = providers_of(name)
    admin.seed(resourceGroups=groups_of(name), **({"providers": providers} if providers else {}))
    if any(urlsplit(i["request"]["uri"]).path.lower().endswith("/abort") for i in load(name)):
        # The recording aborts an operation while it runs: the emulator's must still run when the abort comes.
        admin.config(lro_delay=3600)
    _, versions = era(name)
    if versions:
        minor = default_minor(name)
        offered = {".".join(v.split(".")[:2]) for v in versions}
        admin.config(kubernetes_versions=versions, default_kubernetes_version=minor if minor in offered else None)


def compare(recorded, ours, rules: Rules, path: str = "") -> List[str]:
    """Differences between a recorded body and ours, both ways: 'path: recorded != ours', 'path: missing',
    'path: extra'. A null is taken as absent (clients deserialize both alike)."""
    if path and rules.excuses(path, ANY):
        return []
    if isinstance(recorded, dict) and isinstance(ours, dict):
        out = []
        for key in list(recorded) + [k for k in ours if k not in recorded]:
            sub = f"{path}.{key}" if path else key
            mine, theirs = ours.get(key, ABSENT), recorded.get(key, ABSENT)
            if theirs in (ABSENT, None) and mine not in (ABSENT, None):
                if not rules.excuses(sub, EXTRA):
                    out.append(f"{sub}: extra {json.dumps(mine)[:100]}")
            elif mine in (ABSENT, None) and theirs not in (ABSENT, None):
                if not rules.excuses(sub, MISSING):
                    out.append(f"{sub}: missing (recorded {json.dumps(theirs)[:100]})")
            elif theirs not in (ABSENT, None):
                out += compare(theirs, mine, rules, sub)
        return out
    if rules.excuses(path, VALUE):
        return []
    if isinstance(recorded, list) and isinstance(ours, list) and len(ours) == len(recorded):
        return [d for r, o in zip(recorded, ours, strict=True) for d in compare(r, o, rules, f"{path}[]")]
    if path.endswith("provisioningState") and recorded in TRANSITIONAL and ours in ("Succeeded", "Canceled"):
        return []
    return [] if recorded == ours else [f"{path or '(body)'}: {json.dumps(recorded)[:100]} != {json.dumps(ours)[:100]}"]


def replay(name: str, arm) -> List[Outcome]:
    """Send every request the emulator serves, as recorded; one Outcome per recorded request."""
    rules = Rules(name, recorded_on(name))
    groups = {g["name"].lower() for g in groups_of(name)}
    outcomes, operations = [], {}
    for number, interaction in enumerate(load(name)):
        request, recorded = interaction["request"], interaction["response"]
        url = urlsplit(request["uri"])
        path, kind = url.path, scope(request["method"], url.path)
        outcome = Outcome(number, request["method"], path, kind, [])
        outcomes.append(outcome)
        if kind == NOT_SERVED:
            continue
        outcome.differences = _exchange(request, recorded, path, url.query, operations, rules, groups, arm)
    return outcomes


def _exchange(request, recorded, path, query, operations, rules, groups, arm) -> List[str]:
    query = dict(parse_qsl(query))  # decoded: the client sends them encoded again
    op = re.search(r"/(operations|operationresults)/([^/]+)$", path)
    if op:
        if op.group(2) not in operations:
            return [f"{path}: an operation the emulator never announced"]
        path = path[:op.start(2)] + operations[op.group(2)]
    headers = {k: v[0] for k, v in request["headers"].items() if k.lower() == "akshttpcustomfeatures"}
    body = _json(request.get("body"))
    rest = {k: v for k, v in query.items() if k != "api-version"}  # a page's skip token, say
    response = arm(request["method"], path, api=query.get("api-version"), headers=headers, json=body,
                   **({"params": rest} if rest else {}))
    # A result read while the service's operation still ran (202), answered with its end (200, 204): the emulator's
    # clock runs faster (allowlist.TRANSITIONAL); its headers are compared, the running operation's body is not.
    later = bool(op) and op.group(1) == "operationresults" and recorded["status"]["code"] == 202 and \
        response.status_code in (200, 204)
    if response.status_code != recorded["status"]["code"] and not later:
        return [f"status {recorded['status']['code']} != {response.status_code} {response.text[:200]}"]
    out = []
    recorded_headers = {k.lower(): v[0] for k, v in recorded["headers"].items()}
    ours = {k.lower(): v for k, v in response.headers.items()}
    for header in CLIENT_READ_HEADERS:
        if (header in recorded_headers) != (header in ours):
            out.append(f"header {header} {'missing' if header in recorded_headers else 'extra'}")
        elif header in ours:
            operations[urlsplit(recorded_headers[header]).path.rsplit("/", 1)[1]] = \
                urlsplit(ours[header]).path.rsplit("/", 1)[1]
    if later:
        return out
    expected = _json(recorded["body"].get("string"))
    got = _json(response.text) if response.content else None
    if op and op.group(1) == "operations":
        # An operation's status: its keys, and a status the same or later (the emulator's clock runs fast).
        if not isinstance(got, dict) or not set(got) <= OPERATION_BODY_KEYS or \
                got.get("status") not in ("InProgress", "Succeeded", (expected or {}).get("status")):
            out.append(f"operation body {got}")
        return out
    if expected is None:
        return out + ([f"(body): extra {response.text[:100]}"] if got not in (None, "") else [])
    return out + compare(_decoded(foreign(expected, groups)), _decoded(got), rules.at(path))


def _decoded(body):
    """A credential answer with its kubeconfigs read (base64 YAML), so that what they hold is compared too; an exec
    plugin's arguments as {flag: value}, so that each is compared by its name."""
    if not (isinstance(body, dict) and isinstance(body.get("kubeconfigs"), list)):
        return body
    kubeconfigs = []
    for item in body["kubeconfigs"]:
        if isinstance(item, dict) and isinstance(item.get("value"), str):
            config = yaml.safe_load(base64.b64decode(item["value"]))
            for user in config.get("users") or []:
                plugin = (user.get("user") or {}).get("exec")
                if isinstance(plugin, dict) and isinstance(plugin.get("args"), list):
                    args = plugin["args"]
                    plugin["args"] = {"command": args[0], **dict(zip(args[1::2], args[2::2], strict=False))}
            item = dict(item, value=config)
        kubeconfigs.append(item)
    return dict(body, kubeconfigs=kubeconfigs)
