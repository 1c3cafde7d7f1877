"""What the orders store's everyday operations cost as stored orders pile up: 1k vs 100k.

    .venv/bin/python -m bench.stored_data [--sizes 1000,100000] [--repeat 200]

Seeds orders straight into an embedded orders store (a temporary directory), most of them
delivered over the past year, with the same live set at every size (a few pending and
confirmed orders, some past their accept-by time), then times with the store's own verbs:
the acceptance-timeout timer's query, GET of one order, the merchant's pending list with its
total, a resident's list, the admin's lists filtered by status. Prints p50/p99 per size and
the ratio of the largest size to the smallest (1.0 = flat in stored data).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from bench.stats import print_size_table, timed
from services.common import idempotency
from services.common.store import open_database
from services.orders.records import accept_due, created_buckets
from services.orders.store import OrdersStore

MERCHANTS, RESIDENTS = 200, 5000
LIVE_PENDING, LIVE_CONFIRMED, LIVE_DUE = 30, 100, 5
ACCEPT_TIMEOUT = timedelta(seconds=600)


def order_doc(n: int, status: str, created: datetime, merchant: int, resident: int) -> dict:
    confirmed = status != "pending"
    history = [{"status": "pending", "at": created, "by": f"res-{resident}", "reason": None}]
    if confirmed:
        history.append({"status": "confirmed", "at": created, "by": None, "reason": None})
    if status == "delivered":
        history += [{"status": s, "at": created, "by": f"mer-{merchant}", "reason": None}
                    for s in ("accepted", "out_for_delivery", "delivered")]
    return {
        "_id": f"ord_{n:032x}", "resident_id": f"res-{resident}",
        "merchant_id": f"mer_{merchant:032x}", "merchant_owner_id": f"owner-{merchant}",
        "merchant_name": f"便民超市{merchant}",
        "items": [{"product_id": f"prd_{n % 50:032x}", "quantity": 1}],
        "lines": [{"product_id": f"prd_{n % 50:032x}", "name": "矿泉水", "quantity": 1,
                   "sale_mode": "by_piece", "unit": "瓶", "unit_price_fen": 200,
                   "price_per": None, "line_total_fen": 200}] if confirmed else [],
        "items_total_fen": 200 if confirmed else None, "delivery_fee_fen": 0 if confirmed
        else None, "total_fen": 200 if confirmed else None,
        "delivery": {"address": "民意街12号", "location": {"lat": 30.58, "lng": 114.27}},
        "note": None, "status": status, "reason": None,
        "accept_by": created + ACCEPT_TIMEOUT if status == "confirmed" else None,
        "history": history, **idempotency.key_fields(f"res-{resident}", str(n)),
        "fingerprint": "x",
        "created_at": created, "updated_at": created, **created_buckets(created),
        **accept_due(status, created + ACCEPT_TIMEOUT if status == "confirmed" else None),
        "_outbox": [], "_outbox_pending": False,
    }


def seed(store: OrdersStore, size: int, now: datetime) -> dict:
    """``size`` orders; the live ones are the same at every size. Returns what to query."""
    rng = random.Random(7)
    live = ([("pending", now - timedelta(seconds=2))] * LIVE_PENDING
            + [("confirmed", now - timedelta(seconds=60))] * LIVE_CONFIRMED
            + [("confirmed", now - ACCEPT_TIMEOUT - timedelta(seconds=5))] * LIVE_DUE)
    batch, ids = [], []
    for n in range(size):
        if n < len(live):
            status, created = live[n]
            merchant = 0 if n % 2 == 0 else rng.randrange(1, MERCHANTS)
        else:
            # history spread over the past year, as it accumulates
            status, created = "delivered", now - timedelta(days=1 + rng.random() * 364)
            merchant = n % MERCHANTS
        # a resident's own history does not grow with everyone else's: res-0 has <= 30
        resident = 0 if n % 97 == 0 and n < 97 * 30 else rng.randrange(1, RESIDENTS)
        batch.append(order_doc(n, status, created, merchant, resident))
        ids.append(batch[-1]["_id"])
        if len(batch) == 2000:
            store.orders.insert_many(batch)
            batch = []
    if batch:
        store.orders.insert_many(batch)
    return {"ids": ids, "merchant": "owner-0", "resident": "res-0"}


def measure(store: OrdersStore, ctx: dict, now: datetime, repeat: int) -> dict[str, list]:
    rng = random.Random(1)
    ids = ctx["ids"]
    store.overdue_confirmations(now)  # the start-up sweep (once)
    due = store.overdue_confirmations(now)
    assert len(due) == LIVE_DUE, f"the timer finds the due orders ({len(due)})"
    pending, total, _capped = store.page(
        {"merchant_owner_id": ctx["merchant"], "status": "pending"}, 0, 20, now)
    assert pending and total, "the merchant's pending list"
    return {
        "acceptance timer: find due": timed(lambda: store.overdue_confirmations(now), repeat),
        "GET one order": timed(lambda: store.get(rng.choice(ids)), repeat),
        "merchant's pending list + total": timed(lambda: store.page(
            {"merchant_owner_id": ctx["merchant"], "status": "pending"}, 0, 20, now), repeat),
        "merchant's all orders, page 1 + total": timed(lambda: store.page(
            {"merchant_owner_id": ctx["merchant"]}, 0, 20, now), max(5, repeat // 10)),
        "resident's list, page 1 + total": timed(lambda: store.page(
            {"resident_id": ctx["resident"]}, 0, 20, now), repeat),
        "admin: confirmed, page 1 + total": timed(lambda: store.page(
            {"status": "confirmed"}, 0, 20, now), repeat),
        "admin: delivered, page 1 + total": timed(lambda: store.page(
            {"status": "delivered"}, 0, 20, now), max(5, repeat // 10)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    now = datetime.now(UTC)
    results: dict[int, dict[str, list]] = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            database = open_database("orders", "", tmp)
            try:
                store = OrdersStore(database.db)
                store.ensure_indexes()
                began = time.perf_counter()
                ctx = seed(store, size, now)
                print(f"seeded {size} orders in {time.perf_counter() - began:.1f} s",
                      flush=True)
                results[size] = measure(store, ctx, now, args.repeat)
            finally:
                database.close()
    print_size_table(results)

if __name__ == "__main__":
    main()
