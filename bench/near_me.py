"""Near-me queries in synthetic cities of 1k, 10k and 100k merchants.

    .venv/bin/python -m bench.near_me [--sizes 1000,10000,100000] [--queries 1000] [--http]

For each size: seeds a city once (services.catalog.seed_city, kept under --data-root so later
runs reuse it), opens the catalog store on it and calls the near-me functions directly, as the
service does (no RPC, no HTTP):
- warm-up: opening the store, including litemongo's in-memory hash-index build over the whole
  collections (the catalog does it at start-up, see CatalogStore.ensure_indexes), reported as
  a time, not as a latency;
- "cold": queries at fresh points, whose H3 cells are loaded from the store for the first time;
- "warm": the same points again (cells in the near-me read model), the steady state;
- products near me (q=鸡蛋): always through the store's indexed query.
Points are residents' homes: near a random neighbourhood centre, like the shops.

With --http, also starts the whole system (services.launcher, own vhost, spare port) on each
city's data and runs GET /api/v1/merchants from --clients concurrent clients.
Prints rates and p50/p99; ratios are against the smallest city measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.stats import print_table, summary
from services.catalog import near, seed_city
from services.catalog.store import CatalogStore
from services.common.broker import temporary_vhost
from services.common.config import setting
from services.common.geo import TravelModel, destination
from services.common.store import open_database
from services.launcher import start_private

TZ = "Asia/Shanghai"


def resident_points(n_merchants: int, count: int, seed: int = 11) -> list[tuple[float, float]]:
    centres = seed_city.neighbourhood_centres(
        max(1, round(n_merchants / seed_city.MEAN_NEIGHBOURHOOD_SIZE)), random.Random(7))
    rng = random.Random(seed)
    return [destination(*rng.choice(centres), rng.uniform(0, 360),
                        abs(rng.gauss(0, seed_city.NEIGHBOURHOOD_SPREAD_M)))
            for _ in range(count)]


def city_dir(root: Path, n: int) -> Path:
    """A seeded city of n merchants (seeded now unless an earlier run left one)."""
    path = root / f"city-{n}"
    marker = path / "seeded"
    if not marker.exists():
        database = open_database("catalog", "", str(path))
        try:
            store = CatalogStore(database.db)
            store.ensure_indexes()
            print(f"seeding {n} merchants into {path} ...", flush=True)
            seed_city.seed(store, n)
        finally:
            database.close()
        marker.write_text("ok\n")
    return path


def timed(name: str, calls) -> dict:
    latencies = []
    started = time.perf_counter()
    for call in calls:
        t = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - t)
    return summary(name, latencies, time.perf_counter() - started)


def in_service(n: int, path: Path, queries: int, model: TravelModel) -> tuple[list, dict]:
    database = open_database("catalog", "", str(path))
    rows = []
    try:
        t = time.perf_counter()
        store = CatalogStore(database.db)
        store.ensure_indexes()  # includes building litemongo's in-memory indexes
        warmup = {"store_open_and_index_build_s": round(time.perf_counter() - t, 2)}
        points = resident_points(n, queries)
        now = datetime.now(UTC)

        def merchants(lat, lng, **extra):
            args = {"lat": lat, "lng": lng, "walk_minutes": 15, "page": 1, "page_size": 20,
                    "business_type": None, "open_now": False, "q": None, **extra}
            return near.near_merchants(store, args, model, now, TZ)

        t = time.perf_counter()
        first = merchants(*points[0])
        warmup["first_query_ms"] = round((time.perf_counter() - t) * 1000, 1)
        warmup["merchants_in_walk_first_point"] = first["total"]
        totals = []
        rows.append(timed(f"{n:>6} service near-me, cold cells",
                          (lambda p=p: totals.append(merchants(*p)["total"])
                           for p in points)))
        warmup["mean_merchants_in_walk"] = round(sum(totals) / len(totals))
        cpu = time.process_time()
        rows.append(timed(f"{n:>6} service near-me, warm",
                          (lambda p=p: merchants(*p) for p in points)))
        # CPU time is what the query costs; wall-clock percentiles also show a busy machine.
        warmup["warm_cpu_ms_per_query"] = round((time.process_time() - cpu) * 1000 / queries, 2)
        rows.append(timed(f"{n:>6} service near-me open_now+type, warm",
                          (lambda p=p: merchants(*p, open_now=True, business_type="breakfast")
                           for p in points)))
        product_args = {"walk_minutes": 15, "q": "鸡蛋", "page": 1, "page_size": 20}
        rows.append(timed(f"{n:>6} service products q=鸡蛋",
                          (lambda p=p: near.near_products(
                              store, {"lat": p[0], "lng": p[1], **product_args}, model)
                           for p in points[: max(1, queries // 2)])))
    finally:
        database.close()
    return rows, warmup


def over_http(n: int, path: Path, queries: int, clients: int, amqp_uri: str) -> list:
    system = start_private(amqp_uri, path)
    try:
        base = system.base_url
        token = requests.post(f"{base}/api/v1/auth/dev-token",
                              json={"sub": "bench-resident", "role": "resident"},
                              timeout=10).json()["access_token"]
        points = resident_points(n, queries, seed=23)
        headers = {"Authorization": f"Bearer {token}"}

        def get(session, p):
            r = session.get(f"{base}/api/v1/merchants", headers=headers, timeout=30,
                            params={"lat": p[0], "lng": p[1], "walk_minutes": 15})
            assert r.status_code == 200, r.text

        warm = requests.Session()
        t = time.perf_counter()
        for p in points:  # warm-up pass: index build and cell loads in the service
            get(warm, p)
        warm_s = time.perf_counter() - t
        latencies: list[float] = []
        lock = threading.Lock()

        def run(mine):
            session = requests.Session()
            out = []
            for p in mine:
                t0 = time.perf_counter()
                get(session, p)
                out.append(time.perf_counter() - t0)
            with lock:
                latencies.extend(out)

        threads = [threading.Thread(target=run, args=(points[i::clients],))
                   for i in range(clients)]
        started = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        row = summary(f"{n:>6} HTTP GET /merchants, {clients} clients", latencies,
                      time.perf_counter() - started)
        print(f"  {n}: HTTP warm-up pass of {len(points)} queries took {warm_s:.1f}s")
        return [row]
    finally:
        system.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description="near-me query benchmark")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--http", action="store_true", help="also measure through HTTP")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--data-root", default=os.environ.get("BENCH_DATA_ROOT",
                                                              "/tmp/lifecircle-bench"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    root = Path(args.data_root).absolute()
    model = TravelModel(setting(None, "WALK_SPEED_M_PER_MIN"), setting(None, "WALK_DETOUR_FACTOR"))
    rows: list[dict] = []
    for n in sizes:
        path = city_dir(root, n)
        service_rows, warmup = in_service(n, path, args.queries, model)
        rows.extend(service_rows)
        print(f"  {n}: warm-up {warmup}", flush=True)
    if args.http:
        with temporary_vhost(setting(None, "AMQP_URI"),
                             f"lifecircle-bench-{os.getpid()}") as uri:
            for n in sizes:
                rows.extend(over_http(n, root / f"city-{n}", args.queries, args.clients, uri))
    print()
    print_table(rows, baseline=f"{sizes[0]:>6} service near-me, warm")


if __name__ == "__main__":
    main()
