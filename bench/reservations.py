"""Cost of one reservation as open orders pile up on one product, on the embedded store.

    .venv/bin/python -m bench.reservations [--open 0 1000 10000] [--n 300] [--before REF]
    .venv/bin/python -m bench.reservations --lease-ratio [--open 0 1000] [--n 300]

For each number of open orders on one product: sets that many open (reserved, not yet
delivered) orders up, then times ``reservations.reserve_for_order`` for ``--n`` new orders on
the same product, each under its order's lease as the service runs it when the tree has one
(services/common/leases.py: taken and handed back, two store writes), directly on the store,
no broker; the levels take turns so that noise from
the rest of the machine hits them alike) and prints p50/p99 and the ratio to the cost with no
open orders. ("0" grows to ``--n`` open orders during its own measure.)
With ``--before REF`` the same measure also runs on that git commit
(extracted to a temporary directory, run in a child process) and the ratios after/before are
printed, from the same run. With ``--lease-ratio`` each level is timed with and without the
order's lease, taking turns in one process, and the ratio printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
HOME = {"address": "民意街12号", "location": {"lat": 30.5803, "lng": 114.2705}}


def open_orders(store, product: dict, count: int) -> None:
    """``count`` orders holding one piece each, written straight into the store."""
    if not count:
        return
    product_id = product["_id"]
    ids = [f"ord_open{n:08d}" for n in range(count)]
    if "reservations" in product:  # the layout before the counters: a list in the product
        store.products.update_one({"_id": product_id}, {
            "$inc": {"stock": -count},
            "$set": {"reservations": [{"order_id": i, "quantity": 1, "at": NOW}
                                      for i in ids]}})
        held: dict = {}
    else:
        store.products.update_one({"_id": product_id},
                                   {"$inc": {"stock": -count, "reserved": count}})
        held = {product_id: 1}
    store.ledger.insert_many([{"_id": i, "status": "reserved", "held": held,
                               "created_at": NOW} for i in ids])


def measure(levels: list[int], n: int, round_size: int = 10,
            leased: tuple[bool, ...] = (True,)) -> list[dict]:
    """Reservation timings per level (and per ``leased``: under the order's lease or not,
    when the tree has leases). The levels take turns, ``round_size`` reservations at a time,
    so a burst of load from elsewhere on the machine hits every level alike."""
    import contextlib

    from bench.stats import percentile
    from services.catalog import records, reservations
    from services.catalog.store import CatalogStore
    from services.common.events import make_event
    from services.common.geo import TravelModel
    from services.common.store import open_database

    try:
        from services.common.leases import Leases
    except ImportError:  # a tree from before the per-order lease
        Leases = None  # noqa: N806

    model = TravelModel()
    with contextlib.ExitStack() as stack:
        setups = []
        for level, lease in ((lv, ls) for lv in levels for ls in leased):
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            database = open_database("catalog", "", tmp)
            stack.callback(database.close)
            store = CatalogStore(database.db)
            store.ensure_indexes()
            merchant = records.new_merchant("owner", {
                "name": "社区食堂", "business_type": "elderly_care", "address": "民意街1号",
                "location": {"lat": 30.5812, "lng": 114.2698}}, NOW)
            store.insert_merchant(merchant)
            product = records.new_product(merchant, {
                "name": "两荤一素套餐", "sale_mode": "by_piece", "price_fen": 1600,
                "stock": 10 ** 7}, NOW)
            store.insert_product(product)
            open_orders(store, product, level)
            events = [make_event("order_placed", {
                "order_id": f"ord_new{k:08d}", "resident_id": "r", "merchant_id":
                merchant["_id"], "items": [{"product_id": product["_id"], "quantity": 1}],
                "delivery": HOME}, source="orders", correlation_id=f"ord_new{k:08d}")
                for k in range(n + 20)]
            if Leases is None or not lease:
                def handle(event, store=store):
                    reservations.reserve_for_order(store, event, model, NOW)
            else:
                leases = Leases(store.leases, "bench", 5.0, 1.0)

                def handle(event, store=store, leases=leases):
                    with leases.hold(f"order:{event['data']['order_id']}"):
                        reservations.reserve_for_order(store, event, model, NOW)
            for event in events[:20]:  # warm-up: caches and the engine's indexes
                handle(event)
            setups.append((level, lease and Leases is not None, handle, store, product,
                           events[20:], []))
        for start in range(0, n, round_size):
            for _level, _lease, handle, _store, _product, events, timings in setups:
                for event in events[start:start + round_size]:
                    started = time.perf_counter()
                    handle(event)
                    timings.append(time.perf_counter() - started)
        rows = []
        for level, lease, _handle, store, product, _events, timings in setups:
            size = len(json.dumps(store.get_product(product["_id"]), default=str))
            rows.append({"open": level, "lease": lease, "p50_ms": percentile(timings, 50) * 1000,
                         "p99_ms": percentile(timings, 99) * 1000, "product_bytes": size})
    return rows


def print_rows(title: str, rows: list[dict]) -> None:
    base = rows[0]
    print(f"\n{title}")
    print(f"{'open orders':>12}{'p50 ms':>9}{'p99 ms':>9}{'p50 × 0':>9}{'p99 × 0':>9}"
          f"{'product bytes':>15}")
    for r in rows:
        print(f"{r['open']:>12}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
              f"{r['p50_ms'] / base['p50_ms']:>9.2f}{r['p99_ms'] / base['p99_ms']:>9.2f}"
              f"{r['product_bytes']:>15}")


def run_before(ref: str, levels: list[int], n: int) -> list[dict]:
    """The same measure on commit ``ref``: its code, this benchmark."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "services"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        code = ("import json, sys; sys.path.insert(0, sys.argv[1]); "
                "sys.path.insert(1, sys.argv[2]); from bench.reservations import measure; "
                "print(json.dumps(measure(json.loads(sys.argv[3]), int(sys.argv[4]))))")
        out = subprocess.run([sys.executable, "-c", code, tmp, str(ROOT), json.dumps(levels),
                              str(n)], check=True, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": ""}).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, nargs="+", default=[0, 1000, 10000])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--before", default="", help="a git commit to compare with")
    parser.add_argument("--lease-ratio", action="store_true",
                        help="also time each level without the order's lease, taking turns")
    args = parser.parse_args()
    if args.lease_ratio:
        rows = measure(args.open, args.n, leased=(False, True))
        bare, held = rows[0::2], rows[1::2]
        print(f"reserving one piece for each of {args.n} new orders, without / under the "
              "order's lease (taking turns)")
        print(f"{'open orders':>12}{'p50 ms':>16}{'p99 ms':>16}{'p50 ×':>8}{'p99 ×':>8}")
        for b, h in zip(bare, held, strict=True):
            print(f"{b['open']:>12}{b['p50_ms']:>8.2f}{h['p50_ms']:>8.2f}"
                  f"{b['p99_ms']:>8.2f}{h['p99_ms']:>8.2f}"
                  f"{h['p50_ms'] / b['p50_ms']:>8.2f}{h['p99_ms'] / b['p99_ms']:>8.2f}")
        return
    after = measure(args.open, args.n)
    print(f"reserving one piece for each of {args.n} new orders on one product")
    print_rows("this tree", after)
    if args.before:
        try:
            before = run_before(args.before, args.open, args.n)
        except subprocess.CalledProcessError as exc:
            print(f"\n(no comparison: running {args.before} failed: {exc.stderr[-300:]!r})")
            return
        print_rows(f"before ({args.before})", before)
        print(f"\n{'open orders':>12}{'p50 after/before':>18}{'p99 after/before':>18}")
        for a, b in zip(after, before, strict=True):
            print(f"{a['open']:>12}{a['p50_ms'] / b['p50_ms']:>18.3f}"
                  f"{a['p99_ms'] / b['p99_ms']:>18.3f}")


if __name__ == "__main__":
    main()
