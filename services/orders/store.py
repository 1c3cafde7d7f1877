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

    def overdue_confirmations(self, now: datetime, limit: int = 200) -> list[dict[str, Any]]:
        return list(self.orders.find({"status": "confirmed", "accept_by": {"$lte": now}})
                    .limit(limit))
