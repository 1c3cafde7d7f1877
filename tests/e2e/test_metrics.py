"""Prometheus metrics of the running system move with its traffic: the gateway's request
counters (all gunicorn workers summed), each service's entrypoint and event counters on its own
port, and the gauges read from the stores."""

from __future__ import annotations

import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import wait_for


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_counters_and_gauges_follow_an_order_through_the_system(system, api, shop, resident):
    urls = {name: system.metrics_url(name) for name in ("gateway", "orders", "catalog")}
    before = {name: scrape(url) for name, url in urls.items()}

    r = api.post("/api/v1/orders", as_=resident, json=shop.order_body(),
                 headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 202, r.text
    order_id = r.json()["id"]
    wait_for(lambda: api.get(f"/api/v1/orders/{order_id}", as_=resident).json()["status"]
             == "confirmed", what="the order to be confirmed")
    assert api.get("/api/v1/no-such-thing").status_code == 404

    def moved():
        after = {name: scrape(url) for name, url in urls.items()}
        handled = ("lifecircle_events_total",
                   {"service": "catalog", "event_type": "order_placed", "outcome": "handled"})
        if value(after["catalog"], handled[0], **handled[1]) <= value(
                before["catalog"], handled[0], **handled[1]):
            return None
        return after

    after = wait_for(moved, timeout=15, what="the catalog's event counter to move")

    posted = {"method": "POST", "route": "/api/v1/orders", "status": "202"}
    assert (value(after["gateway"], "lifecircle_http_requests_total", **posted)
            == value(before["gateway"], "lifecircle_http_requests_total", **posted) + 1)
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after["gateway"], "lifecircle_http_requests_total", **unmatched) >= 1
    timed = {"method": "POST", "route": "/api/v1/orders"}
    assert (value(after["gateway"], "lifecircle_http_request_seconds_count", **timed)
            > value(before["gateway"], "lifecircle_http_request_seconds_count", **timed))

    placed = {"service": "orders", "entrypoint": "place_order", "outcome": "ok"}
    assert (value(after["orders"], "lifecircle_entrypoint_calls_total", **placed)
            == value(before["orders"], "lifecircle_entrypoint_calls_total", **placed) + 1)
    assert value(after["orders"], "lifecircle_entrypoint_seconds_count",
                 service="orders", entrypoint="place_order") >= 1
    assert value(after["orders"], "lifecircle_orders", service="orders", status="confirmed") >= 1
    # Nothing is stuck in an outbox once the saga settled.
    assert ("lifecircle_outbox_pending", frozenset({"service": "orders"}.items())) in after[
        "orders"]


def test_dispatch_reports_the_last_hour_of_arrivals_by_the_15_minute_promise(system):
    samples = scrape(system.metrics_url("dispatch"))
    for within in ("true", "false"):
        key = ("lifecircle_repairs_arrived_last_hour",
               frozenset({"service": "dispatch", "within_15min": within}.items()))
        assert key in samples
    assert ("lifecircle_repairs", frozenset({"service": "dispatch", "status": "open"}.items())
            ) in samples
