"""Channel deliveries (SMS, e-mail, webhook): claimed with a lease, attempted, rescheduled
with back-off or marked failed; the timer finds due ones by the indexed status.

The admin list pages newest ``updated_at`` first: pending and sending (a bounded set) by
status, sent and failed (all history) through windows of ``updated_*`` buckets, written in
the same write as ``updated_at`` (services/common/windows.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common import paging, windows
from services.notify.schedule import NextDue, earliest

LIVE_STATUSES = ("pending", "sending")  # still being worked on: a bounded set


class Deliveries:
    def __init__(self, collection: Any):
        self.collection = collection
        self._next_due = NextDue()

    def ensure_indexes(self) -> None:
        self.collection.create_index("status")
        self.collection.create_index("recipient_id")
        # The sender finds due deliveries by status and time; the admin list pages by status.
        self.collection.create_index([("status", 1), ("next_attempt_at", 1)])
        self.collection.create_index([("status", 1), ("updated_at", -1)])
        for bucket in windows.bucket_fields("updated"):
            self.collection.create_index(bucket)

    def add_buckets(self) -> int:
        """Deliveries stored before the time buckets existed get them (a data migration)."""
        return windows.add_missing(self.collection, "updated", "updated_at")

    def add(self, doc: dict[str, Any]) -> bool:
        try:
            self.collection.insert_one({**doc, **_updated(doc["updated_at"])})
        except DuplicateKeyError:
            return False
        self._next_due.note(doc["next_attempt_at"])
        return True

    def due(self, now: datetime, limit: int) -> list[dict]:
        if self._next_due.nothing_due(now):
            return []
        version = self._next_due.version
        due, later = [], None
        for doc in self.collection.find({"status": "pending"},
                                        {"next_attempt_at": 1, "channel": 1, "to": 1}):
            if doc["next_attempt_at"] <= now and len(due) < limit:
                due.append(doc)
            else:
                later = earliest(later, doc["next_attempt_at"])
        # What is returned is either sent or rescheduled (record_attempt notes the new time).
        self._next_due.settle(version, later, complete=len(due) < limit, now=now)
        return due

    def postpone(self, delivery_id: str, until: datetime) -> None:
        """A pending delivery steps aside until ``until`` (no attempt is spent)."""
        self.collection.update_one({"_id": delivery_id, "status": "pending"},
                                   {"$set": {"next_attempt_at": until}})
        self._next_due.note(until)

    def claim(self, delivery_id: str, now: datetime, lease: timedelta) -> dict | None:
        """Take a due delivery for sending; None if another worker took it first."""
        return self.collection.find_one_and_update(
            {"_id": delivery_id, "status": "pending", "next_attempt_at": {"$lte": now}},
            {"$set": {"status": "sending", "lease_until": now + lease}},
            return_document=ReturnDocument.AFTER)

    def recover_stale(self, now: datetime) -> int:
        """A sender that died mid-send left its delivery claimed: make it due again."""
        recovered = 0
        for doc in self.collection.find({"status": "sending"}, {"lease_until": 1}):
            if doc["lease_until"] and doc["lease_until"] <= now:
                recovered += self.collection.update_one(
                    {"_id": doc["_id"], "status": "sending"},
                    {"$set": {"status": "pending", "next_attempt_at": now}}).modified_count
        if recovered:
            self._next_due.note(now)
        return recovered

    def record_attempt(self, delivery_id: str, update: dict[str, Any]) -> dict | None:
        self._next_due.note(update["$set"].get("next_attempt_at"))
        update = {**update, "$set": {**update["$set"], **_updated(update["$set"]["updated_at"])}}
        return self.collection.find_one_and_update(
            {"_id": delivery_id, "status": "sending"}, update,
            return_document=ReturnDocument.AFTER)

    def page(self, query: dict[str, Any], skip: int, limit: int, now: datetime
             ) -> tuple[list[dict], int, bool]:
        """Newest change first: (the page, the total, whether it is capped)."""
        if query.get("status") in LIVE_STATUSES:
            return paging.read_capped(self.collection.find(query).sort("updated_at", -1),
                                      skip, limit)
        return windows.newest_page(self.collection, query, "updated", "updated_at", skip,
                                   limit, now)

    def get(self, delivery_id: str) -> dict | None:
        return self.collection.find_one({"_id": delivery_id})

    def retry_failed(self, delivery_id: str, now: datetime) -> dict | None:
        self._next_due.note(now)
        return self.collection.find_one_and_update(
            {"_id": delivery_id, "status": "failed"},
            {"$set": {"status": "pending", "next_attempt_at": now, "attempt_count": 0,
                      "updated_at": now, **_updated(now)}},
            return_document=ReturnDocument.AFTER)


def _updated(at: datetime) -> dict[str, int]:
    return windows.buckets("updated", at)
