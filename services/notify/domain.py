"""Turning events into inbox notifications and channel deliveries; plain functions, no I/O."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from typing import Any

from services.notify import preferences as prefs_mod
from services.notify.routing import ROLE_INBOXES, ROUTES, Audience, recipient_of
from services.notify.templates import DEFAULT_LANGUAGE, LANGUAGES, render_all

CHANNEL_INBOX = "inbox"
NOTICE_EVENT_TYPE = "community_notice"


def notification_id(event_id: str, recipient_id: str, channel: str = CHANNEL_INBOX) -> str:
    """Derived from the event, the person and the channel: a redelivered event maps to the
    same id, so it can never produce a second notification."""
    digest = hashlib.sha256(f"{event_id}|{recipient_id}|{channel}".encode()).hexdigest()
    return f"ntf_{digest[:32]}"


def delivery_id(notification: str, channel: str, target: str) -> str:
    digest = hashlib.sha256(f"{notification}|{channel}|{target}".encode()).hexdigest()
    return f"dlv_{digest[:32]}"


def expire_day(at: datetime) -> str:
    """The day bucket of an expiry time: the sweep deletes by this indexed value."""
    return at.strftime("%Y-%m-%d")


def recipients_of(event: dict[str, Any]) -> list[tuple[Audience, str]]:
    found = []
    for audience in ROUTES.get(event["type"], ()):
        recipient = recipient_of(audience.name, event["data"])
        if recipient:
            found.append((audience, recipient))
    return found


def is_role_inbox(recipient_id: str) -> bool:
    return recipient_id in ROLE_INBOXES.values()


def inbox_doc(*, notification: str, recipient_id: str, category: str, event_type: str,
              event_id: str, correlation_id: str, urgent: bool,
              texts: dict[str, dict[str, str]], now: datetime, hold_until: datetime | None,
              role_retention: timedelta) -> dict[str, Any]:
    shared = is_role_inbox(recipient_id)
    expire_at = now + role_retention if shared else None
    return {
        "_id": notification,
        "recipient_id": recipient_id,
        "shared": shared,
        "category": category,
        "event_type": event_type,
        "event_id": event_id,
        "correlation_id": correlation_id,
        "urgent": urgent,
        "texts": texts,
        "read": False,
        "read_by": [],
        "created_at": now,
        # Held in quiet hours: invisible (no seq) until released; seq orders what is visible.
        "held": hold_until is not None,
        "release_at": hold_until,
        "seq": None,
        "expire_at": expire_at,
        "expire_day": expire_day(expire_at) if expire_at else None,
    }


def event_notification(event: dict[str, Any], audience: Audience, recipient: str,
                       prefs: dict[str, Any], now: datetime,
                       role_retention: timedelta) -> dict[str, Any]:
    texts = render_all(event["type"], audience.name, event["data"], prefs["time_zone"])
    hold = None if audience.urgent else prefs_mod.quiet_until(prefs, now)
    return inbox_doc(
        notification=notification_id(event["id"], recipient), recipient_id=recipient,
        category=audience.category, event_type=event["type"], event_id=event["id"],
        correlation_id=event["correlation_id"], urgent=audience.urgent, texts=texts, now=now,
        hold_until=hold, role_retention=role_retention)


def notice_notification(notice: dict[str, Any], resident_id: str, prefs: dict[str, Any],
                        now: datetime, role_retention: timedelta) -> dict[str, Any]:
    text = {"title": notice["title"], "body": notice["body"]}
    return inbox_doc(
        notification=notification_id(notice["_id"], resident_id), recipient_id=resident_id,
        category="notices", event_type=NOTICE_EVENT_TYPE, event_id=notice["_id"],
        correlation_id=notice["_id"], urgent=False, texts={lang: text for lang in LANGUAGES},
        now=now, hold_until=prefs_mod.quiet_until(prefs, now), role_retention=role_retention)


def message_for(doc: dict[str, Any], language: str, delivery: str) -> dict[str, Any]:
    """What a channel sends: the notification in the recipient's language."""
    text = doc["texts"].get(language) or doc["texts"][DEFAULT_LANGUAGE]
    return {
        "id": delivery,
        "notification_id": doc["_id"],
        "event_type": doc["event_type"],
        "category": doc["category"],
        "correlation_id": doc["correlation_id"],
        "urgent": doc["urgent"],
        "language": language,
        "title": text["title"],
        "body": text["body"],
        "created_at": doc["created_at"].isoformat(),
    }


def deliveries_for(doc: dict[str, Any], prefs: dict[str, Any], webhooks: list[dict[str, Any]],
                   now: datetime) -> list[dict[str, Any]]:
    """The channel deliveries beyond the inbox that a person's preferences ask for.

    Quiet hours hold SMS and e-mail with the inbox; webhooks go to systems, not sleeping
    people, so they are sent at once.
    """
    if doc["shared"]:
        return []  # a role inbox has no phone or address of its own
    wanted = prefs_mod.channels_for(prefs, doc["category"])
    targets: list[tuple[str, str, dict[str, Any], datetime]] = []
    hold = doc["release_at"] or now
    if "sms" in wanted and prefs.get("phone"):
        targets.append(("sms", prefs["phone"], {"phone": prefs["phone"]}, hold))
    if "email" in wanted and prefs.get("email"):
        targets.append(("email", prefs["email"], {"email": prefs["email"]}, hold))
    if "webhook" in wanted:
        for hook in webhooks:
            targets.append(("webhook", hook["_id"], {"webhook_id": hook["_id"]}, now))
    out = []
    for channel, key, to, due in targets:
        ident = delivery_id(doc["_id"], channel, key)
        out.append({
            "_id": ident,
            "notification_id": doc["_id"],
            "recipient_id": doc["recipient_id"],
            "channel": channel,
            "to": to,
            "message": message_for(doc, prefs["language"], ident),
            "status": "pending",
            "attempts": [],
            "attempt_count": 0,
            "next_attempt_at": due,
            "lease_until": None,
            "last_error": None,
            "created_at": now,
            "updated_at": now,
        })
    return out


def retry_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random | None = None
                ) -> timedelta:
    """Exponential back-off with jitter: base * 2^(attempt-1), capped, times 0.5..1.

    The jitter spreads retries of many deliveries that failed together (a receiver outage)
    so they do not all return at the same instant.
    """
    rng = rng or random
    ceiling = min(cap_s, base_s * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=ceiling * (0.5 + rng.random() / 2))


def after_attempt(delivery: dict[str, Any], now: datetime, error: str | None,
                  duration_ms: float, max_attempts: int, base_s: float, cap_s: float,
                  rng: random.Random | None = None) -> dict[str, Any]:
    """The $set fields and the attempt record after one try."""
    count = delivery["attempt_count"] + 1
    attempt = {"at": now, "ok": error is None, "error": error, "duration_ms": duration_ms}
    fields: dict[str, Any] = {"attempt_count": count, "updated_at": now, "lease_until": None,
                              "last_error": error}
    if error is None:
        fields.update(status="sent", sent_at=now, next_attempt_at=None)
    elif count >= max_attempts:
        fields.update(status="failed", failed_at=now, next_attempt_at=None)
    else:
        fields.update(status="pending",
                      next_attempt_at=now + retry_delay(count, base_s, cap_s, rng))
    return {"$set": fields, "$push": {"attempts": attempt}}


def public_notification(doc: dict[str, Any], reader: str, language: str) -> dict[str, Any]:
    text = doc["texts"].get(language) or doc["texts"][DEFAULT_LANGUAGE]
    read = reader in doc.get("read_by", []) if doc.get("shared") else doc["read"]
    return {
        "id": doc["_id"],
        "category": doc["category"],
        "event_type": doc["event_type"],
        "correlation_id": doc["correlation_id"],
        "title": text["title"],
        "body": text["body"],
        "urgent": doc.get("urgent", False),
        "shared": bool(doc.get("shared")),
        "read": read,
        "created_at": doc["created_at"].isoformat(),
        "seq": doc["seq"],
    }


def public_delivery(doc: dict[str, Any]) -> dict[str, Any]:
    def iso(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return {
        "id": doc["_id"],
        "notification_id": doc["notification_id"],
        "recipient_id": doc["recipient_id"],
        "channel": doc["channel"],
        "status": doc["status"],
        "attempt_count": doc["attempt_count"],
        "attempts": [{**a, "at": iso(a["at"])} for a in doc["attempts"]],
        "next_attempt_at": iso(doc.get("next_attempt_at")),
        "last_error": doc.get("last_error"),
        "created_at": iso(doc["created_at"]),
        "updated_at": iso(doc["updated_at"]),
    }
