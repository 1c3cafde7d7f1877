"""Smart scales at the counter, as plain functions over the catalog store: record a weighing
(a sale that already happened) with its checks and receipt, show a receipt to anyone with its
code, let a resident flag one as short-weighed, and show a market's day to its manager.

A sale takes its grams off the shelf with ``sell_now``, one guarded write beside the order
saga's reservations, using the same in-flight marks (reservations.py):

    sell_now (stock -= g, sold += g, +mark) -> weighing recorded -> settle (-mark)

A crash between the sale and the record leaves the mark; the scale's retry (same sequence)
finds it and records the weighing without selling twice. Two attempts of one post at once
(a retry racing the first, in two replicas) would share that mark, and one could give back
the other's recorded sale, so the service runs each post under a lease on its weighing id
(services/common/leases.py). Stock never goes below zero: when
the shelf has less than was weighed, nothing is taken and the weighing carries a
``stock_short`` mismatch for the manager — the goods are gone from the counter either way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.catalog import codes, market_records, markets, scale_rules, shops
from services.catalog.store import CatalogStore
from services.common.refusals import Conflict, Forbidden, NotFound

CODE_ATTEMPTS = 5  # a clash in 2^50 codes is rare; five in a row means something is broken


def sale_op(weighing_id: str) -> str:
    return f"scale:{weighing_id}"


def record_weighing(store: CatalogStore, device: dict[str, Any], posted: dict[str, Any],
                    now: datetime, tz: str) -> tuple[dict[str, Any], bool]:
    """The weighing and whether this call recorded it (a retry returns the first)."""
    wid = market_records.weighing_id(device["_id"], posted["sequence"])
    existing = store.get_weighing(wid)
    if existing is not None:
        return _replayed(existing, posted), False
    product = shops.on_sale(store, posted["product_id"])
    scale_rules.check_scale_sells(device, product)
    stall = shops.merchant(store, device["merchant_id"])
    code = posted.get("batch")
    batch = scale_rules.known_batch(product, code,
                                    store.get_batch(product["_id"], code) if code else None)
    found = scale_rules.mismatches(product, posted, batch)
    op, grams = sale_op(wid), posted["grams"]
    # A crashed attempt may have sold it already: its mark says so.
    taken = op in (product.get("inflight") or ()) or store.sell_now(product["_id"], op, grams)
    if not taken:
        shelf = store.get_product(product["_id"]) or product
        found.append(scale_rules.stock_short(shelf["stock"], grams))
    day = scale_rules.local_day(posted["weighed_at"], tz)
    for _ in range(CODE_ATTEMPTS):
        doc = market_records.new_weighing(device, stall, product, posted, batch, found, taken,
                                          day, codes.new_receipt_code(), now)
        outcome = store.insert_weighing(doc)
        if outcome == "new":
            break
        if outcome == "duplicate":  # another catalog process recorded it meanwhile
            if taken:
                store.unsell(product["_id"], op, grams)
            return _replayed(store.get_weighing(wid), posted), False
    else:
        raise RuntimeError("could not draw an unused receipt code")
    if taken:
        store.settle(product["_id"], op)
    return doc, True


def _replayed(existing: dict[str, Any], posted: dict[str, Any]) -> dict[str, Any]:
    same = all(existing[k] == posted[k] for k in ("product_id", "grams", "total_fen"))
    if not same:
        raise Conflict("this scale already posted another weighing with this sequence")
    return existing


def receipt(store: CatalogStore, code: str) -> dict[str, Any]:
    doc = store.weighing_by_code(code) if codes.is_receipt_code(code) else None
    if doc is None:
        raise NotFound("no such receipt")
    return market_records.public_receipt(doc)


def flag_receipt(store: CatalogStore, who: dict[str, str], code: str, reason: str,
                 now: datetime) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A resident says the goods weighed less than the receipt. Returns the answer and the
    new flag (with its event in the outbox), or None when they had flagged it already."""
    if who["role"] not in ("resident", "admin"):
        raise Forbidden("residents flag receipts")
    weighing = store.weighing_by_code(code) if codes.is_receipt_code(code) else None
    if weighing is None:
        raise NotFound("no such receipt")
    stall = shops.merchant(store, weighing["merchant_id"])
    market = store.market_of_stall(stall["_id"])
    flag = market_records.new_flag(weighing, who["sub"], {"reason": reason}, now)
    event = market_records.receipt_flagged_event(weighing, market, stall["owner_id"], flag)
    stored = store.insert_flag(flag, [event])
    if stored is not None:
        store.mark_flagged(weighing["_id"])
    return {"code": code, "flagged": True}, stored


def market_day(store: CatalogStore, who: dict[str, str], market_id: str,
               day: str) -> dict[str, Any]:
    """Per stall: how many weighings, grams and fen, how many mismatched or flagged."""
    doc = markets.managed_market(store, who, market_id)
    stall_ids = list(doc["stall_ids"])
    names = store.merchant_names(stall_ids)
    by_stall: dict[str, list[dict[str, Any]]] = {sid: [] for sid in stall_ids}
    for w in store.weighings_of(stall_ids, day):
        by_stall[w["merchant_id"]].append(w)
    stalls = [market_records.stall_day(sid, names.get(sid, ""), by_stall[sid])
              for sid in stall_ids]
    return {"market_id": market_id, "day": day, "stalls": stalls}


def market_mismatches(store: CatalogStore, who: dict[str, str], market_id: str,
                      day: str) -> dict[str, Any]:
    """The day's weighings that need the manager: a mismatch or a resident's flag."""
    doc = markets.managed_market(store, who, market_id)
    items = store.weighings_of(list(doc["stall_ids"]), day, only_attention=True)
    return {"market_id": market_id, "day": day,
            "items": [market_records.manager_weighing(w) for w in items]}
