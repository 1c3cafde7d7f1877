"""A gateway worker hears the catalog's changes (its read cache) and the orders' answers (its
backlog gate) on queues of its own, from the real broker."""

from __future__ import annotations

from nameko.standalone.events import event_dispatcher

from services.common.events import make_event
from services.gateway import backlog, catalog_events, orders_events
from services.gateway.readcache import Entry, ReadCache
from tests.helpers import wait_for

PRODUCT, MERCHANT = "prd_" + "1" * 32, "mer_" + "2" * 32


def test_a_product_changed_event_outdates_the_gateways_copy(amqp_uri):
    cache = ReadCache(60)
    subscriber = catalog_events.subscribe(amqp_uri, cache)
    try:
        assert subscriber.subscribed.wait(15)
        key, tags = f"/api/v1/products/{PRODUCT}?", (f"product:{PRODUCT}",)
        cache.put(key, Entry("200 OK", [], b"{}", cache.generations.stamp(tags), tags,
                             cache.clock() + 60))
        assert cache.get(key) is not None
        event = make_event("product_changed", {"product_id": PRODUCT, "merchant_id": MERCHANT,
                                               "change": "updated"},
                           source="catalog", correlation_id=PRODUCT)
        event_dispatcher({"AMQP_URI": amqp_uri})("catalog", "product_changed", event)
        wait_for(lambda: cache.get(key) is None, timeout=5, what="the copy outdated")
    finally:
        subscriber.stop()


def test_an_order_confirmed_event_ends_its_wait_at_the_gateway(amqp_uri):
    gate = backlog.Backlog(1.0)
    subscriber = orders_events.subscribe(amqp_uri, ReadCache(60), gate)
    try:
        assert subscriber.subscribed.wait(15)
        wait_for(lambda: gate.listening, timeout=5, what="the gate listening")
        gate.accepted("ord_" + "3" * 32)
        event_dispatcher({"AMQP_URI": amqp_uri})("orders", "order_confirmed", {
            "type": "order_confirmed", "correlation_id": "ord_" + "3" * 32})
        wait_for(lambda: gate.oldest_age() == 0.0, timeout=5, what="the order answered")
    finally:
        subscriber.stop()
