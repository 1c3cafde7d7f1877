"""Server time per web page (p50/p99) under the demo data, and the bytes of JavaScript and CSS
each page loads. A whole private system (4 services + gunicorn gateway) with the demo circle;
each page is fetched sequentially with a signed-in session, N times.

    python -m bench.web_pages [--n 50]

Server time is read from the gateway's own request log line (duration_ms: from the first
byte of the request to the response), so the client's HTTP overhead is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
import uuid
from pathlib import Path

import requests

from bench.stats import percentile
from services import demo
from services.common.broker import temporary_vhost
from services.common.config import setting
from services.launcher import start_private

ASSET = re.compile(r'<(?:script[^>]+src|link[^>]+rel="stylesheet"[^>]+href)="([^"]+)"')


def session_for(base: str, sub: str) -> requests.Session:
    s = requests.Session()
    s.get(f"{base}/signin", timeout=10)
    token = s.cookies.get("lc_csrf")
    page = s.get(f"{base}/signin", timeout=10).text
    csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page).group(1)
    assert token
    role = next(p["role"] for p in _people() if p["sub"] == sub)
    r = s.post(f"{base}/signin", data={"csrf_token": csrf, "sub": sub, "role": role},
               allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    return s


def _people():
    from services.web.people import DEMO_PEOPLE

    return DEMO_PEOPLE


def asset_bytes(s: requests.Session, base: str, html: str, cache: dict) -> int:
    total = 0
    for url in ASSET.findall(html):
        if url not in cache:
            cache[url] = len(s.get(f"{base}{url}", timeout=10).content)
        total += cache[url]
    return total


def server_times(log_path: Path, path: str, since: int) -> list[float]:
    with log_path.open("rb") as fh:
        fh.seek(since)
        lines = fh.read().decode("utf-8", "replace").splitlines()
    out = []
    for line in lines:
        if '"event": "request"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("path") == path.split("?")[0]:
            out.append(entry["duration_ms"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="web page timings and asset bytes")
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    with temporary_vhost(setting(None, "AMQP_URI"), f"lifecircle-benchweb-{os.getpid()}") as uri, \
            tempfile.TemporaryDirectory() as tmp:
        system = start_private(uri, Path(tmp))
        try:
            base = system.base_url
            ids = demo.load(base, Path(tmp))
            li, canteen = session_for(base, "resident-li"), session_for(base, "merchant-canteen")
            home = demo.RESIDENTS["resident-li"]
            order = requests.post(
                f"{base}/api/v1/orders",
                headers={"Idempotency-Key": str(uuid.uuid4()),
                         "Authorization": "Bearer " + li.cookies.get("lc_session")},
                json={"merchant_id": ids["merchants"]["merchant-canteen"],
                      "items": [{"product_id": ids["products"]["两荤一素套餐"], "quantity": 1}],
                      "delivery": {"address": home["address"],
                                   "location": home["location"]}}, timeout=10).json()
            desk, wang = session_for(base, "dispatcher-jianghan"), session_for(base, "tech-wang")
            planner = session_for(base, "planner-jianghan")
            repairs = [requests.post(
                f"{base}/api/v1/repairs",
                headers={"Idempotency-Key": str(uuid.uuid4()),
                         "Authorization": "Bearer " + li.cookies.get("lc_session")},
                json={"skill": "plumbing", "description": "厨房水龙头一直滴水",
                      "address": home["address"], "location": home["location"]},
                timeout=10).json()["id"] for _ in range(2)]
            requests.post(f"{base}/api/v1/repairs/{repairs[1]}/assign", timeout=10,
                          headers={"Authorization": "Bearer " + desk.cookies.get("lc_session")},
                          json={"technician_id": ids["technicians"]["tech-wang"]})
            pages = [
                (desk, "/d/"), (desk, "/d/board"), (desk, f"/d/repairs/{repairs[0]}"),
                (desk, "/d/roster"), (desk, "/d/stats"),
                (wang, "/t/"), (wang, f"/t/jobs/{repairs[1]}"),
                (planner, "/p/"), (planner, "/p/cell?lat=30.5803&lng=114.2705"),
                (planner, "/p/notices"),
                (li, "/r/"), (li, "/r/search?q=鸡蛋"),
                (li, f"/r/shops/{ids['merchants']['merchant-wang']}"),
                (li, f"/r/orders/{order['id']}"), (li, "/inbox"), (li, "/settings"),
                (canteen, "/shop/"), (canteen, "/shop/goods"), (canteen, "/shop/profile"),
                (None, "/api/docs"),
            ]
            log_path = system.log_dir / "gateway.log"
            cache: dict = {}
            print(f"{'page':46} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'JS+CSS KB':>10}")
            for who, path in pages:
                s = who or requests.Session()
                since = log_path.stat().st_size
                html = ""
                for _ in range(args.n):
                    r = s.get(f"{base}{path}", timeout=30)
                    assert r.status_code == 200, (path, r.status_code)
                    html = r.text
                time.sleep(0.3)  # the log line is written after the response
                times = server_times(log_path, path, since)
                kb = asset_bytes(s, base, html, cache) / 1024
                print(f"{path[:46]:46} {len(times):>4} {percentile(times, 50):>8.1f} "
                      f"{percentile(times, 99):>8.1f} {kb:>10.1f}")
        finally:
            system.stop_all()


if __name__ == "__main__":
    main()
