"""Order throughput through HTTP against the real processes, with baselines from the same run.

    .venv/bin/python -m bench.orders_flow [--orders 400] [--clients 8]

Starts a private system (own vhost, own data, spare port), then measures:
- the HTTP ceiling (GET /healthz: no RPC) and one RPC per request (GET a product),
- POST /api/v1/orders from concurrent clients (orders/s, p50/p99 of the 202),
- the time from POST to `confirmed` (polled every 5 ms, one order at a time),
and prints every rate also as a ratio of the one-RPC baseline.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

from bench.stats import print_table, summary
from services.common.broker import temporary_vhost
from services.common.config import setting
from services.launcher import start_private

HOME = {"address": "民意街12号", "location": {"lat": 30.5803, "lng": 114.2705}}


def token(base: str, sub: str, role: str) -> str:
    r = requests.post(f"{base}/api/v1/auth/dev-token", json={"sub": sub, "role": role},
                      timeout=10)
    return r.json()["access_token"]


def hammer(name: str, n: int, clients: int, make_request) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = n // clients

    def run() -> None:
        session = requests.Session()
        mine = []
        for _ in range(per_client):
            started = time.perf_counter()
            response = make_request(session)
            # 503 overloaded: the gateway shed an order the saga could not answer in time
            assert response.status_code < 300 or response.status_code == 503, response.text
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return summary(name, latencies, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--confirm-samples", type=int, default=50)
    args = parser.parse_args()

    with temporary_vhost(setting(None, "AMQP_URI"), f"lifecircle-bench-{os.getpid()}") as uri, \
            tempfile.TemporaryDirectory() as tmp:
        system = start_private(uri, Path(tmp))
        try:
            run(system.base_url, args)
        finally:
            system.stop_all()


def run(base: str, args: argparse.Namespace) -> None:
    owner, resident = token(base, "bench-shop", "merchant"), token(base, "bench-li", "resident")
    auth_owner = {"Authorization": f"Bearer {owner}"}
    shop = requests.post(f"{base}/api/v1/merchants", headers=auth_owner, json={
        "name": "压测便利店", "business_type": "convenience_store", "address": "民意四路18号",
        "location": {"lat": 30.5806, "lng": 114.2712}}, timeout=10).json()
    product = requests.post(f"{base}/api/v1/merchants/{shop['id']}/products",
                            headers=auth_owner, json={"name": "矿泉水", "unit": "瓶",
                                                      "price_fen": 200, "stock": 10 ** 8},
                            timeout=10).json()
    auth = {"Authorization": f"Bearer {resident}"}
    body = {"merchant_id": shop["id"], "items": [{"product_id": product["id"], "quantity": 1}],
            "delivery": HOME}
    n, c = args.orders, args.clients

    rows = [
        hammer("GET /healthz (no RPC)", n, c,
               lambda s: s.get(f"{base}/healthz", timeout=10)),
        hammer("GET /api/v1/products/{id} (1 RPC)", n, c,
               lambda s: s.get(f"{base}/api/v1/products/{product['id']}", headers=auth,
                               timeout=10)),
    ]
    placed: list[str] = []

    def place(s):
        r = s.post(f"{base}/api/v1/orders", json=body, timeout=10,
                   headers={**auth, "Idempotency-Key": str(uuid.uuid4())})
        if r.status_code == 202:
            placed.append(r.json()["id"])
        return r

    started = time.perf_counter()
    rows.append(hammer("POST /api/v1/orders (202 accepted)", n, c, place))
    rows[-1]["name"] = f"POST /api/v1/orders ({len(placed)} 202, {n - len(placed)} 503)"
    # The saga runs behind the 202: wait until every order is confirmed (the backlog drains).
    session = requests.Session()
    pending = list(placed)
    while pending:
        pending = [oid for oid in pending if session.get(
            f"{base}/api/v1/orders/{oid}", headers=auth, timeout=10).json()["status"]
            != "confirmed"]
    drained = time.perf_counter() - started
    rows.append({"name": "orders confirmed end to end (burst)", "n": len(placed),
                 "rate_per_s": round(len(placed) / drained, 1), "p50_ms": float("nan"),
                 "p99_ms": float("nan"), "mean_ms": float("nan")})

    confirm = []
    started_all = time.perf_counter()
    for _ in range(args.confirm_samples):
        started = time.perf_counter()
        key = str(uuid.uuid4())
        while (r := session.post(f"{base}/api/v1/orders", json=body, timeout=10, headers={
                **auth, "Idempotency-Key": key})).status_code == 503:
            time.sleep(0.05)  # the burst's backlog is still draining
        order = r.json()
        while session.get(f"{base}/api/v1/orders/{order['id']}", headers=auth,
                          timeout=10).json()["status"] != "confirmed":
            time.sleep(0.005)
        confirm.append(time.perf_counter() - started)
    rows.append(summary("POST → confirmed (sequential)", confirm,
                        time.perf_counter() - started_all))
    print(f"\n{n} requests per measure from {c} concurrent clients; "
          f"{args.confirm_samples} sequential POST → confirmed samples\n")
    print_table(rows, baseline="GET /api/v1/products/{id} (1 RPC)")


if __name__ == "__main__":
    main()
