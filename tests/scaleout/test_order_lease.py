"""Two catalog replicas (real containers, one shared database, real RabbitMQ) given the same
orders' events at the same moment: each order placed twice and cancelled twice, the copies
split between the replicas. Each order is handled by one replica at a time (the lease), so
the books balance: nothing reserved for a cancelled order, another order's reservation
untouched, no mark left.
tests/unit/catalog/test_order_lease.py shows the same interleavings break them without it."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import eventlet
import pytest
from eventlet.event import Event
from nameko.extensions import Entrypoint
from nameko.testing.utils import get_extension

from services.catalog import reservations
from services.catalog.service import CatalogService
from services.common.leases import LeaseBusy
from tests.scaleout.replicas import Replicas, extension, one_database_per_service
from tests.unit.catalog.test_reservations import MODEL, ended, placed, shop

pytestmark = pytest.mark.scaleout

ORDERS, STOCK, QUANTITY, KEPT = 12, 100, 2, 3


@pytest.fixture
def catalog(container_factory, service_config, monkeypatch):
    with one_database_per_service(monkeypatch):
        replicas = Replicas(container_factory, CatalogService, service_config)
        replicas.start()
        yield replicas


def handle(container, method, event):
    """Run one handler in the container, as its queue consumer would (entrypoint_hook's
    waiters cannot be used by many calls of one entrypoint at once)."""
    entrypoint = get_extension(container, Entrypoint, method_name=method)
    done = Event()

    def handle_result(worker_ctx, result, exc_info):
        done.send(exc_info)
        return result, exc_info

    container.spawn_worker(entrypoint, (event,), {}, handle_result=handle_result)
    exc_info = done.wait()
    if exc_info is not None:
        raise exc_info[1]


def deliver(replicas, i, method, event):
    """As the broker does: an event told "busy" comes back a little later."""
    while True:
        try:
            return handle(replicas.containers[i], method, event)
        except LeaseBusy:
            eventlet.sleep(0.05)


def test_one_orders_events_on_two_replicas_at_once_keep_the_books(catalog):
    holders = {extension(c, "leases").leases.holder for c in catalog.containers}
    assert len(holders) == 2  # one holder per container
    store = catalog.store(0)
    merchant, goods = shop(store, stock=STOCK, products=2)
    # An order that stays reserved: a release done twice would take its stock back.
    reservations.reserve_for_order(store, placed("ord_kept", merchant, goods, KEPT), MODEL,
                                   datetime.now(UTC))
    threads = []
    for n in range(ORDERS):
        order = placed(f"ord_{n:032d}", merchant, goods, QUANTITY)
        cancel = ended("order_cancelled", order)
        copies = [(0, "on_order_placed", order), (1, "on_order_placed", order),
                  (1, "on_order_cancelled", cancel), (0, "on_order_cancelled", cancel)]
        random.Random(n).shuffle(copies)  # in every order of arrival
        for i, method, event in copies:
            threads.append(eventlet.spawn(deliver, catalog, i, method, event))
    for thread in threads:
        thread.wait()  # raises what a handler raised (other than "busy")
    assert all(n >= ORDERS for n in catalog.share("on_order_placed"))  # (and retries)
    for product in goods:
        doc = store.get_product(product["_id"])
        assert (doc["stock"], doc["reserved"], doc["sold"], doc["inflight"]) == (
            STOCK - KEPT, KEPT, 0, [])
    assert store.ledger_entry("ord_kept")["held"] == {p["_id"]: KEPT for p in goods}
    for n in range(ORDERS):
        entry = store.ledger_entry(f"ord_{n:032d}")
        assert entry["status"] == "released" and not entry.get("held")
    assert store.leases.count_documents({}) == 0
