"""Keeps a gateway worker's read cache current from the catalog's change events. Missing
events is never silent: on every (re)connect the whole cache is outdated, and a copy never
outlives GATEWAY_READ_CACHE_SECONDS anyway."""

from __future__ import annotations

from typing import Any

from services.common.events import InvalidEvent, load_event
from services.gateway.readcache import ReadCache, merchant_tags, product_tags
from services.gateway.subscriber import EventSubscriber

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


def subscribe(amqp_uri: str, cache: ReadCache) -> EventSubscriber:
    subscriber = EventSubscriber(amqp_uri, "catalog", EVENT_TYPES,
                                 on_event=lambda payload: apply(cache, payload),
                                 on_subscribed=cache.invalidate_all,
                                 on_unsubscribed=cache.invalidate_all)
    subscriber.start()
    return subscriber
