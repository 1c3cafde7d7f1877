"""The orders database: one document per order, carrying its own outbox.

Costs stay flat in stored orders (docs/architecture.md, "Flat in stored data"):
- the acceptance timer finds due orders by their due minute (``accept_due_minute``, set while
  an order is confirmed, cleared when it leaves that state): an equality lookup on an index
  that both a MongoDB server and the embedded engine (hash indexes only) answer without
  reading other orders;
- lists read by a key whose matches are few (a resident's orders, an active status) or, for
  a shop's orders and terminal statuses, through widening windows of creation time (the
  last two hours, days, a week, two months, a year; indexed hour/day/month buckets): a page
  reads only the window that holds it; totals are exact up to TOTAL_CAP, then "at least
  TOTAL_CAP" (``total_capped``), so no count reads the whole history;
- the metrics count only the live (active) statuses; terminal ones are counted as
  transitions (metrics.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common import idempotency, outbox, paging
from services.common.windows import by_few, newest_page
from services.orders.records import created_buckets, due_minute


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
        # The refund timer's key: its "refund_pending" entry holds only the open refunds.
        self.orders.create_index("payment.status")
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

        Each filter reads by a key whose matches are few, never all of history:
        - a resident's own orders by ``resident_id`` (a person's orders are few; the status,
          if any, is checked on those, so the index of every order with that status is not
          read);
        - an active status (pending .. out_for_delivery: the live orders) by that status;
        - anything else (a shop's orders, a terminal status, everything) through widening
          windows of creation time until one holds the page and TOTAL_CAP more; a shop's last
          window is all of its own orders, an admin's is the last 13 months."""
        if "resident_id" in query:
            rest = {k: v for k, v in query.items() if k != "resident_id"}
            return by_few(self.orders, {"resident_id": query["resident_id"]}, rest,
                          "created_at", skip, limit)
        if query.get("status") in ACTIVE_STATUSES:
            return paging.read_capped(self.orders.find(query).sort("created_at", -1),
                                      skip, limit)
        return newest_page(self.orders, query, "created", "created_at", skip, limit, now,
                           owner_wide="merchant_owner_id" in query)

    def count_with_status(self, status: str) -> int:
        """Orders in an active status (a bounded set: the live orders). Terminal statuses
        are counted as transitions instead (metrics.py), never by a count over history."""
        if status not in ACTIVE_STATUSES:
            raise ValueError(f"{status} orders are history: count transitions, not documents")
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
        """Open refunds that are due, found by the payment status (a bounded set: refunds
        under way): a range on ``refund_due_at`` alone is a scan of every order on the
        embedded engine. Only a refund_pending payment has a due time."""
        return [doc["_id"] for doc in self.orders.find(
            {"payment.status": "refund_pending", "payment.refund_due_at": {"$lte": now}},
            {"_id": 1}).limit(limit)]


# Orders still under way: a bounded set, read and counted by status directly.
ACTIVE_STATUSES = frozenset({"pending", "confirmed", "accepted", "out_for_delivery"})
TOTAL_CAP = paging.TOTAL_CAP
DUE_LOOKBACK_MINUTES = 60
SWEEP_SECONDS = 3600.0
