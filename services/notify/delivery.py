"""The delivery worker and the admin view of deliveries, as plain functions over the store.

The timer claims due deliveries with a guarded update (a lease, so a dead sender's claim is
recovered), sends a batch on green threads, and records each attempt: sent, retried later
with back-off, or failed after the last attempt (never dropped; an admin may retry it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import eventlet

from services.common.config import setting
from services.common.paging import offset, page_dict
from services.common.refusals import NotFound
from services.notify import domain, records
from services.notify.channels import Channel, DeliveryError
from services.notify.receivers import WebhookLane
from services.notify.store import NotifyStore

SEND_BATCH = 200
SEND_CONCURRENCY = 20


@dataclass(frozen=True)
class RetryPolicy:
    lease: timedelta
    max_attempts: int
    base_s: float
    cap_s: float

    @classmethod
    def from_config(cls, config: dict | None) -> RetryPolicy:
        return cls(timedelta(seconds=setting(config, "NOTIFY_SEND_LEASE_SECONDS")),
                   setting(config, "NOTIFY_MAX_ATTEMPTS"),
                   setting(config, "NOTIFY_RETRY_BASE_SECONDS"),
                   setting(config, "NOTIFY_RETRY_MAX_SECONDS"))


def recover_stale(store: NotifyStore, now: datetime) -> int:
    """A sender that died mid-send left its delivery claimed: make it due again."""
    return store.deliveries.recover_stale(now)


def send_due(store: NotifyStore, channels: dict[str, Channel], policy: RetryPolicy,
             now: datetime, clock: Callable[[], datetime],
             webhooks: WebhookLane | None = None) -> int:
    """Attempt every delivery due at ``now`` (up to a batch); how many were attempted or,
    for webhooks, started. With a ``webhooks`` lane, webhook sends run in its background
    pool, gated per receiver (receivers.py), and SMS and e-mail never wait for them."""
    due = store.deliveries.due(now, SEND_BATCH)
    if not due:
        return 0
    messages = [d for d in due if webhooks is None or d.get("channel") != "webhook"]
    started = 0
    for d in due:
        if webhooks is None or d.get("channel") != "webhook":
            continue
        aside = webhooks.start(d, lambda d=d: attempt_one(store, channels, policy, d["_id"],
                                                          now, clock))
        if aside is None:
            started += 1
        else:
            store.deliveries.postpone(d["_id"], now + timedelta(seconds=aside))
    pool = eventlet.GreenPool(SEND_CONCURRENCY)
    attempted = pool.imap(lambda d: send_one(store, channels, policy, d["_id"], now, clock),
                          messages)
    return started + sum(1 for sent in attempted if sent)


def send_one(store: NotifyStore, channels: dict[str, Channel], policy: RetryPolicy,
             delivery_id: str, now: datetime, clock: Callable[[], datetime]) -> bool:
    """Claim, send and record one attempt; False if another sender claimed it first."""
    return attempt_one(store, channels, policy, delivery_id, now, clock) is not None


def attempt_one(store: NotifyStore, channels: dict[str, Channel], policy: RetryPolicy,
                delivery_id: str, now: datetime, clock: Callable[[], datetime]
                ) -> bool | None:
    """Claim, send and record one attempt: whether it arrived, or None if another sender
    claimed it first."""
    delivery = store.deliveries.claim(delivery_id, now, policy.lease)
    if delivery is None:
        return None
    max_attempts = policy.max_attempts
    to = dict(delivery["to"])
    started = time.perf_counter()
    error: str | None = None
    if delivery["channel"] == "webhook":
        hook = store.webhooks.get(to["webhook_id"])
        if hook is None:
            error = "the webhook was removed"
            max_attempts = 1  # nothing to retry against
        else:
            to = {"url": hook["url"], "secret": hook["secret"]}
    if error is None:
        try:
            channels[delivery["channel"]].send(to, delivery["message"])
        except DeliveryError as exc:
            error = str(exc) or "delivery failed"
        except Exception as exc:  # a provider bug is still a failed attempt, recorded
            error = f"{type(exc).__name__}: {exc}"[:300]
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    update = domain.after_attempt(delivery, clock(), error, duration_ms, max_attempts,
                                  policy.base_s, policy.cap_s)
    store.deliveries.record_attempt(delivery_id, update)
    return error is None


# the admin view


def page(store: NotifyStore, status: str, channel: str | None, page: int, page_size: int,
         now: datetime) -> dict[str, Any]:
    query: dict[str, Any] = {"status": status}
    if channel:
        query["channel"] = channel
    docs, total, capped = store.deliveries.page(query, offset(page, page_size), page_size, now)
    return page_dict(docs, page, page_size, total, records.public_delivery, capped)


def get(store: NotifyStore, delivery_id: str) -> dict[str, Any]:
    doc = store.deliveries.get(delivery_id)
    if doc is None:
        raise NotFound("no such delivery")
    return records.public_delivery(doc)


def retry(store: NotifyStore, delivery_id: str, now: datetime) -> dict[str, Any]:
    """Start a failed delivery over (attempts count from zero)."""
    doc = store.deliveries.retry_failed(delivery_id, now)
    if doc is None:
        raise NotFound("no failed delivery with that id")
    return records.public_delivery(doc)
