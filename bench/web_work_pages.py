"""Server time of the dispatcher's, technician's and planner's pages under the demo data, and
the bytes of JavaScript and CSS each page loads.

    .venv/bin/python -m bench.web_work_pages [--n 50]

Starts a private system (own vhost, own data, spare port) with the demo circle, an open and an
assigned repair, then GETs each page n times in a row with the person's session cookie and
prints p50/p99 (server time as the client sees it, on this machine) and the page's assets.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
import uuid
from pathlib import Path

import requests

from bench.stats import print_table, summary
from services import demo
from services.common.broker import temporary_vhost
from services.common.config import setting
from services.gateway.security import SESSION_COOKIE
from services.launcher import start_private

ASSET = re.compile(r'<(?:script[^>]*\bsrc|link[^>]*\brel="stylesheet"[^>]*\bhref)="([^"]+)"')


def session_for(base: str, sub: str, role: str) -> requests.Session:
    r = requests.post(f"{base}/api/v1/auth/dev-token", json={"sub": sub, "role": role},
                      timeout=10)
    s = requests.Session()
    s.cookies.set(SESSION_COOKIE, r.json()["access_token"])
    return s


def make_repairs(base: str, ids: dict) -> dict:
    li = session_for(base, "resident-li", "resident")
    home = demo.RESIDENTS["resident-li"]
    body = {"skill": "plumbing", "description": "厨房水龙头一直滴水", "address": home["address"],
            "location": home["location"]}
    made = []
    for _ in range(2):
        r = requests.post(f"{base}/api/v1/repairs", json=body, timeout=10, headers={
            "Idempotency-Key": str(uuid.uuid4()),
            "Authorization": "Bearer " + li.cookies[SESSION_COOKIE]})
        made.append(r.json()["id"])
    desk = session_for(base, "dispatcher-jianghan", "dispatcher")
    requests.post(f"{base}/api/v1/repairs/{made[1]}/assign", timeout=10,
                  json={"technician_id": ids["technicians"]["tech-wang"]},
                  headers={"Authorization": "Bearer " + desk.cookies[SESSION_COOKIE]})
    return {"open": made[0], "assigned": made[1]}


def asset_bytes(base: str, html: str, cache: dict[str, int]) -> int:
    total = 0
    for path in ASSET.findall(html):
        if path not in cache:
            cache[path] = len(requests.get(base + path, timeout=10).content)
        total += cache[path]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    with temporary_vhost(setting(None, "AMQP_URI"), f"lifecircle-bench-web-{os.getpid()}") as uri, \
            tempfile.TemporaryDirectory() as tmp:
        system = start_private(uri, Path(tmp))
        try:
            base = system.base_url
            ids = demo.load(base, Path(tmp))
            repairs = make_repairs(base, ids)
            pages = [
                ("dispatcher", "dispatcher-jianghan", "/d/"),
                ("dispatcher", "dispatcher-jianghan", "/d/board"),
                ("dispatcher", "dispatcher-jianghan", f"/d/repairs/{repairs['open']}"),
                ("dispatcher", "dispatcher-jianghan", "/d/roster"),
                ("dispatcher", "dispatcher-jianghan", "/d/stats"),
                ("technician", "tech-wang", "/t/"),
                ("technician", "tech-wang", f"/t/jobs/{repairs['assigned']}"),
                ("planner", "planner-jianghan", "/p/"),
                ("planner", "planner-jianghan", "/p/cell?lat=30.5803&lng=114.2705"),
                ("planner", "planner-jianghan", "/p/notices"),
            ]
            rows, sizes, cache = [], [], {}
            for role, sub, path in pages:
                s = session_for(base, sub, role)
                first = s.get(base + path, timeout=30)
                assert first.status_code == 200, (path, first.status_code)
                latencies = []
                started = time.perf_counter()
                for _ in range(args.n):
                    t0 = time.perf_counter()
                    r = s.get(base + path, timeout=30)
                    assert r.status_code == 200, (path, r.status_code)
                    latencies.append(time.perf_counter() - t0)
                rows.append(summary(f"GET {path.split('?')[0][:40]}", latencies,
                                    time.perf_counter() - started))
                sizes.append((path.split("?")[0][:40], len(first.content),
                              asset_bytes(base, first.text, cache)))
            print_table(rows)
            print(f"\n{'page':<44}{'HTML bytes':>12}{'JS+CSS bytes':>14}")
            for path, html, assets in sizes:
                print(f"{path:<44}{html:>12}{assets:>14}")
        finally:
            system.stop_all()


if __name__ == "__main__":
    main()
