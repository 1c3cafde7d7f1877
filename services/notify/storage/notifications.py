"""The inboxes: notifications, held in quiet hours and then released, read per person, and
deleted by their indexed expiry day bucket (the embedded store scans for TTL indexes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.common import paging
from services.notify.domain import expire_day
from services.notify.schedule import NextDue, earliest
from services.notify.sequence import Sequencer


class Notifications:
    def __init__(self, collection: Any, sequencer: Sequencer):
        self.collection = collection
        self.sequencer = sequencer
        self._next_release = NextDue()

    def ensure_indexes(self) -> None:
        for field in ("recipient_id", "held", "expire_day", "seq"):
            self.collection.create_index(field)
        # Inbox pages and streams sort by seq; the expiry sweep finds due items by day and time.
        self.collection.create_index([("recipient_id", 1), ("held", 1), ("seq", -1)])
        self.collection.create_index([("recipient_id", 1), ("seq", 1)])
        self.collection.create_index([("expire_day", 1), ("expire_at", 1)])

    def top_seq(self) -> int:
        top = list(self.collection.find({"seq": {"$ne": None}}, {"seq": 1})
                   .sort("seq", -1).limit(1))
        return top[0]["seq"] if top else 0

    def add(self, doc: dict[str, Any]) -> bool:
        """Store a notification; False if it exists (its id derives from event and person)."""
        if self.collection.find_one({"_id": doc["_id"]}, {"_id": 1}) is not None:
            return False
        if not doc["held"]:
            doc = {**doc, "seq": self.sequencer.next_for(doc["recipient_id"])}
        try:
            self.collection.insert_one(doc)
        except DuplicateKeyError:
            return False
        if doc["held"]:
            self._next_release.note(doc["release_at"])
        return True

    def release_held(self, now: datetime, limit: int = 500) -> int:
        """Make held notifications visible once their quiet hours are over."""
        if self._next_release.nothing_due(now):
            return 0
        version = self._next_release.version
        released, later = 0, None
        for doc in list(self.collection.find({"held": True}, {"release_at": 1,
                                                               "recipient_id": 1})):
            if doc["release_at"] > now or released >= limit:
                later = earliest(later, doc["release_at"])
                continue
            result = self.collection.update_one(
                {"_id": doc["_id"], "held": True},
                {"$set": {"held": False, "seq": self.sequencer.next_for(doc["recipient_id"])}})
            released += result.modified_count
        self._next_release.settle(version, later, complete=True, now=now)
        return released

    @staticmethod
    def _visible(recipients: list[str]) -> dict[str, Any]:
        # "not held" rather than "held: False": the embedded engine plans every equality on
        # an indexed field by reading that value's whole index entry (nearly every stored
        # notification); the inbox key alone narrows the read to the reader's own.
        return {"recipient_id": {"$in": recipients}, "held": {"$ne": True}}

    def page(self, recipients: list[str], reader: str, skip: int, limit: int
             ) -> tuple[list[dict], int, bool, int]:
        """Newest first: (the page, the total, whether it is capped, the unread count)."""
        docs, total, capped = paging.read_capped(
            self.collection.find(self._visible(recipients)).sort("seq", -1), skip, limit)
        return docs, total, capped, self.unread_count(recipients, reader)

    def unread_count(self, recipients: list[str], reader: str) -> int:
        personal = [r for r in recipients if r == reader]
        shared = [r for r in recipients if r != reader]
        count = 0
        if personal:
            count += self.collection.count_documents(
                {"recipient_id": reader, "held": {"$ne": True}, "read": False})
        if shared:
            count += self.collection.count_documents(
                {"recipient_id": {"$in": shared}, "held": {"$ne": True},
                 "read_by": {"$ne": reader}})
        return count

    def since(self, recipients: list[str], after: int, limit: int) -> list[dict]:
        if self.sequencer.nothing_after(recipients, after):
            return []  # nothing new: answered from memory, no query
        return list(self.collection.find({"recipient_id": {"$in": recipients},
                                          "seq": {"$gt": after}})
                    .sort("seq", 1).limit(limit))

    def get_visible(self, recipients: list[str], notification_id: str) -> dict | None:
        return self.collection.find_one({"_id": notification_id, **self._visible(recipients)})

    def mark_read(self, doc: dict[str, Any], reader: str, now: datetime,
                  retention: timedelta) -> dict | None:
        if doc["shared"]:
            update = {"$addToSet": {"read_by": reader}}
            query = {"_id": doc["_id"]}
        else:
            expire_at = now + retention
            update = {"$set": {"read": True, "read_at": now, "expire_at": expire_at,
                               "expire_day": expire_day(expire_at)}}
            query = {"_id": doc["_id"], "recipient_id": reader, "read": False}
        self.collection.update_one(query, update)
        return self.collection.find_one({"_id": doc["_id"]})

    def mark_all_read(self, recipients: list[str], reader: str, now: datetime,
                      retention: timedelta) -> int:
        expire_at = now + retention
        marked = 0
        if reader in recipients:
            marked += self.collection.update_many(
                {"recipient_id": reader, "held": False, "read": False},
                {"$set": {"read": True, "read_at": now, "expire_at": expire_at,
                          "expire_day": expire_day(expire_at)}}).modified_count
        shared = [r for r in recipients if r != reader]
        if shared:
            marked += self.collection.update_many(
                {"recipient_id": {"$in": shared}, "held": False, "read_by": {"$ne": reader}},
                {"$addToSet": {"read_by": reader}}).modified_count
        return marked

    def delete_expired(self, days: list[str], now: datetime) -> int:
        return self.collection.delete_many(
            {"expire_day": {"$in": days}, "expire_at": {"$lte": now}}).deleted_count
