"""Turning events into inbox notifications."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from services.notify.templates import render

CHANNEL_INBOX = "inbox"


def notification_id(event_id: str, recipient_id: str, channel: str = CHANNEL_INBOX) -> str:
    """Derived from the event, the person and the channel: a redelivered event maps to the
    same id, so it can never produce a second notification."""
    digest = hashlib.sha256(f"{event_id}|{recipient_id}|{channel}".encode()).hexdigest()
    return f"ntf_{digest[:32]}"


def notifications_for(event: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "_id": notification_id(event["id"], msg["recipient_id"]),
            "recipient_id": msg["recipient_id"],
            "category": msg["category"],
            "event_type": event["type"],
            "event_id": event["id"],
            "correlation_id": event["correlation_id"],
            "title": msg["title"],
            "body": msg["body"],
            "read": False,
            "created_at": now,
        }
        for msg in render(event)
    ]


def public_notification(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "category": doc["category"],
        "event_type": doc["event_type"],
        "correlation_id": doc["correlation_id"],
        "title": doc["title"],
        "body": doc["body"],
        "read": doc["read"],
        "created_at": doc["created_at"].isoformat(),
    }
