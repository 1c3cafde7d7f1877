"""A synthetic city for scale tests: N merchants in neighbourhood clusters around Wuhan.

    python -m services.catalog.seed_city --merchants 100000 [--data-dir data-city]
    make seed-city N=100000

Shape: merchants gather in neighbourhoods (a few hundred shops each, spread ~400 m around the
neighbourhood centre, like the shops around a residential compound and its wet market).
Neighbourhood centres sit on a jittered grid spiralling out from central Wuhan, ~1.6 km apart,
so a bigger N means a *bigger* city, not a denser one: the shops within a walk of a resident are
about as many at 1k as at 100k merchants, which is what a real city looks like.  Each
neighbourhood lacks a few business types at random, so coverage maps show gaps.

Writes straight into the catalog's store (the same documents the service writes, built with
services.catalog.records), which is ~50x faster than the HTTP API.  The embedded store is locked
to one process: stop the catalog service (or the whole system) while seeding.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.catalog import records, taxonomy
from services.catalog.schemas import ProductCreateSchema
from services.catalog.store import CatalogStore
from services.common.config import setting
from services.common.geo import destination
from services.common.store import StoreLockedError, open_database

WUHAN = (30.5801, 114.2701)
NEIGHBOURHOOD_SPACING_M = 1600.0
NEIGHBOURHOOD_SPREAD_M = 400.0
MEAN_NEIGHBOURHOOD_SIZE = 300
MISSING_TYPES_PER_NEIGHBOURHOOD = 3

# How common each type is among a neighbourhood's shops (relative weights).
TYPE_WEIGHTS: dict[str, float] = {
    "convenience_store": 10, "supermarket": 3, "wet_market": 1, "fresh_produce": 6,
    "breakfast": 6, "laundry": 2, "hair_beauty": 6, "photo_print": 2, "housekeeping": 2,
    "repair_point": 3, "pharmacy": 4, "postal_express": 3, "recycling": 1,
}
DEFAULT_WEIGHT = 2.0  # quality-improvement types: dining, fitness, books, ...

EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_TEMPLATES: list[dict[str, Any] | None] = [
    {d: [["07:00", "22:00"]] for d in EVERY_DAY},
    {d: [["00:00", "24:00"]] for d in EVERY_DAY},
    {d: [["06:00", "10:30"]] for d in EVERY_DAY},  # breakfast
    {d: [["09:00", "21:00"]] for d in EVERY_DAY[:6]},  # closed on Sundays
    {d: [["10:30", "14:00"], ["17:00", "02:00"]] for d in EVERY_DAY},  # late-night dining
    None,  # no hours given
]

PRODUCTS: list[dict[str, Any]] = [
    {"name": "鸡蛋 10枚", "unit": "盒", "price_fen": 1290, "stock": 50},
    {"name": "土鸡蛋", "sale_mode": "by_weight", "price_per": "500g", "unit": "斤",
     "price_fen": 1200, "stock": 20000, "origin": {"place": "湖北恩施"}},
    {"name": "农夫山泉 550ml", "unit": "瓶", "price_fen": 200, "stock": 200},
    {"name": "挂面 1kg", "unit": "袋", "price_fen": 850, "stock": 40},
    {"name": "本地上海青", "sale_mode": "by_weight", "price_per": "500g", "unit": "斤",
     "price_fen": 300, "stock": 30000},
    {"name": "洪湖莲藕", "sale_mode": "by_weight", "price_per": "kg", "unit": "公斤",
     "price_fen": 980, "stock": 30000, "origin": {"place": "湖北洪湖"}},
    {"name": "热干面", "unit": "份", "price_fen": 600, "stock": 100},
    {"name": "医用外科口罩 10只", "unit": "包", "price_fen": 990, "stock": 80},
    {"name": "五常大米 5kg", "unit": "袋", "price_fen": 4990, "stock": 30},
    {"name": "鸡胸肉", "sale_mode": "by_weight", "price_per": "500g", "unit": "斤",
     "price_fen": 1500, "stock": 10000},
]
# Normalised once through the API's own schema, so seeded goods look like created ones.
PRODUCT_DATA = [ProductCreateSchema().load(p) for p in PRODUCTS]


def neighbourhood_centres(count: int, rng: random.Random) -> list[tuple[float, float]]:
    """Jittered grid points spiralling out from central Wuhan, nearest first."""
    side = math.ceil(math.sqrt(count)) + 2
    half = side // 2
    spots = sorted(((i, j) for i in range(-half, half + 1) for j in range(-half, half + 1)),
                   key=lambda ij: (ij[0] ** 2 + ij[1] ** 2, ij))
    centres = []
    for i, j in spots[:count]:
        lat, lng = destination(*WUHAN, 0.0, j * NEIGHBOURHOOD_SPACING_M)
        lat, lng = destination(lat, lng, 90.0, i * NEIGHBOURHOOD_SPACING_M)
        jitter = rng.uniform(0, NEIGHBOURHOOD_SPACING_M * 0.25)
        centres.append(destination(lat, lng, rng.uniform(0, 360), jitter))
    return centres


def _shop(i: int, centre: tuple[float, float], codes: list[str], weights: list[float],
          rng: random.Random) -> dict[str, Any]:
    # Gaussian spread, clipped, so a neighbourhood has a dense core and a thinning edge.
    dist = min(abs(rng.gauss(0, NEIGHBOURHOOD_SPREAD_M)), 3 * NEIGHBOURHOOD_SPREAD_M)
    lat, lng = destination(*centre, rng.uniform(0, 360), dist)
    code = rng.choices(codes, weights)[0]
    secondary = rng.sample(codes, 1) if rng.random() < 0.15 else []
    hours = rng.choice(HOURS_TEMPLATES[2:3] if code == "breakfast" else HOURS_TEMPLATES)
    return {
        "name": f"{taxonomy.BY_CODE[code]['name_zh']}·{i}号",
        "business_type": code,
        "secondary_types": [s for s in secondary if s != code],
        "location": {"lat": round(lat, 6), "lng": round(lng, 6)},
        "address": f"武汉市模拟街区{i // MEAN_NEIGHBOURHOOD_SIZE}号片区{i}号",
        "phone": None,
        "opening_hours": hours,
        "delivery": None,
    }


def generate(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Merchant payloads (as MerchantCreateSchema would accept them), deterministic per seed."""
    rng = random.Random(seed)
    count = max(1, round(n / MEAN_NEIGHBOURHOOD_SIZE))
    centres = neighbourhood_centres(count, rng)
    all_codes = [t["code"] for t in taxonomy.BUSINESS_TYPES]
    plans = []
    for centre in centres:
        absent = set(rng.sample(all_codes, MISSING_TYPES_PER_NEIGHBOURHOOD))
        codes = [c for c in all_codes if c not in absent]
        plans.append((centre, codes, [TYPE_WEIGHTS.get(c, DEFAULT_WEIGHT) for c in codes]))
    for i in range(n):
        centre, codes, weights = plans[i % len(plans)]
        yield _shop(i, centre, codes, weights, rng)


def _progress(done: int, total: int, started: float) -> None:
    width = 30
    filled = width * done // max(total, 1)
    rate = done / max(time.perf_counter() - started, 1e-9)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                     f"merchants  {rate:,.0f}/s ")
    sys.stderr.flush()


def seed(store: CatalogStore, n: int, products_per_merchant: int = 2, seed_: int = 7,
         batch: int = 1000, progress: bool = True) -> dict[str, int]:
    """Insert n merchants (and some goods each) into the store."""
    now = datetime.now(UTC)
    rng = random.Random(seed_ + 1)
    started = time.perf_counter()
    merchants: list[dict[str, Any]] = []
    products: list[dict[str, Any]] = []
    made = {"merchants": 0, "products": 0}

    def flush() -> None:
        if merchants:
            store.merchants.insert_many(merchants)
        if products:
            store.products.insert_many(products)
        made["merchants"] += len(merchants)
        made["products"] += len(products)
        merchants.clear()
        products.clear()
        if progress:
            _progress(made["merchants"], n, started)

    for i, shop in enumerate(generate(n, seed_)):
        doc = records.new_merchant(f"city-merchant-{i}", shop, now)
        merchants.append(doc)
        for item in rng.sample(PRODUCT_DATA, min(products_per_merchant, len(PRODUCT_DATA))):
            products.append(records.new_product(doc, item, now))
        if len(merchants) >= batch:
            flush()
    flush()
    if progress:
        sys.stderr.write("\n")
    return made


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--merchants", "-n", type=int, default=100_000)
    parser.add_argument("--products-per-merchant", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", default=setting(None, "DATA_DIR"),
                        help="data directory (default: LIFECIRCLE_DATA_DIR or ./data)")
    args = parser.parse_args(argv)
    if args.merchants < 1:
        parser.error("--merchants must be at least 1")
    try:
        database = open_database("catalog", setting(None, "MONGO_URL"), args.data_dir,
                                 setting(None, "MONGO_DB_PREFIX"))
    except StoreLockedError as exc:
        sys.exit(f"error: {exc}")
    try:
        store = CatalogStore(database.db)
        store.ensure_indexes()
        started = time.perf_counter()
        made = seed(store, args.merchants, args.products_per_merchant, args.seed)
        took = time.perf_counter() - started
    finally:
        database.close()
    print(f"seeded {made['merchants']} merchants and {made['products']} products into "
          f"{Path(args.data_dir).absolute() / 'catalog'} in {took:.1f}s")


if __name__ == "__main__":
    main()
