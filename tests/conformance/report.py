"""How faithful the emulator is, measured on the recordings: per recording and in total, the requests in scope
and how many the emulator answered as the service did, both ways (tests/conformance/replay.py says what counts).

    python -m tests.conformance.report [-v] [--classes] [name ...]

`-v` lists each mismatch; `--classes` counts the mismatches by path, biggest first (what to fix next).
No assertions: read the figures (the conformance tests hold them).
"""
from __future__ import annotations

import argparse
import collections
import re
import sys

import requests

from imds_ext.emulator import Emulator, WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_TENANT_ID
from imds_ext.emulator.client import AdminClient
from tests.conformance.replay import IN_SCOPE, NOT_SERVED, POLLED, names, prepare, recorded_on, replay


def caller(emulator):
    """Raw ARM calls with a valid token, as the tests' `arm` fixture makes them."""
    token = requests.post(f"{emulator.authority_host}/{WELL_KNOWN_TENANT_ID}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": WELL_KNOWN_CLIENT_ID,
        "client_secret": WELL_KNOWN_CLIENT_SECRET, "scope": emulator.arm_endpoint + "/.default"},
        verify=emulator.ca_bundle_path, timeout=30).json()["access_token"]
    session = requests.Session()

    def call(method, path, api=None, headers=None, **kwargs):
        url = emulator.arm_endpoint + path + (f"?api-version={api}" if api else "")
        return session.request(method, url, headers={"Authorization": f"Bearer {token}", **(headers or {})},
                               verify=emulator.ca_bundle_path, timeout=30, **kwargs)

    return call


def measure(selected):
    """{recording: [Outcome]} over one in-process emulator, reset before each recording."""
    results = {}
    with Emulator(lro_delay=0.0, registration_delay=0.0) as emulator:
        admin, arm = AdminClient.for_emulator(emulator), caller(emulator)
        for name in selected:
            admin.reset()
            admin.config(retry_after=0)
            prepare(name, admin)
            results[name] = replay(name, arm)
    return results


def _class(difference: str) -> str:
    """A mismatch without its request and values: the path and what is wrong with it."""
    text = re.sub(r"\[\]", "", difference.split(": ", 1)[0])
    kind = difference.split(": ", 1)[1] if ": " in difference else ""
    word = kind.split(" ", 1)[0] if kind.split(" ", 1)[0] in ("extra", "missing", "status") else "value"
    return f"{text} ({word})"


def table(results) -> str:
    rows = [("recording", "date", "in scope", "matched", "polls ok", "not served")]
    total = collections.Counter()
    for name, outcomes in results.items():
        aks = [o for o in outcomes if o.scope == IN_SCOPE]
        polls = [o for o in outcomes if o.scope == POLLED]
        counts = {"scope": len(aks), "matched": sum(o.matched for o in aks),
                  "polls": len(polls), "polls_ok": sum(o.matched for o in polls),
                  "not_served": sum(o.scope == NOT_SERVED for o in outcomes)}
        total.update(counts)
        total["recordings"] += 1
        total["full"] += counts["matched"] == counts["scope"] and counts["polls_ok"] == counts["polls"]
        rows.append((name, recorded_on(name).isoformat(), str(counts["scope"]), str(counts["matched"]),
                     f"{counts['polls_ok']}/{counts['polls']}", str(counts["not_served"])))
    share = 100 * total["matched"] / total["scope"] if total["scope"] else 0.0
    rows.append(("total", "", str(total["scope"]), f"{total['matched']} ({share:.0f}%)",
                 f"{total['polls_ok']}/{total['polls']}", str(total["not_served"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    lines.append(f"recordings fully matching: {total['full']} of {total['recordings']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="recordings to replay (default: all)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list each mismatch")
    parser.add_argument("--classes", action="store_true", help="count mismatches by path, biggest first")
    args = parser.parse_args(argv)
    results = measure(args.names or names())
    print(table(results))
    if args.classes:
        counter = collections.Counter(_class(d) for outcomes in results.values() for o in outcomes
                                      if o.scope == IN_SCOPE for d in o.differences)
        print("\nmismatches by class (requests in scope):")
        for text, count in counter.most_common():
            print(f"{count:5}  {text}")
    if args.verbose:
        for name, outcomes in results.items():
            for o in outcomes:
                for d in o.differences:
                    print(f"{name} #{o.number} {o.method} {o.path.rsplit('/', 2)[-2:]}: {d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
