"""The catalog's part of the order saga, as plain functions over the catalog store.

A product keeps counters (stock on the shelf, reserved, sold), so its document stays the same
size however many orders are open; the order's ledger entry records which lines it holds.
A product change and the ledger entry that records it are two writes, so every change to a
product carries an operation id into the product's ``inflight`` list, and the mark is dropped
only once the ledger has recorded the change:

    take (stock -= q, reserved += q, +mark) -> ledger records held -> settle (-mark)

On a redelivery (a crash between any two writes) a line is applied iff the ledger has not
recorded it and its mark is absent; an applied line the ledger never recorded is undone by
its mark (``untake``), atomically. Releasing and selling work the same way with their own
marks. One order's events are handled one at a time by one worker of one replica (the service
holds a lease per order: services/common/leases.py), so no two workers interleave on one
order; the marks alone do not make that safe (two workers would each give back by the same
mark). The crash points are listed in docs/architecture.md ("Reservations").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.catalog import domain, records
from services.catalog.store import CatalogStore
from services.common.geo import TravelModel


def reserve_op(order_id: str) -> str:
    return f"take:{order_id}"


def end_op(order_id: str, counter: str) -> str:
    return f"{'release' if counter == 'stock' else 'sell'}:{order_id}"


def reserve_for_order(store: CatalogStore, event: dict[str, Any], model: TravelModel,
                      now: datetime) -> dict[str, Any] | None:
    """Handle order_placed. Returns the ledger entry whose outbox now holds the answer."""
    data = event["data"]
    order_id, items = data["order_id"], data["items"]
    ledger = store.ledger_entry(order_id)
    if ledger is not None and ledger["status"] != "reserving":
        # Decided before (a redelivery) or cancelled already: only finish what a crash may
        # have left, so no product keeps a mark.
        held = ledger.get("held") or {}
        _undo_unrecorded(store, order_id, items, held)
        if ledger["status"] == "rejected" and held:
            _end_holds(store, order_id, items, held, "stock")  # only after a migration
        return None
    recorded = dict((ledger or {}).get("held") or {})
    op = reserve_op(order_id)
    taken: dict[str, int] = {}
    merchant = store.get_merchant(data["merchant_id"])
    try:
        if merchant is None:
            raise domain.Rejection("unknown_merchant", "this shop does not exist")
        domain.check_delivery(merchant, data["delivery"]["location"], model)
        lines = []
        for item in items:
            product_id, quantity = item["product_id"], item["quantity"]
            product = domain.check_line(merchant["_id"], store.get_product(product_id),
                                        product_id, quantity)
            if product_id not in recorded and product_id not in taken:
                # A crashed attempt may have taken it already: its mark says so.
                if op not in (product.get("inflight") or ()) and not store.take(
                        product_id, op, quantity):
                    raise domain.Rejection(
                        "out_of_stock", f"not enough {product['name']} left", product_id)
                taken[product_id] = quantity
            lines.append(domain.priced_line(product, quantity))
        amounts = domain.totals(merchant, lines)
    except domain.Rejection as rejection:
        _undo_unrecorded(store, order_id, items, recorded)
        answer = records.stock_rejected_event(order_id, data["merchant_id"], rejection,
                                              event["id"])
        decided = store.decide(order_id, "rejected",
                               {"reason": rejection.reason, "decided_at": now,
                                "merchant_id": data["merchant_id"], "items": items},
                               [answer], now)
        if decided is None:
            return None
        _end_holds(store, order_id, items, recorded, "stock")  # only after a migration
        return decided

    answer = records.stock_reserved_event(order_id, merchant, lines, amounts, event["id"])
    decided = store.decide(order_id, "reserved",
                           {"held": {**recorded, **taken}, "lines": lines, **amounts,
                            "decided_at": now, "merchant_id": data["merchant_id"],
                            "items": items},
                           [answer], now)
    if decided is None:
        # Cancelled while we were reserving: the ledger never recorded what we took.
        _undo_unrecorded(store, order_id, items, {})
        return None
    for product_id in taken:
        store.settle(product_id, op)
    return decided


def release_for_order(store: CatalogStore, event: dict[str, Any], now: datetime) -> int:
    """Handle order_cancelled / order_declined: return the order's stock to the shelf."""
    return _close(store, event["data"], "released", {"released_at": now}, "stock")


def sell_for_order(store: CatalogStore, event: dict[str, Any], now: datetime) -> int:
    """Handle order_delivered: the reservation becomes a sale."""
    return _close(store, event["data"], "sold", {"sold_at": now}, "sold")


def _close(store: CatalogStore, data: dict[str, Any], status: str, fields: dict[str, Any],
           counter: str) -> int:
    order_id, items = data["order_id"], data["items"]
    # From now on no reservation of this order can be recorded (a late order_placed finds
    # this status, a tombstone if the order was never heard of).
    before = store.close_ledger(order_id, status, fields)
    held = (before or {}).get("held") or {}
    _undo_unrecorded(store, order_id, items, held)
    return _end_holds(store, order_id, items, held, counter)


def _undo_unrecorded(store: CatalogStore, order_id: str, items: list[dict[str, Any]],
                     recorded: dict[str, int]) -> None:
    """Give back what was taken for this order but never recorded; drop the leftover mark
    of what was recorded."""
    op = reserve_op(order_id)
    for item in items:
        if item["product_id"] in recorded:
            store.settle(item["product_id"], op)
        else:
            store.untake(item["product_id"], op, item["quantity"])


def _end_holds(store: CatalogStore, order_id: str, items: list[dict[str, Any]],
               held: dict[str, int], counter: str) -> int:
    """Move every recorded hold to ``counter``, then record that nothing is held."""
    op = end_op(order_id, counter)
    ended = sum(store.end_hold(product_id, op, quantity, counter)
                for product_id, quantity in held.items())
    if held:
        store.clear_held(order_id)
    # Settled for every line, not only the held ones: a crash after clear_held leaves marks
    # that a redelivery (which then finds nothing held) must still drop.
    for product_id in {*held, *(item["product_id"] for item in items)}:
        store.settle(product_id, op)
    return ended
