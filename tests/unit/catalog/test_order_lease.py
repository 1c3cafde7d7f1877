"""Two catalog replicas handling one order's events at the same moment, sharing one store.

The catalog's real event handlers (CatalogService, each replica its own instance, store object
and lease holder) run in green threads over one embedded database whose every call first
yields to the others a seeded random number of times, as replicas on one MongoDB interleave
between round trips. One order is placed and cancelled (or delivered), each event delivered
twice (a relay's republish, a broker's redelivery), in a seeded random order. A handler told
the order is busy is delivered again a moment later, as the broker does. Checked: the books
balance (stock + reserved + sold, reserved = what the ledgers hold), the cancel or delivery
wins, no mark is left, and another order's reservation on the same goods is untouched.

Likewise a scale's post sent to both replicas at once: sold once, one receipt, not recorded
as short.

The "without the lease" tests run the same with only an in-process lock per replica (before
the lease) and find the books broken: the harness can see what the lease prevents.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import eventlet
import pytest
from nameko.testing.services import worker_factory

from services.catalog import reservations
from services.catalog.service import CatalogService
from services.catalog.store import CatalogStore
from services.common.clock import Clock
from services.common.errors import Conflict
from services.common.keyed_locks import KeyedLocks
from services.common.leases import Leases
from services.common.messaging import Deferred
from services.common.store import open_database
from tests.unit.catalog.test_reservations import MODEL, NOW, ended, placed, shop

STOCK, OTHERS, QUANTITY = 10, 3, 2
SEEDS = range(12)


class ShuffledCollection:
    """A collection whose every call first lets the other green threads run, 0-3 times."""

    def __init__(self, collection: Any, rng: random.Random):
        self._collection, self._rng = collection, rng

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            for _ in range(self._rng.randint(0, 3)):
                eventlet.sleep(0)
            return attr(*args, **kwargs)

        return call


class ShuffledDatabase:
    def __init__(self, db: Any, rng: random.Random):
        self._db, self._rng = db, rng

    def __getitem__(self, name: str) -> ShuffledCollection:
        return ShuffledCollection(self._db[name], self._rng)


class LocksOnly:
    """Before the lease: one lock per order inside each replica, nothing across replicas."""

    def __init__(self) -> None:
        self.locks = KeyedLocks()

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self.locks.hold(key):
            yield


def replicas(db: Any, rng: random.Random, lease: bool) -> list[Any]:
    shared = ShuffledDatabase(db, rng)
    out = []
    for n in range(2):
        store = CatalogStore(shared)
        guard = Leases(store.leases, f"replica-{n}", 5.0, 1.0) if lease else LocksOnly()
        out.append(worker_factory(CatalogService, store=store, leases=guard, config={},
                                  clock=Clock()))
    return out


def deliver(handler: Any, event: dict) -> None:
    """As the broker does: a deferred event comes back a little later."""
    while True:
        try:
            return handler(event)
        except Deferred:
            eventlet.sleep(0.01)


def run_scenario(tmp_path: Any, seed: int, then: str, lease: bool) -> list[str]:
    """Returns what is wrong with the books afterwards (nothing: [])."""
    rng = random.Random(seed)
    database = open_database(f"catalog-{then}-{seed}-{lease}", "", str(tmp_path))
    try:
        plain = CatalogStore(database.db)
        plain.ensure_indexes()
        merchant, goods = shop(plain, stock=STOCK, products=2)
        reservations.reserve_for_order(plain, placed("ord_other", merchant, goods, OTHERS),
                                       MODEL, NOW)
        order = placed("ord_1", merchant, goods, QUANTITY)
        kind = {"cancel": "order_cancelled", "deliver": "order_delivered"}[then]
        end = ended(kind, order)
        if then == "deliver":  # an order is delivered only once it was reserved
            reservations.reserve_for_order(plain, order, MODEL, NOW)
        services = replicas(database.db, rng, lease)
        handler = {"order_cancelled": "on_order_cancelled",
                   "order_delivered": "on_order_delivered"}[kind]
        jobs = [(getattr(s, name), event) for s in services
                for name, event in (("on_order_placed", order), (handler, end))]
        rng.shuffle(jobs)
        pool = eventlet.GreenPool()
        for job in jobs:
            pool.spawn(deliver, *job)
        pool.waitall()
        return broken_books(plain, goods, then)
    finally:
        database.close()


def broken_books(store: CatalogStore, goods: list[dict], then: str) -> list[str]:
    wrong = []
    sold = QUANTITY if then == "deliver" else 0
    held: dict[str, int] = {}
    for entry in store.ledger.find({}):
        for product_id, quantity in (entry.get("held") or {}).items():
            held[product_id] = held.get(product_id, 0) + quantity
    for product in goods:
        doc = store.get_product(product["_id"])
        counts = (doc["stock"], doc["reserved"], doc["sold"])
        if sum(counts) != STOCK:
            wrong.append(f"{product['_id']}: stock + reserved + sold = {sum(counts)}")
        if counts != (STOCK - OTHERS - sold, OTHERS, sold):
            wrong.append(f"{product['_id']}: stock, reserved, sold = {counts}")
        if doc["reserved"] != held.get(product["_id"], 0):
            wrong.append(f"{product['_id']}: reserved {doc['reserved']}, ledgers hold "
                         f"{held.get(product['_id'], 0)}")
        if doc["inflight"]:
            wrong.append(f"{product['_id']}: marks left {doc['inflight']}")
    entry = store.ledger_entry("ord_1")
    final = {"cancel": "released", "deliver": "sold"}[then]
    if entry["status"] != final or entry.get("held"):
        wrong.append(f"ord_1: {entry['status']}, holding {entry.get('held')}")
    other = store.ledger_entry("ord_other")
    if other["held"] != {p["_id"]: OTHERS for p in goods}:
        wrong.append(f"ord_other now holds {other['held']}")
    return wrong


@pytest.mark.parametrize("then", ["cancel", "deliver"])
def test_two_replicas_on_one_order_at_once_keep_the_books(tmp_path, then):
    for seed in SEEDS:
        assert run_scenario(tmp_path, seed, then, lease=True) == [], f"seed {seed}"


def test_without_the_lease_two_replicas_on_one_order_break_the_books(tmp_path):
    for then in ("cancel", "deliver"):
        assert any(run_scenario(tmp_path, seed, then, lease=False) for seed in SEEDS), \
            f"({then}) no interleaving broke the unguarded protocol: the test would be blind"


# A scale's post, sent twice at once (its retry racing the first) to the two replicas.

OWNER = {"sub": "stall-owner", "role": "merchant"}
SHELF_G, GRAMS = 5_000, 750


def run_weighing(tmp_path: Any, seed: int, lease: bool) -> list[str]:
    rng = random.Random(seed)
    database = open_database(f"catalog-scale-{seed}-{lease}", "", str(tmp_path))
    try:
        plain = CatalogStore(database.db)
        plain.ensure_indexes()
        services = replicas(database.db, rng, lease)
        stall = services[0].create_merchant(actor=OWNER, merchant={
            "name": "张记蔬菜", "business_type": "wet_market", "address": "新湾菜场12号摊",
            "location": {"lat": 30.5806, "lng": 114.2712}})
        greens = services[0].create_product(actor=OWNER, merchant_id=stall["id"], product={
            "name": "上海青", "sale_mode": "by_weight", "price_per": "500g", "unit": "斤",
            "price_fen": 598, "stock": SHELF_G})
        scale = services[0].register_device(actor=OWNER, merchant_id=stall["id"],
                                            device={"kind": "scale", "name": "12号摊电子秤"})
        post = {"sequence": "seq-000042", "product_id": greens["id"], "grams": GRAMS,
                "unit_price_fen": 598, "total_fen": 897, "weighed_at": NOW.isoformat()}

        def weigh(service: Any) -> dict:
            while True:
                try:
                    return service.record_weighing(device_token=scale["token"], weighing=post)
                except Conflict as exc:  # in progress: the scale posts it again
                    assert exc.error_code == "in_progress"
                    eventlet.sleep(0.01)

        pool = eventlet.GreenPool()
        receipts = list(pool.imap(weigh, rng.sample(services, 2)))
        wrong = []
        if receipts[0]["code"] != receipts[1]["code"]:
            wrong.append("two receipts for one weighing")
        doc = plain.get_product(greens["id"])
        counts = (doc["stock"], doc["sold"], doc["inflight"])
        if counts != (SHELF_G - GRAMS, GRAMS, []):
            wrong.append(f"stock, sold, marks = {counts}")
        kinds = [m["kind"] for m in plain.weighings.find_one({})["mismatches"]]
        if "stock_short" in kinds:  # (no_batch: the post names none, rightly flagged)
            wrong.append("recorded as short though the shelf had it")
        return wrong
    finally:
        database.close()


def test_one_scale_post_on_two_replicas_at_once_is_sold_once(tmp_path):
    for seed in SEEDS:
        assert run_weighing(tmp_path, seed, lease=True) == [], f"seed {seed}"


def test_without_the_lease_one_scale_post_on_two_replicas_can_be_recorded_wrong(tmp_path):
    assert any(run_weighing(tmp_path, seed, lease=False) for seed in SEEDS), \
        "no interleaving broke the unguarded post: the test would be blind"
