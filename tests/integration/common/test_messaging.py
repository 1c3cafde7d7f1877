"""Consumers on real RabbitMQ: bounded retries, then dead letters; contract breakers go to
dead letters at once; an operator can list and replay them."""

from __future__ import annotations

from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_waiter

from services.common import deadletters
from services.common.events import load_event, make_event
from services.common.messaging import event_handler
from tests.helpers import wait_for

ORDER_ID = "ord_" + "3" * 32


def placed_event():
    return make_event("order_placed", {
        "order_id": ORDER_ID, "resident_id": "r", "merchant_id": "mer_" + "4" * 32,
        "items": [{"product_id": "prd_" + "5" * 32, "quantity": 1}],
        "delivery": {"address": "x", "location": {"lat": 30.0, "lng": 114.0}}},
        source="orders", correlation_id=ORDER_ID)


class Flaky:
    """Fails a set number of times, then succeeds."""

    name = "flaky"
    failures_left = 0
    calls: list = []

    @event_handler("orders", "order_placed")
    def handle(self, payload):
        event = load_event(payload, "order_placed")
        Flaky.calls.append(event["id"])
        if Flaky.failures_left > 0:
            Flaky.failures_left -= 1
            raise RuntimeError("downstream is down")


def ours(amqp_uri, event_id):
    return [d for d in deadletters.list_dead_letters(amqp_uri) if d["event_id"] == event_id]


def test_a_handler_that_fails_twice_then_succeeds_processes_the_event_once_more(
        container_factory, service_config):
    Flaky.failures_left, Flaky.calls = 2, []
    container = container_factory(Flaky, service_config)
    container.start()
    event = placed_event()
    with entrypoint_waiter(container, "handle", callback=lambda wc, res, exc: exc is None,
                           timeout=15):
        event_dispatcher(service_config)("orders", "order_placed", event)
    assert Flaky.calls == [event["id"]] * 3
    assert ours(service_config["AMQP_URI"], event["id"]) == []


def test_a_handler_that_keeps_failing_ends_in_dead_letters_with_the_reason(
        container_factory, service_config):
    Flaky.failures_left, Flaky.calls = 100, []
    container = container_factory(Flaky, service_config)
    container.start()
    event = placed_event()
    event_dispatcher(service_config)("orders", "order_placed", event)
    uri = service_config["AMQP_URI"]
    dead = wait_for(lambda: ours(uri, event["id"]), timeout=20, what="a dead letter")
    assert dead[0]["attempts"] == service_config["EVENT_MAX_ATTEMPTS"]
    assert "downstream is down" in dead[0]["error"]
    assert dead[0]["queue"] == "evt-orders-order_placed--flaky.handle"
    # Bounded: exactly the configured number of tries, no loop.
    assert Flaky.calls == [event["id"]] * service_config["EVENT_MAX_ATTEMPTS"]

    # Once the cause is fixed, the operator replays it and it is handled.
    Flaky.failures_left = 0
    with entrypoint_waiter(container, "handle", callback=lambda wc, res, exc: exc is None,
                           timeout=15):
        assert deadletters.replay(uri, event_id=event["id"]) == 1
    assert ours(uri, event["id"]) == []


def test_an_event_that_breaks_its_contract_goes_straight_to_dead_letters(
        container_factory, service_config):
    Flaky.failures_left, Flaky.calls = 0, []
    container = container_factory(Flaky, service_config)
    container.start()
    bad = placed_event()
    bad["data"]["items"][0]["quantity"] = -3  # not a valid order line
    with entrypoint_waiter(container, "handle", callback=lambda wc, res, exc: True):
        event_dispatcher(service_config)("orders", "order_placed", bad)
    dead = wait_for(lambda: ours(service_config["AMQP_URI"], bad["id"]), timeout=10,
                    what="a dead letter")
    assert dead[0]["attempts"] == 1
    assert "InvalidEvent" in dead[0]["error"]
    assert Flaky.calls == []
