"""The orders database: one document per order, carrying its own outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common import idempotency, outbox


class OrdersStore:
    def __init__(self, db: Any):
        self.db = db
        self.orders = db["orders"]

    def ensure_indexes(self) -> None:
        idempotency.ensure_key_index(self.orders, "resident_id")
        self.orders.create_index("resident_id")
        self.orders.create_index("merchant_owner_id")
        self.orders.create_index("status")
        # Pages: a resident's or a merchant's orders, newest first.
        self.orders.create_index([("resident_id", 1), ("created_at", -1)])
        self.orders.create_index([("merchant_owner_id", 1), ("created_at", -1)])
        # The acceptance timer: confirmed orders by due time.
        self.orders.create_index([("status", 1), ("accept_by", 1)])
        self.orders.create_index("payment.reference")
        self.orders.create_index("payment.refund_due_at")
        outbox.ensure_outbox_index(self.orders)

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

    def page(self, query: dict[str, Any], skip: int, limit: int) -> tuple[list[dict], int]:
        total = self.orders.count_documents(query)
        docs = list(self.orders.find(query).sort("created_at", -1).skip(skip).limit(limit))
        return docs, total

    def count_with_status(self, status: str) -> int:
        return self.orders.count_documents({"status": status})

    def overdue_confirmations(self, now: datetime, limit: int = 200) -> list[dict[str, Any]]:
        return list(self.orders.find({"status": "confirmed", "accept_by": {"$lte": now}})
                    .limit(limit))

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
