"""Keeps a gateway worker's read cache current: a thread subscribed to the catalog's change
events on a queue of its own (exclusive, deleted with the connection), which bumps the tags of
whatever each event changed. Missing events is never silent: on every (re)connect the whole
cache is outdated, and a copy never outlives GATEWAY_READ_CACHE_SECONDS anyway."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from kombu import Connection, Queue, binding
from nameko.standalone.events import get_event_exchange

from services.common.events import InvalidEvent, load_event
from services.common.logs import get_logger
from services.gateway.readcache import ReadCache, merchant_tags, product_tags

log = get_logger()

EVENT_TYPES = ("product_changed", "merchant_changed", "stock_reserved")


def tags_of(event: dict[str, Any]) -> list[str]:
    """What an (already checked) catalog event makes stale."""
    data = event["data"]
    if event["type"] == "merchant_changed":
        return list(merchant_tags(data["merchant_id"]))
    if event["type"] == "product_changed":
        return list(product_tags(data["product_id"], data["merchant_id"]))
    if event["type"] == "stock_reserved":  # stock counts moved on these products
        return [t for line in data["lines"]
                for t in product_tags(line["product_id"], data["merchant_id"])]
    return []


def apply(cache: ReadCache, payload: Any) -> None:
    try:
        event = load_event(payload)
    except InvalidEvent:
        cache.invalidate_all()  # cannot tell what changed: assume everything did
        return
    cache.invalidate(tags_of(event))


class CatalogSubscriber(threading.Thread):
    def __init__(self, amqp_uri: str, cache: ReadCache, retry_seconds: float = 1.0):
        super().__init__(name="catalog-events", daemon=True)
        self.amqp_uri, self.cache, self.retry_seconds = amqp_uri, cache, retry_seconds
        self.subscribed = threading.Event()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        exchange = get_event_exchange("catalog", {})
        while not self._stop.is_set():
            try:
                with Connection(self.amqp_uri, heartbeat=10) as conn:
                    queue = Queue(f"gateway-readcache-{uuid.uuid4().hex}",
                                  bindings=[binding(exchange, routing_key=t)
                                            for t in EVENT_TYPES],
                                  exclusive=True, auto_delete=True, durable=False)
                    with conn.Consumer(queue, callbacks=[self._on_message], accept=["json"],
                                       no_ack=True):
                        self.cache.invalidate_all()  # whatever changed while not listening
                        self.subscribed.set()
                        while not self._stop.is_set():
                            try:
                                conn.drain_events(timeout=1.0)
                            except TimeoutError:
                                conn.heartbeat_check()
            except Exception as exc:  # broker gone: copies expire; try again shortly
                self.subscribed.clear()
                self.cache.invalidate_all()
                log.warning("read_cache_unsubscribed", error=repr(exc))
                self._stop.wait(self.retry_seconds)

    def _on_message(self, body: Any, _message: Any) -> None:
        apply(self.cache, body)
