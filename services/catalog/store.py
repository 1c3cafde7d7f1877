"""The catalog's database: merchants, products and the reservation ledger (one per order)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.catalog.cells import MerchantCells
from services.catalog.domain import name_keys
from services.common import outbox, paging

PRODUCT_NEAR_FIELDS = {"_id": 1, "merchant_id": 1, "name": 1, "sale_mode": 1, "price_fen": 1,
                       "price_per": 1, "unit": 1, "stock": 1, "origin": 1, "location": 1}


# On a MongoDB server other catalog processes may write too: bound the staleness.
MONGODB_CELL_TTL_SECONDS = 30.0


class CatalogStore:
    def __init__(self, db: Any, announce: Callable[[dict[str, Any]], None] | None = None):
        self.db = db
        self.announce = announce  # tells the other replicas (broadcast.Announcer)
        self.merchants = db["merchants"]
        self.products = db["products"]
        # _id = order id: what the catalog decided and holds for each order.
        self.ledger = db["reservations"]
        # _id = "order:<id>" or "weighing:<id>": which replica is handling it now
        # (services/common/leases.py). Apart from the ledger, whose entries' existence and
        # status carry the reservation protocol's meaning (a tombstone, "reserving").
        self.leases = db["leases"]
        # The wet market (docs/market.md): markets, stall devices, goods batches, weighings
        # (each one a sale with its receipt) and residents' flags on receipts.
        self.markets = db["markets"]
        self.devices = db["devices"]
        self.batches = db["batches"]
        self.weighings = db["weighings"]
        self.receipt_flags = db["receipt_flags"]
        # Recycling points: posted rates, residents' drop-off codes, the boxes' drop-offs.
        self.recycling_rates = db["recycling_rates"]
        self.drop_off_codes = db["drop_off_codes"]
        self.drop_offs = db["drop_offs"]
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
        outbox.ensure_outbox_index(self.merchants)
        outbox.ensure_outbox_index(self.products)
        self._ensure_market_indexes()
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
        # merchants and products carry their change events (product_changed, ...); receipt
        # flags their receipt_flagged
        return [self.ledger, self.merchants, self.products, self.receipt_flags]

    # merchants

    def insert_merchant(self, doc: dict[str, Any], events: list[dict] = ()) -> None:
        self.merchants.insert_one(outbox.with_outbox(doc, list(events)))
        self.merchant_cells.added(doc)
        self._changed_cells([doc["h3_cell"]])

    def update_merchant(self, merchant_id: str, changes: dict[str, Any],
                        events: list[dict] = ()) -> dict | None:
        before = self.get_merchant(merchant_id)
        if before is None:
            return None
        after = self.merchants.find_one_and_update(
            {"_id": merchant_id}, outbox.outbox_update(list(events), {"$set": changes}),
            return_document=ReturnDocument.AFTER)
        if after is None:
            return None
        if "location" in changes:
            # Goods are found where their shop is: they carry a copy of its place.
            self.products.update_many(
                {"merchant_id": merchant_id},
                {"$set": {"location": after["location"], "h3_cell": after["h3_cell"]}})
        self.merchant_cells.replaced(before, after)
        self._changed_cells(sorted({before["h3_cell"], after["h3_cell"]}))
        return after

    def _changed_cells(self, cells: list[str]) -> None:
        if self.announce is not None:
            self.announce({"cells": cells})

    def heard_change(self, announcement: dict[str, Any]) -> None:
        """A replica changed merchants in these cells: drop this replica's copies of them
        (unless it was this one's own write, which kept them current)."""
        if self.announce is None or self.announce.from_other_replica(announcement):
            self.merchant_cells.forget(announcement["cells"])

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

    def delete_product(self, product_id: str, by: str, now: datetime,
                       events: list[dict] = ()) -> dict[str, Any] | None:
        """Soft delete: the product leaves the shelf and every search; orders keep their lines."""
        return self.products.find_one_and_update(
            {"_id": product_id, "deleted": False},
            outbox.outbox_update(list(events), {"$set": {
                "deleted": True, "available": False, "deleted_at": now, "deleted_by": by,
                "updated_at": now}}),
            return_document=ReturnDocument.AFTER,
        )

    def insert_product(self, doc: dict[str, Any], events: list[dict] = ()) -> None:
        self.products.insert_one(outbox.with_outbox(doc, list(events)))

    def get_product(self, product_id: str) -> dict[str, Any] | None:
        return self.products.find_one({"_id": product_id})

    def products_of(self, merchant_id: str, skip: int, limit: int
                    ) -> tuple[list[dict], int, bool]:
        """A shop's goods, oldest first; total capped (services/common/paging.py). "Not
        deleted" rather than "deleted: False", so the embedded engine reads the shop's own
        products by its key, not the index entry of every live product in the city."""
        query = {"merchant_id": merchant_id, "deleted": {"$ne": True}}
        return paging.read_capped(self.products.find(query).sort("created_at", 1), skip, limit)

    def update_product(self, product_id: str, changes: dict[str, Any],
                       audit: dict[str, Any] | None,
                       events: list[dict] = ()) -> dict[str, Any] | None:
        update: dict[str, Any] = {"$set": changes}
        if audit is not None:
            # Kept in the product itself so the change and its record are one write.
            update["$push"] = {"stock_history": {"$each": [audit], "$slice": -200}}
        return self.products.find_one_and_update(
            {"_id": product_id, "deleted": False}, outbox.outbox_update(list(events), update),
            return_document=ReturnDocument.AFTER
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

    # the wet market: markets, devices, batches, weighings and flags (docs/market.md)

    def _ensure_market_indexes(self) -> None:
        self.markets.create_index("stall_ids")
        self.markets.create_index("manager_id")
        self.devices.create_index("token_hash", unique=True)
        self.batches.create_index([("product_id", 1), ("code", 1)], unique=True)
        self.weighings.create_index("receipt_code", unique=True)
        self.weighings.create_index([("merchant_id", 1), ("day", 1)])
        outbox.ensure_outbox_index(self.receipt_flags)
        self.drop_offs.create_index([("merchant_id", 1), ("day", 1)])
        self.drop_offs.create_index("resident_id")

    def insert_market(self, doc: dict[str, Any]) -> None:
        self.markets.insert_one(doc)

    def get_market(self, market_id: str) -> dict[str, Any] | None:
        return self.markets.find_one({"_id": market_id})

    def markets_of(self, manager_id: str, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.markets.find({"manager_id": manager_id}).sort("created_at", 1)
                    .limit(limit))

    def market_of_stall(self, merchant_id: str) -> dict[str, Any] | None:
        return self.markets.find_one({"stall_ids": merchant_id})

    def add_stall(self, market_id: str, merchant_id: str, limit: int) -> dict[str, Any] | None:
        """Add a stall to a market that has room: None if it is full (or gone)."""
        return self.markets.find_one_and_update(
            {"_id": market_id, f"stall_ids.{limit - 1}": {"$exists": False}},
            {"$addToSet": {"stall_ids": merchant_id}}, return_document=ReturnDocument.AFTER)

    def insert_device(self, doc: dict[str, Any]) -> None:
        self.devices.insert_one(doc)

    def get_device(self, device_id: str) -> dict[str, Any] | None:
        return self.devices.find_one({"_id": device_id})

    def device_by_token_hash(self, digest: str) -> dict[str, Any] | None:
        return self.devices.find_one({"token_hash": digest})

    def revoke_device(self, device_id: str, by: str, now: datetime) -> dict[str, Any] | None:
        """Revoke once; the first revocation's who and when stay."""
        self.devices.update_one({"_id": device_id, "revoked_at": None},
                                {"$set": {"revoked_at": now, "revoked_by": by}})
        return self.get_device(device_id)

    def insert_batch(self, doc: dict[str, Any]) -> bool:
        try:
            self.batches.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    def get_batch(self, product_id: str, code: str) -> dict[str, Any] | None:
        return self.batches.find_one({"product_id": product_id, "code": code})

    def sell_now(self, product_id: str, op: str, quantity: int) -> bool:
        """An immediate sale (a scale at the counter): shelf to sold in one guarded write,
        never below zero, never twice while ``op``'s mark is there. Beside the reservation
        protocol, with the same marks: see scales.py."""
        result = self.products.update_one(
            {"_id": product_id, "stock": {"$gte": quantity}, "inflight": {"$ne": op}},
            {"$inc": {"stock": -quantity, "sold": quantity}, "$push": {"inflight": op}},
        )
        return result.modified_count == 1

    def unsell(self, product_id: str, op: str, quantity: int) -> bool:
        """Undo a ``sell_now`` no weighing recorded: only while its mark is there."""
        result = self.products.update_one(
            {"_id": product_id, "inflight": op},
            {"$inc": {"stock": quantity, "sold": -quantity}, "$pull": {"inflight": op}},
        )
        return result.modified_count == 1

    def insert_weighing(self, doc: dict[str, Any]) -> str:
        """"new", "duplicate" (this device already posted this sequence) or "code_taken"."""
        try:
            self.weighings.insert_one(doc)
        except DuplicateKeyError:
            if self.weighings.find_one({"_id": doc["_id"]}, {"_id": 1}) is not None:
                return "duplicate"
            return "code_taken"
        return "new"

    def get_weighing(self, weighing_id: str) -> dict[str, Any] | None:
        return self.weighings.find_one({"_id": weighing_id})

    def weighing_by_code(self, code: str) -> dict[str, Any] | None:
        return self.weighings.find_one({"receipt_code": code})

    def weighings_of(self, merchant_ids: list[str], day: str,
                     only_attention: bool = False) -> list[dict[str, Any]]:
        """One market day's weighings (found by the (merchant_id, day) index): a stall weighs
        hundreds a day, not millions."""
        query: dict[str, Any] = {"merchant_id": {"$in": merchant_ids}, "day": day}
        if only_attention:
            query["attention"] = True
        return list(self.weighings.find(query).sort("weighed_at", 1))

    def insert_flag(self, doc: dict[str, Any], events: list[dict]) -> dict[str, Any] | None:
        """A resident's flag with its event; None if this resident flagged it already."""
        stored = outbox.with_outbox(doc, events)
        try:
            self.receipt_flags.insert_one(stored)
        except DuplicateKeyError:
            return None
        return stored

    def mark_flagged(self, weighing_id: str) -> None:
        self.weighings.update_one({"_id": weighing_id},
                                  {"$inc": {"flags": 1}, "$set": {"attention": True}})

    # recycling points (docs/market.md)

    def put_rates(self, doc: dict[str, Any]) -> None:
        self.recycling_rates.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    def get_rates(self, merchant_id: str) -> dict[str, Any] | None:
        return self.recycling_rates.find_one({"_id": merchant_id})

    def insert_drop_off_code(self, doc: dict[str, Any]) -> bool:
        try:
            self.drop_off_codes.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    def get_drop_off_code(self, code: str) -> dict[str, Any] | None:
        return self.drop_off_codes.find_one({"_id": code})

    def claim_drop_off_code(self, code: str, drop_off_id: str, now: datetime) -> bool:
        """Use a live code for one drop-off: once, or again by the same drop-off (a retry
        after a crash between the claim and the record)."""
        result = self.drop_off_codes.update_one(
            {"_id": code, "expires_at": {"$gt": now}, "used_by": {"$in": [None, drop_off_id]}},
            {"$set": {"used_by": drop_off_id}})
        return result.matched_count == 1

    def insert_drop_off(self, doc: dict[str, Any]) -> bool:
        try:
            self.drop_offs.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    def get_drop_off(self, drop_off_id: str) -> dict[str, Any] | None:
        return self.drop_offs.find_one({"_id": drop_off_id})

    def drop_offs_of_resident(self, resident_id: str) -> list[dict[str, Any]]:
        """A resident's drop-offs, newest first (by the resident_id index): a household
        drops off a few times a week, so a lifetime's credit is a small sum."""
        return list(self.drop_offs.find({"resident_id": resident_id})
                    .sort("weighed_at", -1))

    def drop_offs_on(self, merchant_id: str, day: str) -> list[dict[str, Any]]:
        return list(self.drop_offs.find({"merchant_id": merchant_id, "day": day}))
