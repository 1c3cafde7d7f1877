"""The catalog's database: merchants, products and the reservation ledger (one per order)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from services.catalog.cells import MerchantCells
from services.catalog.domain import name_keys
from services.common import outbox

PRODUCT_NEAR_FIELDS = {"_id": 1, "merchant_id": 1, "name": 1, "sale_mode": 1, "price_fen": 1,
                       "price_per": 1, "unit": 1, "stock": 1, "origin": 1, "location": 1}


# On a MongoDB server other catalog processes may write too: bound the staleness.
MONGODB_CELL_TTL_SECONDS = 30.0


class CatalogStore:
    def __init__(self, db: Any):
        self.db = db
        self.merchants = db["merchants"]
        self.products = db["products"]
        # _id = order id: what the catalog decided and holds for each order.
        self.ledger = db["reservations"]
        shared_server = type(db).__module__.startswith("pymongo")
        self.merchant_cells = MerchantCells(
            self.merchants, MONGODB_CELL_TTL_SECONDS if shared_server else None)

    def ensure_indexes(self) -> None:
        self.merchants.create_index("owner_id")
        self.merchants.create_index("h3_cell")
        self.products.create_index("merchant_id")
        self.products.create_index("h3_cell")
        self.products.create_index("name_keys")
        outbox.ensure_outbox_index(self.ledger)
        self._backfill_name_keys()
        # The embedded engine builds its in-memory hash indexes on a collection's first query
        # (~3 s for 100k merchants, ~14 s for 200k products); pay that at start-up, before
        # the service takes requests, not on a resident's first search.
        for collection in (self.merchants, self.products, self.ledger):
            collection.find_one({"_id": "warm-up"})

    def _backfill_name_keys(self) -> None:
        # Products written before name search existed: one pass, recorded so that later
        # start-ups of a large catalog do not scan every product again.
        meta = self.db["meta"]
        if meta.find_one({"_id": "name_keys_backfilled"}) is not None:
            return
        for doc in list(self.products.find({"name_keys": {"$exists": False}}, {"name": 1})):
            self.products.update_one({"_id": doc["_id"]},
                                     {"$set": {"name_keys": name_keys(doc["name"])}})
        meta.update_one({"_id": "name_keys_backfilled"}, {"$set": {"done": True}}, upsert=True)

    def outbox_collections(self) -> list[Any]:
        return [self.ledger]

    # merchants

    def insert_merchant(self, doc: dict[str, Any]) -> None:
        self.merchants.insert_one(doc)
        self.merchant_cells.added(doc)

    def update_merchant(self, merchant_id: str, changes: dict[str, Any]) -> dict | None:
        before = self.get_merchant(merchant_id)
        if before is None:
            return None
        after = self.merchants.find_one_and_update(
            {"_id": merchant_id}, {"$set": changes}, return_document=ReturnDocument.AFTER)
        if after is None:
            return None
        if "location" in changes:
            # Goods are found where their shop is: they carry a copy of its place.
            self.products.update_many(
                {"merchant_id": merchant_id},
                {"$set": {"location": after["location"], "h3_cell": after["h3_cell"]}})
        self.merchant_cells.replaced(before, after)
        return after

    def get_merchant(self, merchant_id: str) -> dict[str, Any] | None:
        return self.merchants.find_one({"_id": merchant_id})

    def merchants_of(self, owner_id: str, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.merchants.find({"owner_id": owner_id}).sort("created_at", 1)
                    .limit(limit))

    def merchants_in_cells(self, cells: list[str]) -> list[dict[str, Any]]:
        """Merchants whose H3 cell is one of these (read-only documents, NEAR_FIELDS)."""
        return self.merchant_cells.get(cells)

    def merchant_names(self, merchant_ids: list[str]) -> dict[str, str]:
        docs = self.merchants.find({"_id": {"$in": merchant_ids}}, {"name": 1})
        return {d["_id"]: d["name"] for d in docs}

    # products

    def products_matching(self, cells: list[str], keys: list[str]) -> list[dict[str, Any]]:
        """Goods on sale in these cells whose name shares a search key with the query."""
        return list(self.products.find(
            {"h3_cell": {"$in": cells}, "name_keys": {"$in": keys}, "deleted": False,
             "available": True},
            PRODUCT_NEAR_FIELDS,
        ))

    def delete_product(self, product_id: str, by: str, now: datetime) -> dict[str, Any] | None:
        """Soft delete: the product leaves the shelf and every search; orders keep their lines."""
        return self.products.find_one_and_update(
            {"_id": product_id, "deleted": False},
            {"$set": {"deleted": True, "available": False, "deleted_at": now,
                      "deleted_by": by, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )

    def insert_product(self, doc: dict[str, Any]) -> None:
        self.products.insert_one(doc)

    def get_product(self, product_id: str) -> dict[str, Any] | None:
        return self.products.find_one({"_id": product_id})

    def products_of(self, merchant_id: str, skip: int, limit: int) -> tuple[list[dict], int]:
        query = {"merchant_id": merchant_id, "deleted": False}
        total = self.products.count_documents(query)
        docs = list(self.products.find(query).sort("created_at", 1).skip(skip).limit(limit))
        return docs, total

    def update_product(self, product_id: str, changes: dict[str, Any],
                       audit: dict[str, Any] | None) -> dict[str, Any] | None:
        update: dict[str, Any] = {"$set": changes}
        if audit is not None:
            # Kept in the product itself so the change and its record are one write.
            update["$push"] = {"stock_history": {"$each": [audit], "$slice": -200}}
        return self.products.find_one_and_update(
            {"_id": product_id, "deleted": False}, update, return_document=ReturnDocument.AFTER
        )

    def reserve(self, product_id: str, order_id: str, quantity: int,
                now: datetime) -> dict[str, Any] | None:
        """Take stock for an order: one guarded write, never below zero, never twice."""
        return self.products.find_one_and_update(
            {
                "_id": product_id,
                "stock": {"$gte": quantity},
                "reservations.order_id": {"$ne": order_id},
            },
            {
                "$inc": {"stock": -quantity},
                "$push": {"reservations": {"order_id": order_id, "quantity": quantity,
                                           "at": now}},
            },
            return_document=ReturnDocument.AFTER,
        )

    def holds(self, product_id: str, order_id: str) -> dict[str, Any] | None:
        """The product if it already holds a reservation for this order."""
        return self.products.find_one({"_id": product_id, "reservations.order_id": order_id})

    def release(self, product_id: str, order_id: str) -> bool:
        """Give an order's reserved stock back; a no-op if it holds none."""
        return self._end_reservation(product_id, order_id, "stock")

    def sell(self, product_id: str, order_id: str) -> bool:
        """Make an order's reservation a sale; a no-op if it holds none."""
        return self._end_reservation(product_id, order_id, "sold")

    def _end_reservation(self, product_id: str, order_id: str, counter: str) -> bool:
        """Drop the order's reservation and add its quantity to ``counter`` (back to the
        shelf: "stock"; sold: "sold") in one guarded write."""
        doc = self.holds(product_id, order_id)
        if doc is None:
            return False
        quantity = next(r["quantity"] for r in doc["reservations"] if r["order_id"] == order_id)
        result = self.products.update_one(
            {"_id": product_id, "reservations.order_id": order_id},
            {"$inc": {counter: quantity}, "$pull": {"reservations": {"order_id": order_id}}},
        )
        return result.modified_count == 1

    # the reservation ledger

    def open_ledger(self, order_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The order's ledger entry, created as 'reserving' if this is the first we hear."""
        return self.ledger.find_one_and_update(
            {"_id": order_id},
            {"$setOnInsert": {"status": "reserving", **fields}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )

    def move_ledger(self, order_id: str, from_statuses: list[str], to_status: str,
                    fields: dict[str, Any], events: list[dict]) -> dict[str, Any] | None:
        """Guarded status change of the ledger, recording its events in the same write."""
        update = outbox.outbox_update(events, {"$set": {"status": to_status, **fields}})
        return self.ledger.find_one_and_update(
            {"_id": order_id, "status": {"$in": from_statuses}},
            update,
            return_document=ReturnDocument.AFTER,
        )

    def close_ledger(self, order_id: str, to_status: str, fields: dict[str, Any]) -> dict | None:
        """Set a final status whatever it was, creating a tombstone if the order is unknown
        (a cancellation can overtake the order it cancels). Returns the entry before."""
        return self.ledger.find_one_and_update(
            {"_id": order_id},
            {"$set": {"status": to_status, **fields}},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
