"""The inbox writer and reader, as plain functions over the notify store.

Writing: an event (or a notice) becomes one notification per recipient, plus the channel
deliveries their preferences ask for. Ids derive from event, person and channel, so a
redelivered event stores nothing new and sends nothing twice. Reading: a person sees their
own inbox and their role's shared one, in their language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.common.config import setting
from services.common.events import load_event
from services.common.paging import offset, page_dict
from services.common.refusals import NotFound
from services.notify import domain, records
from services.notify.preferences import effective_for
from services.notify.store import NotifyStore

MAX_SINCE = 100


@dataclass(frozen=True)
class InboxSettings:
    city_tz: str  # for people who never chose a time zone
    read_retention: timedelta
    role_retention: timedelta

    @classmethod
    def from_config(cls, config: dict | None) -> InboxSettings:
        return cls(setting(config, "CITY_TZ"),
                   timedelta(days=setting(config, "NOTIFY_READ_RETENTION_DAYS")),
                   timedelta(days=setting(config, "NOTIFY_ROLE_RETENTION_DAYS")))


# writing


def store_with_deliveries(store: NotifyStore, doc: dict[str, Any], prefs: dict[str, Any],
                          now: datetime) -> int:
    """Store a notification and its channel deliveries; 1 if the notification is new."""
    added = store.notifications.add(doc)
    wanted = domain.channels_for(prefs, doc["category"])
    hooks = store.webhooks.of_owner(doc["recipient_id"]) if "webhook" in wanted else []
    # Also on a redelivered event: a crash between the two writes is healed here, and
    # delivery ids are deterministic, so nothing is sent twice.
    for delivery in records.deliveries_for(doc, prefs, hooks, now):
        store.deliveries.add(delivery)
    return int(added)


def deliver_event(store: NotifyStore, payload: dict[str, Any], event_type: str,
                  now: datetime, settings: InboxSettings) -> int:
    """Handle a subscribed event: load it against its contract, notify its recipients."""
    event = load_event(payload, event_type)
    stored = 0
    for audience, recipient in domain.recipients_of(event):
        prefs = effective_for(store, recipient, audience.name, settings.city_tz)
        doc = records.event_notification(event, audience, recipient, prefs, now,
                                          settings.role_retention)
        stored += store_with_deliveries(store, doc, prefs, now)
    return stored


# reading


def _language(store: NotifyStore, who: dict[str, str], settings: InboxSettings) -> str:
    return effective_for(store, who["sub"], who["role"], settings.city_tz)["language"]


def page(store: NotifyStore, who: dict[str, str], page: int, page_size: int,
         settings: InboxSettings) -> dict[str, Any]:
    docs, total, capped, unread = store.notifications.page(
        domain.inboxes_of(who), who["sub"], offset(page, page_size), page_size)
    language = _language(store, who, settings)
    return {**page_dict(docs, page, page_size, total,
                        lambda d: records.public_notification(d, who["sub"], language), capped),
            "unread_count": unread}


def mark_read(store: NotifyStore, who: dict[str, str], notification_id: str, now: datetime,
              settings: InboxSettings) -> dict[str, Any]:
    doc = store.notifications.get_visible(domain.inboxes_of(who), notification_id)
    if doc is None:
        raise NotFound("no such notification")
    doc = store.notifications.mark_read(doc, who["sub"], now, settings.read_retention)
    return records.public_notification(doc, who["sub"], _language(store, who, settings))


def mark_all_read(store: NotifyStore, who: dict[str, str], now: datetime,
                  settings: InboxSettings) -> dict[str, int]:
    inboxes = domain.inboxes_of(who)
    marked = store.notifications.mark_all_read(inboxes, who["sub"], now,
                                               settings.read_retention)
    return {"marked": marked, "unread_count": store.notifications.unread_count(inboxes,
                                                                               who["sub"])}


def since(store: NotifyStore, who: dict[str, str], after: int | None, limit: int,
          settings: InboxSettings) -> dict[str, Any]:
    """For the live stream: visible notifications with seq > ``after``, oldest first.

    Without ``after`` it only answers the current cursor (a new stream starts from now).
    Answered after one read of the counter document when nothing is new (and this replica
    did all the numbering), so idle streams cost one cheap call a poll.
    """
    if after is None:
        return {"cursor": store.sequencer.current(), "items": []}
    docs = store.notifications.since(domain.inboxes_of(who), int(after),
                                     min(max(limit, 1), MAX_SINCE))
    if not docs:
        return {"cursor": int(after), "items": []}
    language = _language(store, who, settings)
    return {"cursor": docs[-1]["seq"],
            "items": [records.public_notification(d, who["sub"], language) for d in docs]}


# background work


def release_held(store: NotifyStore, now: datetime) -> int:
    """Make notifications held in quiet hours visible once those are over."""
    return store.notifications.release_held(now)


def sweep(store: NotifyStore, now: datetime) -> int:
    """Once a minute: delete expired read notifications by their indexed day bucket, and
    retire expired notices."""
    if not store.sweep.due(now):
        return 0
    deleted = store.notifications.delete_expired(domain.sweep_days(now, store.sweep.last), now)
    deleted += store.notices.retire_expired(now)
    store.sweep.ran(now)
    return deleted
