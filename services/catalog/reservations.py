"""The catalog's part of the order saga, as plain functions over the catalog store.

Every step is safe to repeat: reserving is guarded per product and order, the ledger moves
only from the status it expects, and a cancellation that overtakes its order leaves a
tombstone so the late order_placed reserves nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.catalog import domain, records
from services.catalog.store import CatalogStore
from services.common.geo import TravelModel


def reserve_for_order(store: CatalogStore, event: dict[str, Any], model: TravelModel,
                      now: datetime) -> str | None:
    """Handle order_placed. Returns the ledger id whose outbox now holds the answer."""
    data = event["data"]
    order_id = data["order_id"]
    ledger = store.open_ledger(order_id, {"merchant_id": data["merchant_id"],
                                          "items": data["items"], "created_at": now})
    if ledger["status"] != "reserving":
        return None  # decided before (a redelivery) or cancelled already
    merchant = store.get_merchant(data["merchant_id"])
    try:
        if merchant is None:
            raise domain.Rejection("unknown_merchant", "this shop does not exist")
        domain.check_delivery(merchant, data["delivery"]["location"], model)
        lines = []
        for item in data["items"]:
            product = domain.check_line(merchant["_id"], store.get_product(item["product_id"]),
                                        item["product_id"], item["quantity"])
            held = store.holds(product["_id"], order_id) or store.reserve(
                product["_id"], order_id, item["quantity"], now)
            if held is None:
                raise domain.Rejection(
                    "out_of_stock", f"not enough {product['name']} left", product["_id"])
            lines.append(domain.priced_line(product, item["quantity"]))
        amounts = domain.totals(merchant, lines)
    except domain.Rejection as rejection:
        _release_all(store, order_id, data["items"])
        answer = records.stock_rejected_event(order_id, data["merchant_id"], rejection,
                                              event["id"])
        moved = store.move_ledger(order_id, ["reserving"], "rejected",
                                  {"reason": rejection.reason, "decided_at": now}, [answer])
        return order_id if moved else None

    answer = records.stock_reserved_event(order_id, merchant, lines, amounts, event["id"])
    moved = store.move_ledger(order_id, ["reserving"], "reserved",
                              {"lines": lines, **amounts, "decided_at": now}, [answer])
    if moved is None:
        # Cancelled while we were reserving: give everything back.
        _release_all(store, order_id, data["items"])
        return None
    return order_id


def release_for_order(store: CatalogStore, event: dict[str, Any], now: datetime) -> int:
    """Handle order_cancelled / order_declined: return the order's stock to the shelf."""
    data = event["data"]
    store.close_ledger(data["order_id"], "released", {"released_at": now})
    return _release_all(store, data["order_id"], data["items"])


def sell_for_order(store: CatalogStore, event: dict[str, Any], now: datetime) -> int:
    """Handle order_delivered: the reservation becomes a sale."""
    data = event["data"]
    sold = sum(store.sell(item["product_id"], data["order_id"]) for item in data["items"])
    store.close_ledger(data["order_id"], "sold", {"sold_at": now})
    return sold


def _release_all(store: CatalogStore, order_id: str, items: list[dict[str, Any]]) -> int:
    return sum(store.release(item["product_id"], order_id) for item in items)
