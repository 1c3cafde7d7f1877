"""The notify database: each person's inbox."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError


class NotifyStore:
    def __init__(self, db: Any):
        self.db = db
        self.notifications = db["notifications"]

    def ensure_indexes(self) -> None:
        self.notifications.create_index("recipient_id")

    def outbox_collections(self) -> list[Any]:
        return []

    def add(self, doc: dict[str, Any]) -> bool:
        """Store a notification; False if it exists (its id derives from event and person)."""
        try:
            self.notifications.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    def page(self, recipient_id: str, skip: int, limit: int) -> tuple[list[dict], int, int]:
        query = {"recipient_id": recipient_id}
        total = self.notifications.count_documents(query)
        unread = self.notifications.count_documents({**query, "read": False})
        docs = list(self.notifications.find(query).sort("created_at", -1).skip(skip).limit(limit))
        return docs, total, unread

    def mark_read(self, recipient_id: str, notification_id: str, now: Any) -> dict | None:
        self.notifications.update_one(
            {"_id": notification_id, "recipient_id": recipient_id, "read": False},
            {"$set": {"read": True, "read_at": now}},
        )
        return self.notifications.find_one({"_id": notification_id, "recipient_id": recipient_id})
