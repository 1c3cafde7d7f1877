"""The orders database: one document per order, carrying its own outbox.

Costs stay flat in stored orders (docs/architecture.md, "Flat in stored data"):
- the acceptance timer finds due orders by their due minute (``accept_due_minute``, set while
  an order is confirmed, cleared when it leaves that state): an equality lookup on an index
  that both a MongoDB server and the embedded engine (hash indexes only) answer without
  reading other orders;
- lists read the newest orders first through widening windows of creation time (the last two
  hours, days, a week, two months, a year; indexed hour/day/month buckets): a page reads
  only the window that holds it; totals are exact up to TOTAL_CAP, then "at least TOTAL_CAP"
  (``total_capped``), so no count reads the whole history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common import idempotency, outbox
from services.orders.records import created_buckets, day_of, due_minute, hour_of, month_of


class OrdersStore:
    def __init__(self, db: Any):
        self.db = db
        self.orders = db["orders"]
        self._next_sweep = 0.0  # when the timer next looks at every confirmed order

    def ensure_indexes(self) -> None:
        idempotency.ensure_key_index(self.orders, "resident_id")
        self.orders.create_index("resident_id")
        self.orders.create_index("merchant_owner_id")
        self.orders.create_index("status")
        for bucket in ("created_hour", "created_day", "created_month"):
            self.orders.create_index(bucket)
        self.orders.create_index("accept_due_minute")
        # A MongoDB server orders and ranges with these; the embedded engine ignores order.
        self.orders.create_index([("accept_due_at", 1)])
        self.orders.create_index([("merchant_owner_id", 1), ("status", 1), ("created_at", -1)])
        self.orders.create_index([("resident_id", 1), ("created_at", -1)])
        self.orders.create_index([("status", 1), ("created_at", -1)])
        self.orders.create_index("payment.reference")
        self.orders.create_index("payment.refund_due_at")
        outbox.ensure_outbox_index(self.orders)
        self._backfill()

    def _backfill(self) -> None:
        """Orders stored before the due and hour fields existed: one pass, recorded."""
        meta = self.db["meta"]
        if meta.find_one({"_id": "due_and_hour_backfilled"}) is not None:
            return
        for doc in list(self.orders.find({"created_hour": {"$exists": False}},
                                         {"created_at": 1, "status": 1, "accept_by": 1})):
            if doc.get("created_at") is None:
                continue  # not an order this service wrote (nothing to file by time)
            fields = created_buckets(doc["created_at"])
            if doc.get("status") == "confirmed" and doc.get("accept_by"):
                fields |= {"accept_due_at": doc["accept_by"],
                           "accept_due_minute": due_minute(doc["accept_by"])}
            self.orders.update_one({"_id": doc["_id"]}, {"$set": fields})
        meta.update_one({"_id": "due_and_hour_backfilled"}, {"$set": {"done": True}},
                        upsert=True)

    def outbox_collections(self) -> list[Any]:
        return [self.orders]

    def insert_new(self, doc: dict[str, Any], events: list[dict]) -> dict[str, Any] | None:
        """Insert the order with its events (returned as stored, outbox included); None if
        its idempotency key is taken."""
        stored = outbox.with_outbox(doc, events)
        try:
            self.orders.insert_one(stored)
        except DuplicateKeyError:
            return None
        return stored

    def by_idempotency_key(self, sub: str, key: str) -> dict[str, Any] | None:
        return self.orders.find_one(idempotency.key_fields(sub, key))

    def get(self, order_id: str) -> dict[str, Any] | None:
        return self.orders.find_one({"_id": order_id})

    def move(self, order_id: str, from_statuses: frozenset[str] | set[str],
             fields: dict[str, Any], history: dict[str, Any],
             events: list[dict]) -> dict[str, Any] | None:
        """Change status only if it is still one of ``from_statuses``: one guarded write with
        the history entry and the events. None if someone else moved it first."""
        update = outbox.outbox_update(events, {"$set": fields, "$push": {"history": history}})
        return self.orders.find_one_and_update(
            {"_id": order_id, "status": {"$in": sorted(from_statuses)}},
            update,
            return_document=ReturnDocument.AFTER,
        )

    def page(self, query: dict[str, Any], skip: int, limit: int,
             now: datetime) -> tuple[list[dict], int, bool]:
        """Newest first: (the page, the total, whether the total is capped at TOTAL_CAP).
        Widens the window of creation time until it holds the page and TOTAL_CAP matches, or
        all of history (then the list is short and the total exact)."""
        wanted = max(skip + limit, TOTAL_CAP)
        for window in windows(now):
            docs = list(self.orders.find({**query, **window}).sort("created_at", -1))
            if window and len(docs) >= wanted:
                return docs[skip:skip + limit], TOTAL_CAP, True  # at least that many
        return docs[skip:skip + limit], min(len(docs), TOTAL_CAP), len(docs) > TOTAL_CAP

    def count_with_status(self, status: str) -> int:
        return self.orders.count_documents({"status": status})

    def overdue_confirmations(self, now: datetime, limit: int = 200) -> list[dict[str, Any]]:
        """Confirmed orders whose accept-by time has passed, found by their due minute (the
        last DUE_LOOKBACK_MINUTES). Once at start-up and then hourly, every confirmed order is
        looked at too: one that fell due while the service was down longer than that, or
        whose move failed for an hour, is not left behind."""
        if now.timestamp() >= self._next_sweep:
            self._next_sweep = now.timestamp() + SWEEP_SECONDS
            return list(self.orders.find({"status": "confirmed", "accept_by": {"$lte": now}})
                        .limit(limit))
        minute = due_minute(now)
        return list(self.orders.find({
            "accept_due_minute": {"$in": list(range(minute - DUE_LOOKBACK_MINUTES,
                                                    minute + 1))},
            "accept_due_at": {"$lte": now}}).limit(limit))


    # payments (docs/payments.md): each change one guarded write on the order

    def by_payment_reference(self, reference: str) -> dict[str, Any] | None:
        return self.orders.find_one({"payment.reference": reference})

    def update_payment(self, order_id: str, guard: dict[str, Any], fields: dict[str, Any],
                       history: list[dict[str, Any]], events: list[dict], now: datetime,
                       callback_id: str | None = None) -> dict[str, Any] | None:
        """Set payment ``fields`` only if the order still matches ``guard``, with the payment
        history entries, the events and (for a provider callback) its id, in one write. None
        if the guard no longer holds."""
        push: dict[str, Any] = {"payment.history": {"$each": history}}
        query = {"_id": order_id, **guard}
        if callback_id is not None:
            push["payment.callbacks"] = callback_id
            query["payment.callbacks"] = {"$ne": callback_id}
        update = outbox.outbox_update(events, {
            "$set": {**{f"payment.{k}": v for k, v in fields.items()},
                     "updated_at": now},
            "$push": push})
        return self.orders.find_one_and_update(query, update,
                                               return_document=ReturnDocument.AFTER)

    def claim_refund(self, order_id: str, now: datetime,
                     until: datetime) -> dict[str, Any] | None:
        """Take a due refund for this worker until ``until`` (so two never ask at once)."""
        return self.orders.find_one_and_update(
            {"_id": order_id, "payment.status": "refund_pending",
             "payment.refund_due_at": {"$lte": now}},
            {"$set": {"payment.refund_due_at": until}},
            return_document=ReturnDocument.AFTER)

    def refund_failed(self, order_id: str, attempts: int, retry_at: datetime,
                      error: str) -> None:
        self.orders.update_one(
            {"_id": order_id, "payment.status": "refund_pending"},
            {"$set": {"payment.refund_attempts": attempts, "payment.refund_due_at": retry_at,
                      "payment.last_error": error}})

    def due_refunds(self, now: datetime, limit: int = 200) -> list[str]:
        return [doc["_id"] for doc in self.orders.find(
            {"payment.refund_due_at": {"$lte": now}}, {"_id": 1}).limit(limit)]


def windows(now: datetime) -> list[dict[str, Any]]:
    """Filters for the windows a list reads, newest first; the last one is all of history.
    Each names a few buckets only, so a window costs what it holds, not what is stored."""
    hour, day, month = hour_of(now), day_of(now), month_of(now)
    return [{"created_hour": {"$in": [hour - 1, hour]}},
            {"created_day": {"$in": [day - 1, day]}},
            {"created_day": {"$in": list(range(day - 7, day + 1))}},
            {"created_month": {"$in": [month - 1, month]}},
            {"created_month": {"$in": list(range(month - 12, month + 1))}},
            {}]


TOTAL_CAP = 100  # a total beyond this is shown as 100 with total_capped ("100+")
DUE_LOOKBACK_MINUTES = 60
SWEEP_SECONDS = 3600.0
