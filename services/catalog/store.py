"""The catalog's database: merchants, products and the reservation ledger (one per order)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

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
        # A shop's goods page: its products on sale, oldest first.
        self.products.create_index([("merchant_id", 1), ("deleted", 1), ("created_at", 1)])
        outbox.ensure_outbox_index(self.ledger)
        self._backfill_name_keys()
        self._migrate_reservation_lists()
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

    def _migrate_reservation_lists(self) -> None:
        # Products written before the counters kept a list of their open reservations. Each
        # becomes a recorded hold in its order's ledger, then the product gets the counter.
        # Safe to repeat after a crash: the ledger writes are $set, the product write is
        # guarded by the list still being there.
        meta = self.db["meta"]
        if meta.find_one({"_id": "reservation_lists_migrated"}) is not None:
            return
        for doc in list(self.products.find({"reservations": {"$exists": True}},
                                           {"reservations": 1})):
            listed = doc["reservations"] or []
            for r in listed:
                self.ledger.update_one({"_id": r["order_id"]},
                                       {"$set": {f"held.{doc['_id']}": r["quantity"]}})
            self.products.update_one(
                {"_id": doc["_id"], "reservations": {"$exists": True}},
                {"$set": {"reserved": sum(r["quantity"] for r in listed), "inflight": []},
                 "$unset": {"reservations": ""}})
        meta.update_one({"_id": "reservation_lists_migrated"}, {"$set": {"done": True}},
                        upsert=True)

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

    # Stock counters. A product holds three counters (stock on the shelf, reserved, sold)
    # and ``inflight``: the ids of the operations applied to it whose order ledger has not
    # recorded them yet (a few at a time: bounded by concurrency, not by open orders). See
    # reservations.py and docs/architecture.md ("Reservations") for the protocol.

    def take(self, product_id: str, op: str, quantity: int) -> bool:
        """Move ``quantity`` from the shelf to reserved and mark ``op`` in flight: one guarded
        write, never below zero, never twice while the mark is there."""
        result = self.products.update_one(
            {"_id": product_id, "stock": {"$gte": quantity}, "inflight": {"$ne": op}},
            {"$inc": {"stock": -quantity, "reserved": quantity}, "$push": {"inflight": op}},
        )
        return result.modified_count == 1

    def untake(self, product_id: str, op: str, quantity: int) -> bool:
        """Undo a ``take`` the ledger never recorded: only while its mark is there."""
        result = self.products.update_one(
            {"_id": product_id, "inflight": op},
            {"$inc": {"stock": quantity, "reserved": -quantity}, "$pull": {"inflight": op}},
        )
        return result.modified_count == 1

    def end_hold(self, product_id: str, op: str, quantity: int, counter: str) -> bool:
        """Move a recorded reservation to ``counter`` ("stock": back on the shelf, "sold")
        and mark ``op`` in flight; a no-op while the mark is there (applied already)."""
        result = self.products.update_one(
            {"_id": product_id, "reserved": {"$gte": quantity}, "inflight": {"$ne": op}},
            {"$inc": {"reserved": -quantity, counter: quantity}, "$push": {"inflight": op}},
        )
        return result.modified_count == 1

    def settle(self, product_id: str, op: str) -> None:
        """Drop the mark of an operation the ledger has recorded."""
        self.products.update_one({"_id": product_id, "inflight": op},
                                 {"$pull": {"inflight": op}})

    # the reservation ledger

    def ledger_entry(self, order_id: str) -> dict[str, Any] | None:
        return self.ledger.find_one({"_id": order_id})

    def decide(self, order_id: str, to_status: str, fields: dict[str, Any],
               events: list[dict], now: datetime) -> dict[str, Any] | None:
        """Record the answer to an order (its held lines, its events) if it is still being
        reserved, creating the entry if this is the first write. Returns what was written
        (the outbox holding just these events: only this write adds events to an entry), or
        None if a cancellation got there first."""
        update = outbox.outbox_update(
            events, {"$set": {"status": to_status, **fields}, "$setOnInsert": {"created_at": now}})
        try:
            # update_one, not find_one_and_update: the embedded engine reads the document
            # three times for the latter, and everything to return is at hand.
            self.ledger.update_one({"_id": order_id, "status": "reserving"}, update, upsert=True)
        except DuplicateKeyError:
            return None  # the entry exists with another status: closed meanwhile
        return {"_id": order_id, "status": to_status, **fields, outbox.OUTBOX: list(events)}

    def clear_held(self, order_id: str) -> None:
        """The order's reservations have ended (released or sold): nothing is held."""
        self.ledger.update_one({"_id": order_id}, {"$set": {"held": {}}})

    def close_ledger(self, order_id: str, to_status: str, fields: dict[str, Any]) -> dict | None:
        """Set a final status whatever it was, creating a tombstone if the order is unknown
        (a cancellation can overtake the order it cancels). Returns the entry before."""
        return self.ledger.find_one_and_update(
            {"_id": order_id},
            {"$set": {"status": to_status, **fields}},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
