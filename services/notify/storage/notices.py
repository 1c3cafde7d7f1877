"""Community notices: unique per Idempotency-Key, with their audience and how far the
fan-out to it has come (resumable), active until they expire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.common import idempotency


class Notices:
    def __init__(self, collection: Any):
        self.collection = collection

    def ensure_indexes(self) -> None:
        self.collection.create_index("active")
        self.collection.create_index("fanout_pending")
        # Sparse: a notice posted without a key has neither field.
        idempotency.ensure_key_index(self.collection, "created_by", sparse=True)

    def add(self, doc: dict[str, Any]) -> bool:
        """False if a notice with this Idempotency-Key exists already."""
        try:
            self.collection.insert_one({**doc, "active": True})
        except DuplicateKeyError:
            return False
        return True

    def by_key(self, sub: str, key: str) -> dict[str, Any] | None:
        return self.collection.find_one(idempotency.key_fields(sub, key), {"audience_ids": 0})

    def advance_fanout(self, notice_id: str, done: int, finished: bool) -> None:
        self.collection.update_one({"_id": notice_id}, {"$set": {
            "fanout_done": done, "fanout_pending": not finished}})

    def unfinished_fanouts(self, limit: int = 10) -> list[dict]:
        return list(self.collection.find({"fanout_pending": True}).limit(limit))

    def active(self, limit: int = 1000) -> list[dict]:
        return list(self.collection.find({"active": True}, {"audience_ids": 0})
                    .sort("created_at", -1).limit(limit))

    def retire_expired(self, now: datetime) -> int:
        retired = 0
        for doc in self.collection.find({"active": True}, {"expires_at": 1}):
            if doc.get("expires_at") and doc["expires_at"] <= now:
                retired += self.collection.update_one(
                    {"_id": doc["_id"]}, {"$set": {"active": False}}).modified_count
        return retired
