"""What a gateway worker hears from the orders service, on a queue of its own: every status
change outdates the copies of that order (readcache.py), and the answers to orders
(confirmed, rejected, cancelled) end their wait in the backlog gate (backlog.py)."""

from __future__ import annotations

from typing import Any

from services.gateway.backlog import ANSWERS, Backlog
from services.gateway.readcache import ReadCache, order_tags
from services.gateway.subscriber import EventSubscriber

EVENT_TYPES = ("order_confirmed", "order_rejected", "order_accepted", "order_declined",
               "order_out_for_delivery", "order_delivered", "order_cancelled")


def apply(cache: ReadCache, backlog: Backlog, payload: Any) -> None:
    # Only the envelope is read: which order, which kind. Nothing here trusts the data.
    if not isinstance(payload, dict) or not isinstance(payload.get("correlation_id"), str):
        cache.invalidate_all()
        return
    order_id = payload["correlation_id"]
    cache.invalidate(order_tags(order_id))
    if payload.get("type") in ANSWERS:
        backlog.answered(order_id)


def subscribe(amqp_uri: str, cache: ReadCache, backlog: Backlog) -> EventSubscriber:
    def listening(now: bool) -> None:
        cache.invalidate_all()  # what changed while we were not listening is unknown
        backlog.set_listening(now)

    subscriber = EventSubscriber(amqp_uri, "orders", EVENT_TYPES,
                                 on_event=lambda payload: apply(cache, backlog, payload),
                                 on_subscribed=lambda: listening(True),
                                 on_unsubscribed=lambda: listening(False))
    subscriber.start()
    return subscriber
