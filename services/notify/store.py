"""The notify database: inboxes, preferences, webhooks, deliveries and notices.

Queries are shaped for both engines: the embedded store narrows a query only through
equality or ``$in`` on an indexed field (ranges scan the whole collection), so every hot
query starts from such a field (recipient, status, held, day bucket) and MongoDB uses the
same indexes.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError


class NextDue:
    """The earliest time something (held notifications, pending deliveries) becomes due, so
    the once-a-second timer skips its query while nothing is due — e.g. a night of messages
    held until 07:00. Unknown after start-up or when a scan raced a new entry: then scan."""

    def __init__(self) -> None:
        self.known = False
        self.at: datetime | None = None
        self.version = 0

    def note(self, at: datetime | None) -> None:
        self.version += 1
        if at is not None and self.known and (self.at is None or at < self.at):
            self.at = at

    def nothing_due(self, now: datetime) -> bool:
        return self.known and (self.at is None or self.at > now)

    def settle(self, version: int, at: datetime | None, complete: bool) -> None:
        """After a scan that started at ``version``: remember the earliest later time."""
        self.known = complete and version == self.version
        self.at = at if self.known else None


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b < a) else a


class NotifyStore:
    def __init__(self, db: Any):
        self.db = db
        self.notifications = db["notifications"]
        self.deliveries = db["deliveries"]
        self.preferences = db["preferences"]
        self.webhooks = db["webhooks"]
        self.notices = db["notices"]
        # Visible notifications are numbered in the order they became visible. One notify
        # process owns the numbering (see docs/notifications.md, "Live updates").
        self._seq_lock = threading.Lock()
        self._seq = 0
        self._floor = 0  # every notification with seq <= floor existed at start-up
        self._latest: dict[str, int] = {}  # recipient -> highest seq made visible since
        self.last_sweep: datetime | None = None  # when expired notifications were last deleted
        self._next_release = NextDue()
        self._next_due = NextDue()

    def ensure_indexes(self) -> None:
        self.notifications.create_index("recipient_id")
        self.notifications.create_index("held")
        self.notifications.create_index("expire_day")
        self.notifications.create_index("seq")
        self.deliveries.create_index("status")
        self.deliveries.create_index("recipient_id")
        self.preferences.create_index("home_cell")
        self.preferences.create_index("community")
        self.webhooks.create_index("owner_id")
        self.notices.create_index("active")
        self.notices.create_index("fanout_pending")
        self.notices.create_index("idempotency_key", unique=True, sparse=True)
        # Inbox pages and streams sort by seq; timers find due items by status and time.
        self.notifications.create_index([("recipient_id", 1), ("held", 1), ("seq", -1)])
        self.notifications.create_index([("recipient_id", 1), ("seq", 1)])
        self.notifications.create_index([("expire_day", 1), ("expire_at", 1)])
        self.deliveries.create_index([("status", 1), ("next_attempt_at", 1)])
        self.deliveries.create_index([("status", 1), ("updated_at", -1)])
        self.webhooks.create_index([("owner_id", 1), ("created_at", 1)])
        top = list(self.notifications.find({"seq": {"$ne": None}}, {"seq": 1})
                   .sort("seq", -1).limit(1))
        self._seq = self._floor = top[0]["seq"] if top else 0
        self._upgrade_first_version()

    def _upgrade_first_version(self) -> None:
        """Notifications stored by the first version (one title/body, no seq) get the
        fields this version reads, oldest first, once."""
        old = list(self.notifications.find({"texts": {"$exists": False}})
                   .sort("created_at", 1))
        for doc in old:
            text = {"title": doc.get("title", ""), "body": doc.get("body", "")}
            self._seq += 1
            self.notifications.update_one({"_id": doc["_id"]}, {"$set": {
                "texts": {"zh-CN": text, "en": text}, "shared": False, "urgent": False,
                "read_by": [], "held": False, "release_at": None, "seq": self._seq,
                "expire_at": None, "expire_day": None}})
        self._floor = self._seq

    def outbox_collections(self) -> list[Any]:
        return []

    # sequence numbers (the live-stream cursor)

    def _next_seq(self, recipient_id: str) -> int:
        with self._seq_lock:
            self._seq += 1
            self._latest[recipient_id] = self._seq
            return self._seq

    def current_seq(self) -> int:
        return self._seq

    # inbox

    def add_notification(self, doc: dict[str, Any]) -> bool:
        """Store a notification; False if it exists (its id derives from event and person)."""
        if self.notifications.find_one({"_id": doc["_id"]}, {"_id": 1}) is not None:
            return False
        if not doc["held"]:
            doc = {**doc, "seq": self._next_seq(doc["recipient_id"])}
        try:
            self.notifications.insert_one(doc)
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
        for doc in list(self.notifications.find({"held": True}, {"release_at": 1,
                                                                  "recipient_id": 1})):
            if doc["release_at"] > now or released >= limit:
                later = _min(later, doc["release_at"])
                continue
            result = self.notifications.update_one(
                {"_id": doc["_id"], "held": True},
                {"$set": {"held": False, "seq": self._next_seq(doc["recipient_id"])}})
            released += result.modified_count
        self._next_release.settle(version, later, complete=True)
        return released

    def _visible(self, recipients: list[str]) -> dict[str, Any]:
        return {"recipient_id": {"$in": recipients}, "held": False}

    def page(self, recipients: list[str], reader: str, skip: int, limit: int
             ) -> tuple[list[dict], int, int]:
        query = self._visible(recipients)
        total = self.notifications.count_documents(query)
        docs = list(self.notifications.find(query).sort("seq", -1).skip(skip).limit(limit))
        return docs, total, self.unread_count(recipients, reader)

    def unread_count(self, recipients: list[str], reader: str) -> int:
        personal = [r for r in recipients if r == reader]
        shared = [r for r in recipients if r != reader]
        count = 0
        if personal:
            count += self.notifications.count_documents(
                {"recipient_id": reader, "held": False, "read": False})
        if shared:
            count += self.notifications.count_documents(
                {"recipient_id": {"$in": shared}, "held": False, "read_by": {"$ne": reader}})
        return count

    def since(self, recipients: list[str], after: int, limit: int) -> list[dict]:
        # A recipient this process has not numbered since start-up has nothing above floor.
        bound = max(self._latest.get(r, self._floor) for r in recipients)
        if bound <= after:
            return []  # nothing new: answered from memory, no query
        return list(self.notifications.find({"recipient_id": {"$in": recipients},
                                             "seq": {"$gt": after}})
                    .sort("seq", 1).limit(limit))

    def get_visible(self, recipients: list[str], notification_id: str) -> dict | None:
        return self.notifications.find_one({"_id": notification_id, **self._visible(recipients)})

    def mark_read(self, doc: dict[str, Any], reader: str, now: datetime,
                  retention: timedelta) -> dict | None:
        if doc["shared"]:
            update = {"$addToSet": {"read_by": reader}}
            query = {"_id": doc["_id"]}
        else:
            expire_at = now + retention
            update = {"$set": {"read": True, "read_at": now, "expire_at": expire_at,
                               "expire_day": expire_at.strftime("%Y-%m-%d")}}
            query = {"_id": doc["_id"], "recipient_id": reader, "read": False}
        self.notifications.update_one(query, update)
        return self.notifications.find_one({"_id": doc["_id"]})

    def mark_all_read(self, recipients: list[str], reader: str, now: datetime,
                      retention: timedelta) -> int:
        expire_at = now + retention
        marked = 0
        if reader in recipients:
            marked += self.notifications.update_many(
                {"recipient_id": reader, "held": False, "read": False},
                {"$set": {"read": True, "read_at": now, "expire_at": expire_at,
                          "expire_day": expire_at.strftime("%Y-%m-%d")}}).modified_count
        shared = [r for r in recipients if r != reader]
        if shared:
            marked += self.notifications.update_many(
                {"recipient_id": {"$in": shared}, "held": False, "read_by": {"$ne": reader}},
                {"$addToSet": {"read_by": reader}}).modified_count
        return marked

    def delete_expired(self, days: list[str], now: datetime) -> int:
        return self.notifications.delete_many(
            {"expire_day": {"$in": days}, "expire_at": {"$lte": now}}).deleted_count

    # preferences and webhooks

    def get_preferences(self, sub: str) -> dict | None:
        return self.preferences.find_one({"_id": sub})

    def put_preferences(self, sub: str, fields: dict[str, Any]) -> dict:
        return self.preferences.find_one_and_update(
            {"_id": sub}, {"$set": fields}, upsert=True, return_document=ReturnDocument.AFTER)

    def homes_in_cells(self, cells: list[str]) -> list[dict]:
        return list(self.preferences.find({"home_cell": {"$in": cells}}))

    def homes_in_communities(self, communities: list[str]) -> list[dict]:
        return list(self.preferences.find({"community": {"$in": communities}}))

    def add_webhook(self, doc: dict[str, Any]) -> None:
        self.webhooks.insert_one(doc)

    def webhooks_of(self, owner_id: str) -> list[dict]:
        return list(self.webhooks.find({"owner_id": owner_id}).sort("created_at", 1))

    def get_webhook(self, webhook_id: str) -> dict | None:
        return self.webhooks.find_one({"_id": webhook_id})

    def delete_webhook(self, owner_id: str, webhook_id: str) -> bool:
        return self.webhooks.delete_one({"_id": webhook_id, "owner_id": owner_id}
                                        ).deleted_count == 1

    # deliveries

    def add_delivery(self, doc: dict[str, Any]) -> bool:
        try:
            self.deliveries.insert_one(doc)
        except DuplicateKeyError:
            return False
        self._next_due.note(doc["next_attempt_at"])
        return True

    def due_deliveries(self, now: datetime, limit: int) -> list[dict]:
        if self._next_due.nothing_due(now):
            return []
        version = self._next_due.version
        due, later = [], None
        for doc in self.deliveries.find({"status": "pending"}, {"next_attempt_at": 1}):
            if doc["next_attempt_at"] <= now and len(due) < limit:
                due.append(doc)
            else:
                later = _min(later, doc["next_attempt_at"])
        # What is returned is either sent or rescheduled (record_attempt notes the new time).
        self._next_due.settle(version, later, complete=len(due) < limit)
        return due

    def claim(self, delivery_id: str, now: datetime, lease: timedelta) -> dict | None:
        """Take a due delivery for sending; None if another worker took it first."""
        return self.deliveries.find_one_and_update(
            {"_id": delivery_id, "status": "pending", "next_attempt_at": {"$lte": now}},
            {"$set": {"status": "sending", "lease_until": now + lease}},
            return_document=ReturnDocument.AFTER)

    def recover_stale(self, now: datetime) -> int:
        """A sender that died mid-send left its delivery claimed: make it due again."""
        recovered = 0
        for doc in self.deliveries.find({"status": "sending"}, {"lease_until": 1}):
            if doc["lease_until"] and doc["lease_until"] <= now:
                recovered += self.deliveries.update_one(
                    {"_id": doc["_id"], "status": "sending"},
                    {"$set": {"status": "pending", "next_attempt_at": now}}).modified_count
        if recovered:
            self._next_due.note(now)
        return recovered

    def record_attempt(self, delivery_id: str, update: dict[str, Any]) -> dict | None:
        self._next_due.note(update["$set"].get("next_attempt_at"))
        return self.deliveries.find_one_and_update(
            {"_id": delivery_id, "status": "sending"}, update,
            return_document=ReturnDocument.AFTER)

    def deliveries_page(self, query: dict[str, Any], skip: int, limit: int
                        ) -> tuple[list[dict], int]:
        total = self.deliveries.count_documents(query)
        docs = list(self.deliveries.find(query).sort("updated_at", -1).skip(skip).limit(limit))
        return docs, total

    def get_delivery(self, delivery_id: str) -> dict | None:
        return self.deliveries.find_one({"_id": delivery_id})

    def retry_failed(self, delivery_id: str, now: datetime) -> dict | None:
        self._next_due.note(now)
        return self.deliveries.find_one_and_update(
            {"_id": delivery_id, "status": "failed"},
            {"$set": {"status": "pending", "next_attempt_at": now, "attempt_count": 0,
                      "updated_at": now}},
            return_document=ReturnDocument.AFTER)

    # notices

    def add_notice(self, doc: dict[str, Any]) -> bool:
        """False if a notice with this Idempotency-Key exists already."""
        try:
            self.notices.insert_one({**doc, "active": True})
        except DuplicateKeyError:
            return False
        return True

    def notice_by_key(self, key: str) -> dict[str, Any] | None:
        return self.notices.find_one({"idempotency_key": key}, {"audience_ids": 0})

    def advance_fanout(self, notice_id: str, done: int, finished: bool) -> None:
        self.notices.update_one({"_id": notice_id}, {"$set": {
            "fanout_done": done, "fanout_pending": not finished}})

    def unfinished_fanouts(self, limit: int = 10) -> list[dict]:
        return list(self.notices.find({"fanout_pending": True}).limit(limit))

    def active_notices(self, limit: int = 1000) -> list[dict]:
        return list(self.notices.find({"active": True}, {"audience_ids": 0})
                    .sort("created_at", -1).limit(limit))

    def retire_notices(self, now: datetime) -> int:
        retired = 0
        for doc in self.notices.find({"active": True}, {"expires_at": 1}):
            if doc.get("expires_at") and doc["expires_at"] <= now:
                retired += self.notices.update_one(
                    {"_id": doc["_id"]}, {"$set": {"active": False}}).modified_count
        return retired
