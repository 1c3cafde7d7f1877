"""Each service's store on a real MongoDB (replica set): indexes for every query are created at
start-up, writes wait for a majority, and the guarded writes hold under concurrent callers."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from services.catalog.store import CatalogStore
from services.common import outbox
from services.common.leases import Leases
from services.dispatch.store import DispatchStore
from services.notify.store import NotifyStore
from services.orders.store import OrdersStore


def index_keys(collection) -> set[tuple]:
    return {tuple(spec["key"]) for spec in collection.index_information().values()}


def test_every_store_creates_its_indexes_at_start_up(open_store):
    orders = open_store(OrdersStore, "orders")
    assert (("status", 1), ("accept_by", 1)) in index_keys(orders.orders)
    assert (("resident_id", 1), ("created_at", -1)) in index_keys(orders.orders)
    assert ((outbox.PENDING, 1),) in index_keys(orders.orders)
    dispatch = open_store(DispatchStore, "dispatch", cache=False)
    assert (("arrived_at", 1),) in index_keys(dispatch.repairs)
    assert (("status", 1), ("requested_at", -1)) in index_keys(dispatch.repairs)
    catalog = open_store(CatalogStore, "catalog")
    assert (("h3_cell", 1),) in index_keys(catalog.merchants)
    notify = open_store(NotifyStore, "notify")
    assert (("status", 1), ("next_attempt_at", 1)) in index_keys(notify.deliveries)


def test_writes_are_acknowledged_by_a_majority(open_store):
    orders = open_store(OrdersStore, "orders")
    concern = orders.orders.write_concern.document
    assert concern["w"] == "majority" and concern["j"] is True


def order(key: str) -> dict:
    now = datetime.now(UTC)
    return {"_id": f"ord_{uuid.uuid4().hex}", "idempotency_key": key, "status": "confirmed",
            "resident_id": "r1", "merchant_owner_id": "m1", "created_at": now,
            "accept_by": now + timedelta(minutes=10), "history": []}


def test_an_idempotency_key_makes_one_order_and_one_guarded_move_wins(open_store):
    orders = open_store(OrdersStore, "orders")
    first = order("key-1")
    assert orders.insert_new(first, []) is not None
    assert orders.insert_new(order("key-1"), []) is None

    winners = []

    def accept():
        moved = orders.move(first["_id"], {"confirmed"}, {"status": "accepted"},
                            {"status": "accepted"}, [])
        if moved is not None:
            winners.append(moved)

    threads = [threading.Thread(target=accept) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert orders.count_with_status("accepted") == 1


def test_the_outbox_relay_finds_what_a_crash_left_and_publishes_it_once(open_store):
    orders = open_store(OrdersStore, "orders")
    doc = order("key-2")
    event = {"id": "evt_1", "type": "order_placed",
             "occurred_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}
    orders.insert_new(doc, [event])
    published = []
    assert outbox.relay(orders.outbox_collections(), published.append, datetime.now(UTC)) == 1
    assert outbox.relay(orders.outbox_collections(), published.append, datetime.now(UTC)) == 0
    assert [e["id"] for e in published] == ["evt_1"]


def test_of_many_replicas_taking_one_orders_lease_at_once_one_gets_it(open_store):
    catalog = open_store(CatalogStore, "catalog")
    replicas = [Leases(catalog.leases, f"replica-{n}", 5.0, 0.0) for n in range(8)]
    got = []

    def take(leases):
        if leases.take("order:1"):
            got.append(leases.holder)

    threads = [threading.Thread(target=take, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 1
    assert catalog.leases.find_one({"_id": "order:1"})["holder"] == got[0]
    # A lapsed lease goes to the next taker; the old holder's release leaves it alone.
    catalog.leases.update_one({"_id": "order:1"},
                              {"$set": {"until": datetime.now(UTC) - timedelta(seconds=1)}})
    other = next(r for r in replicas if r.holder != got[0])
    assert other.take("order:1")
    replicas[int(got[0].rsplit("-", 1)[1])].release("order:1")
    assert catalog.leases.find_one({"_id": "order:1"})["holder"] == other.holder
