"""An order whose lease another catalog replica holds, on real RabbitMQ and the embedded store:
the event waits (deferred through the retry queue, not counted as a failed try) and is handled
once the lease is handed back or lapses; a holder that never lets go ends in dead letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from nameko.standalone.events import event_dispatcher
from prometheus_client import REGISTRY

from services.catalog.service import CatalogService
from services.common import deadletters, messaging
from tests.helpers import wait_for
from tests.scaleout.replicas import extension
from tests.unit.catalog.test_reservations import placed, shop


@pytest.fixture
def catalog(container_factory, service_config):
    config = {**service_config, "CATALOG_LEASE_WAIT_SECONDS": 0.1}
    container = container_factory(CatalogService, config)
    container.start()
    return container, config


def deferred_so_far() -> float:
    return REGISTRY.get_sample_value("lifecircle_events_total", {
        "service": "catalog", "event_type": "order_placed", "outcome": "deferred"}) or 0.0


def dead(uri: str, event_id: str) -> list[dict]:
    return [d for d in deadletters.list_dead_letters(uri) if d["event_id"] == event_id]


def order_held_by_a_dead_replica(container, order_id, until):
    store = extension(container, "store").store
    merchant, (meal,) = shop(store, stock=5)
    store.leases.insert_one({"_id": f"order:{order_id}", "holder": "killed-replica",
                             "until": until})
    return store, meal, placed(order_id, merchant, [meal], 2)


def test_a_dead_replicas_lease_lapses_and_the_order_is_then_reserved(catalog):
    container, config = catalog
    until = datetime.now(UTC) + timedelta(seconds=1.5)
    store, meal, event = order_held_by_a_dead_replica(container, "ord_" + "a" * 32, until)
    event_dispatcher(config)("orders", "order_placed", event)
    entry = wait_for(lambda: store.ledger_entry(event["data"]["order_id"]), timeout=20,
                     what="the order to be handled")
    assert entry["status"] == "reserved"
    # Not before the dead holder's lease lapsed (the store keeps milliseconds).
    assert entry["created_at"] >= until.replace(microsecond=until.microsecond // 1000 * 1000)
    product = store.get_product(meal["_id"])
    assert (product["stock"], product["reserved"], product["inflight"]) == (3, 2, [])
    assert store.leases.count_documents({}) == 0  # the new holder handed it back
    assert dead(config["AMQP_URI"], event["id"]) == []


def test_waiting_for_another_replica_does_not_use_up_the_tries(catalog):
    container, config = catalog
    far = datetime.now(UTC) + timedelta(hours=1)
    store, _meal, event = order_held_by_a_dead_replica(container, "ord_" + "b" * 32, far)
    before = deferred_so_far()
    event_dispatcher(config)("orders", "order_placed", event)
    # More deferrals than a failing handler would get tries.
    wait_for(lambda: deferred_so_far() - before > config["EVENT_MAX_ATTEMPTS"], timeout=20,
             what="the event to be deferred again and again")
    assert store.ledger_entry(event["data"]["order_id"]) is None
    assert dead(config["AMQP_URI"], event["id"]) == []
    # The holder lets go: the next delivery handles it.
    store.leases.delete_one({"_id": f"order:{event['data']['order_id']}"})
    entry = wait_for(lambda: store.ledger_entry(event["data"]["order_id"]), timeout=20,
                     what="the order to be handled")
    assert entry["status"] == "reserved"


def test_a_holder_that_never_lets_go_sends_the_event_to_dead_letters(catalog, monkeypatch):
    container, config = catalog
    monkeypatch.setattr(messaging, "MAX_DEFERRALS", 2)
    far = datetime.now(UTC) + timedelta(hours=1)
    store, _meal, event = order_held_by_a_dead_replica(container, "ord_" + "c" * 32, far)
    event_dispatcher(config)("orders", "order_placed", event)
    letter = wait_for(lambda: dead(config["AMQP_URI"], event["id"]), timeout=20,
                      what="a dead letter")[0]
    assert "LeaseBusy" in letter["error"]
    assert letter["attempts"] == 0  # deferred, never failed
    assert store.ledger_entry(event["data"]["order_id"]) is None
