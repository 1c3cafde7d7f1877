"""Reads through the gateway as a share of a bare gunicorn app's rate, in the same run.

    .venv/bin/python -m bench.public_reads [--seconds 5] [--clients 8]

Starts a private system (own vhost, data, port) and a trivial WSGI app under the gateway's
gunicorn settings, then drives each read for a fixed time from keep-alive connections
(bench/loadgen.py) and prints rate, p50/p99 and the share of the bare app's rate:
- public reads (business types, a shop, a product, a shop's goods, near-me),
- per-person reads (an order, the inbox),
- freshness: a product's price changed through the API, then read until the new value shows
  (the time from the PATCH's answer to the first read with the new price).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from bench.loadgen import load
from bench.stats import print_table, summary
from services.common.broker import temporary_vhost
from services.common.config import setting
from services.launcher import BIN, ROOT, free_port, start_private

HOME = {"address": "民意街12号", "location": {"lat": 30.5803, "lng": 114.2705}}
BARE = "bare gunicorn app (no Flask, no RPC)"


def start_bare() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "services/gateway/gunicorn_conf.py"),
         "bench.bare_app:app"], cwd=ROOT, env={**os.environ, "GATEWAY_BIND":
                                                f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base, timeout=1).status_code == 200:
                return proc, base
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the bare app did not start")


def token(base: str, sub: str, role: str) -> str:
    r = requests.post(f"{base}/api/v1/auth/dev-token", json={"sub": sub, "role": role},
                      timeout=10)
    r.raise_for_status()
    return r.json()["access_token"]


def setup(base: str) -> dict:
    """A shop with goods, a resident with a confirmed order and something in the inbox."""
    owner = {"Authorization": f"Bearer {token(base, 'bench-shop', 'merchant')}"}
    resident = {"Authorization": f"Bearer {token(base, 'bench-li', 'resident')}"}
    s = requests.Session()
    shop = s.post(f"{base}/api/v1/merchants", headers=owner, json={
        "name": "压测便利店", "business_type": "convenience_store", "address": "民意四路18号",
        "location": {"lat": 30.5806, "lng": 114.2712}}, timeout=10).json()
    products = [s.post(f"{base}/api/v1/merchants/{shop['id']}/products", headers=owner,
                       json={"name": f"矿泉水{i}", "unit": "瓶", "price_fen": 200 + i,
                             "stock": 10 ** 6}, timeout=10).json() for i in range(10)]
    s.put(f"{base}/api/v1/me/notification-preferences", headers=resident,
          json={"quiet_hours": None}, timeout=10)
    order = s.post(f"{base}/api/v1/orders", headers={**resident, "Idempotency-Key":
                                                     uuid.uuid4().hex},
                   json={"merchant_id": shop["id"], "delivery": HOME,
                         "items": [{"product_id": products[0]["id"], "quantity": 1}]},
                   timeout=10).json()
    deadline = time.monotonic() + 30
    while s.get(f"{base}/api/v1/orders/{order['id']}", headers=resident,
                timeout=10).json()["status"] != "confirmed":
        if time.monotonic() > deadline:
            raise RuntimeError("the bench order was not confirmed")
        time.sleep(0.05)
    return {"owner": owner, "resident": resident, "shop": shop, "products": products,
            "order": order}


def freshness(base: str, ctx: dict, changes: int) -> dict:
    """PATCH a price, then GET until the new price shows: seconds from the PATCH's answer."""
    s = requests.Session()
    product = ctx["products"][1]
    url = f"{base}/api/v1/products/{product['id']}"
    lags = []
    started_all = time.perf_counter()
    for i in range(changes):
        s.get(url, headers=ctx["resident"], timeout=10)  # make sure a cached copy exists
        price = 1000 + i
        r = s.patch(url, headers=ctx["owner"], json={"price_fen": price}, timeout=10)
        r.raise_for_status()
        answered = time.perf_counter()
        while s.get(url, headers=ctx["resident"], timeout=10).json()["price_fen"] != price:
            if time.perf_counter() - answered > 10:
                break
        lags.append(time.perf_counter() - answered)
    row = summary("product PATCH -> new price read (staleness)", lags,
                  time.perf_counter() - started_all)
    row["max_ms"] = round(max(lags) * 1000, 1)
    return row


def measure(name: str, base: str, reqs, seconds: float, clients: int) -> dict:
    latencies, codes, elapsed = load(base, reqs, seconds, clients)
    row = summary(name, latencies, elapsed)
    bad = {k: v for k, v in codes.items() if k != 200}
    if bad:
        row["name"] = f"{name} {bad}"
    return row


def run(base: str, bare: str, args: argparse.Namespace) -> None:
    ctx = setup(base)
    resident, shop, products = ctx["resident"], ctx["shop"], ctx["products"]
    t, c = args.seconds, args.clients
    loc = HOME["location"]
    rows = [measure(BARE, bare, [("GET", "/", {})], t, c),
            measure("GET /healthz (Flask, no RPC)", base, [("GET", "/healthz", {})], t, c)]
    public = {
        "GET /business-types": [("GET", "/api/v1/business-types", {})],
        "GET /products/{id}": [("GET", f"/api/v1/products/{p['id']}", resident)
                               for p in products],
        "GET /merchants/{id}": [("GET", f"/api/v1/merchants/{shop['id']}", resident)],
        "GET /merchants/{id}/products": [
            ("GET", f"/api/v1/merchants/{shop['id']}/products", resident)],
        "GET /merchants?lat&lng (near me)": [
            ("GET", f"/api/v1/merchants?lat={loc['lat']}&lng={loc['lng']}", resident)],
    }
    for name, reqs in public.items():
        rows.append(measure(name, base, reqs, t, c))
    personal = {
        "GET /orders/{id} (per person)": [
            ("GET", f"/api/v1/orders/{ctx['order']['id']}", resident)],
        "GET /notifications (per person)": [("GET", "/api/v1/notifications", resident)],
    }
    for name, reqs in personal.items():
        rows.append(measure(name, base, reqs, t, c))
    print(f"\n{t:g} s per measure, {c} keep-alive clients in 2 processes; x bare = share of "
          "the bare app's rate in this run\n")
    print_table(rows, baseline=BARE)
    fresh = freshness(base, ctx, args.changes)
    print(f"\n{fresh['name']}: n={fresh['n']} p50 {fresh['p50_ms']} ms, p99 "
          f"{fresh['p99_ms']} ms, max {fresh['max_ms']} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    bare_proc, bare = start_bare()
    try:
        with temporary_vhost(setting(None, "AMQP_URI"),
                             f"lifecircle-bench-{os.getpid()}") as uri, \
                tempfile.TemporaryDirectory() as tmp:
            system = start_private(uri, Path(tmp))
            try:
                run(system.base_url, bare, args)
            finally:
                system.stop_all()
    finally:
        bare_proc.terminate()
        bare_proc.wait(timeout=15)


if __name__ == "__main__":
    sys.exit(main())
