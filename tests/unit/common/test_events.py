"""The event envelope and its contracts."""

from __future__ import annotations

import pytest

from services.common.events import InvalidEvent, known_event_types, load_event, make_event

PLACED = {"order_id": "ord_1", "resident_id": "r", "merchant_id": "m",
          "items": [{"product_id": "p", "quantity": 2}],
          "delivery": {"address": "x", "location": {"lat": 30.5, "lng": 114.2}}}


def test_an_event_carries_the_whole_envelope():
    event = make_event("order_placed", PLACED, source="orders", correlation_id="ord_1")
    assert set(event) == {"id", "type", "version", "occurred_at", "source", "correlation_id",
                          "causation_id", "data"}
    assert event["occurred_at"].endswith("+00:00")
    assert load_event(event, "order_placed")["data"] == PLACED


def test_an_event_that_breaks_its_contract_cannot_be_made():
    with pytest.raises(InvalidEvent, match="quantity"):
        make_event("order_placed", {**PLACED, "items": [{"product_id": "p", "quantity": 0}]},
                   source="orders", correlation_id="ord_1")


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("id"),
    lambda e: e.update(version="1"),
    lambda e: e.update(extra=1),
    lambda e: e["data"].update(extra=1),
    lambda e: e["data"].pop("merchant_id"),
    lambda e: e.update(type="order_exploded"),
    lambda e: e.update(occurred_at="yesterday"),
])
def test_a_received_event_that_does_not_fit_is_rejected(mutate):
    event = make_event("order_placed", PLACED, source="orders", correlation_id="ord_1")
    mutate(event)
    with pytest.raises(InvalidEvent):
        load_event(event, None)


def test_a_handler_gets_only_the_type_it_expects():
    event = make_event("order_placed", PLACED, source="orders", correlation_id="ord_1")
    with pytest.raises(InvalidEvent, match="expected"):
        load_event(event, "order_cancelled")


def test_every_order_status_has_a_contract():
    types = {t for t, _ in known_event_types()}
    assert {"order_placed", "order_confirmed", "order_rejected", "order_cancelled",
            "order_delivered", "stock_reserved", "stock_rejected"} <= types
