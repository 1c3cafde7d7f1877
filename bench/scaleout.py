"""Orders/s with one replica per service and with two, in the same run.

    .venv/bin/python -m bench.scaleout [--orders 200] [--callers 16]

Each round starts catalog, orders, dispatch and notify as nameko containers in this process
(N replicas of each, the replicas of a service sharing one embedded database, as in
tests/scaleout), on a private virtual host, places ``--orders`` orders over RPC from
``--callers`` concurrent callers and waits until every one is confirmed. It prints orders/s
(from the first placement to the last confirmation), the placing latency p50/p99, and the
ratio of two replicas to one.

All replicas run in one Python process, so they share one core: the ratio shows what the
replica-safety costs (leases, counters, announcements, competing consumers), not what a
second machine would add. The point of running two is correctness (tests/scaleout).
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from bench.stats import print_table, summary  # noqa: E402
from services.catalog.service import CatalogService  # noqa: E402
from services.common.broker import temporary_vhost  # noqa: E402
from services.common.config import setting  # noqa: E402
from services.dispatch.service import DispatchService  # noqa: E402
from services.notify.service import NotifyService  # noqa: E402
from services.orders.service import OrdersService  # noqa: E402
from tests.scaleout.replicas import Replicas, one_database_per_service  # noqa: E402

HOME = {"lat": 30.5803, "lng": 114.2705}
MERCHANT = {"sub": "merchant-bench", "role": "merchant"}


def one_round(replicas: int, orders: int, callers: int) -> dict:
    name = f"{replicas} replica{'s' if replicas > 1 else ''} per service"
    vhost = f"lifecircle-bench-scaleout-{os.getpid()}-{replicas}"
    with (temporary_vhost(setting(None, "AMQP_URI"), vhost) as uri,
          tempfile.TemporaryDirectory() as data, pytest.MonkeyPatch.context() as patch,
          one_database_per_service(patch)):
        config = {"AMQP_URI": uri, "DATA_DIR": data, "MONGO_URL": "", "max_workers": 10,
                  "serializer": "json"}
        running = [Replicas(ServiceContainer, cls, config, replicas)
                   for cls in (CatalogService, OrdersService, DispatchService, NotifyService)]
        for r in running:
            r.start()
        try:
            with ClusterRpcProxy(config, timeout=30) as rpc:
                shop = rpc.catalog.create_merchant(actor=MERCHANT, merchant={
                    "name": "便利店", "business_type": "convenience_store",
                    "location": {"lat": HOME["lat"] + 0.001, "lng": HOME["lng"]},
                    "address": "民意街1号"})
                product = rpc.catalog.create_product(
                    actor=MERCHANT, merchant_id=shop["id"],
                    product={"name": "矿泉水", "unit": "瓶", "price_fen": 200,
                             "stock": orders * 2})
            latencies: list[float] = []

            def caller(first: int) -> None:
                # One long-lived proxy per caller, as each gateway thread keeps one.
                with ClusterRpcProxy(config, timeout=30) as rpc:
                    for i in range(first, orders, callers):
                        t0 = time.perf_counter()
                        rpc.orders.place_order(
                            actor={"sub": f"resident-{i % 50}", "role": "resident"},
                            idempotency_key=f"bench-scaleout-{i:06d}",
                            order={"merchant_id": shop["id"],
                                   "items": [{"product_id": product["id"], "quantity": 1}],
                                   "delivery": {"address": "民意街12号", "location": HOME}})
                        latencies.append(time.perf_counter() - t0)

            orders_db = running[1].store(0).orders
            started = time.perf_counter()
            list(eventlet.GreenPool(callers).imap(caller, range(callers)))
            while orders_db.count_documents({"status": "confirmed"}) < orders:
                eventlet.sleep(0.02)
            elapsed = time.perf_counter() - started
            shares = running[1].share("place_order")
        finally:
            for r in running:
                for container in r.containers:
                    container.stop()
    row = summary(name, latencies, elapsed)
    row["share"] = shares
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--callers", type=int, default=16)
    args = parser.parse_args()
    rows = [one_round(n, args.orders, args.callers) for n in (1, 2)]
    print(f"\n{args.orders} orders from {args.callers} callers, placed until confirmed "
          "(rate = orders/s end to end; p50/p99 = placing one order)")
    print_table(rows, baseline=rows[0]["name"])
    for row in rows:
        print(f"  {row['name']}: place_order handled per replica {row['share']}")


if __name__ == "__main__":
    main()
