"""Catalog rules over plain data: building merchants and products, pricing order lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.catalog import pricing, search
from services.common.events import new_id
from services.common.geo import TravelModel, cell_for, haversine_m


def new_merchant(owner_id: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    loc = data["location"]
    return {
        "_id": new_id("mer"),
        "owner_id": owner_id,
        "name": data["name"],
        "business_type": data["business_type"],
        "secondary_types": sorted(set(data.get("secondary_types") or []) - {data["business_type"]}),
        "location": {"lat": loc["lat"], "lng": loc["lng"]},
        "h3_cell": cell_for(loc["lat"], loc["lng"]),
        "address": data["address"],
        "phone": data.get("phone"),
        "opening_hours": data.get("opening_hours"),
        "delivery": data.get("delivery") or {"max_walk_minutes": 15, "fee_fen": 0,
                                             "min_order_fen": 0},
        "created_at": now,
        "updated_at": now,
    }


def merchant_changes(merchant: dict[str, Any], data: dict[str, Any],
                     now: datetime) -> dict[str, Any]:
    """The fields to $set for an owner's edit (a partial, already validated body)."""
    changes: dict[str, Any] = {k: v for k, v in data.items()
                               if k not in ("location", "delivery", "secondary_types")}
    primary = data.get("business_type", merchant["business_type"])
    if "secondary_types" in data or "business_type" in data:
        wanted = data.get("secondary_types", merchant.get("secondary_types") or [])
        changes["secondary_types"] = sorted(set(wanted) - {primary})
    if "location" in data:
        loc = data["location"]
        changes["location"] = {"lat": loc["lat"], "lng": loc["lng"]}
        changes["h3_cell"] = cell_for(loc["lat"], loc["lng"])
    if "delivery" in data:
        # A partial edit of the delivery settings keeps the ones not mentioned.
        changes["delivery"] = {**merchant["delivery"], **data["delivery"]}
    changes["updated_at"] = now
    return changes


def new_product(merchant: dict[str, Any], data: dict[str, Any], now: datetime) -> dict[str, Any]:
    by_weight = data["sale_mode"] == "by_weight"
    unit = data.get("unit") or ("500g" if data.get("price_per") == "500g" else "kg")
    return {
        "_id": new_id("prd"),
        "merchant_id": merchant["_id"],
        "owner_id": merchant["owner_id"],
        # A copy of where it is sold, so goods can be searched by cell like merchants.
        "location": merchant["location"],
        "h3_cell": merchant["h3_cell"],
        "name": data["name"],
        "sale_mode": data["sale_mode"],
        "price_fen": data["price_fen"],
        "price_per": data.get("price_per") if by_weight else None,
        "unit": unit,
        "stock": data["stock"],
        "reservations": [],
        "sold": 0,
        "origin": data.get("origin"),
        "available": data.get("available", True),
        "deleted": False,
        "name_keys": name_keys(data["name"]),
        # The opening stock is the first audited change (from 0), so the history is complete.
        "stock_history": [{"by": merchant["owner_id"], "at": now, "from": 0,
                           "to": data["stock"]}],
        "created_at": now,
        "updated_at": now,
    }


def public_merchant(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if not k.startswith("_") and k != "updated_at"}
    out["id"] = doc["_id"]
    out["created_at"] = doc["created_at"].isoformat()
    return out


def public_product(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "merchant_id": doc["merchant_id"],
        "name": doc["name"],
        "sale_mode": doc["sale_mode"],
        "price_fen": doc["price_fen"],
        "price_per": doc.get("price_per"),
        "unit": doc["unit"],
        "stock": doc["stock"],
        "reserved": sum(r["quantity"] for r in doc.get("reservations") or []),
        "sold": doc.get("sold", 0),
        "origin": doc.get("origin"),
        "available": doc["available"],
        "updated_at": doc["updated_at"].isoformat(),
    }


class Rejection(Exception):
    """Why an order cannot be served; becomes a stock_rejected event."""

    def __init__(self, reason: str, message: str, product_id: str | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.product_id = product_id


def check_delivery(merchant: dict[str, Any], location: dict[str, float],
                   model: TravelModel) -> None:
    """The address must be within the merchant's delivery walk."""
    distance = haversine_m(merchant["location"]["lat"], merchant["location"]["lng"],
                           location["lat"], location["lng"])
    limit = merchant["delivery"]["max_walk_minutes"]
    if model.minutes_for(distance) > limit:
        raise Rejection("out_of_delivery_range",
                        f"{merchant['name']} delivers within a {limit}-minute walk only")


def check_line(merchant_id: str, product: dict[str, Any] | None, product_id: str,
               quantity: int) -> dict[str, Any]:
    """Raise Rejection unless this product can be sold in this quantity by this merchant."""
    if product is None or product.get("deleted") or product["merchant_id"] != merchant_id:
        raise Rejection("unknown_product", "this product is not sold here", product_id)
    if not product["available"]:
        raise Rejection("unavailable", f"{product['name']} is not available now", product_id)
    try:
        pricing.validate_quantity(product["sale_mode"], quantity)
    except ValueError as exc:
        raise Rejection("bad_quantity", str(exc), product_id) from None
    return product


def priced_line(product: dict[str, Any], quantity: int) -> dict[str, Any]:
    return {
        "product_id": product["_id"],
        "name": product["name"],
        "quantity": quantity,
        "sale_mode": product["sale_mode"],
        "unit": product["unit"],
        "unit_price_fen": product["price_fen"],
        "price_per": product.get("price_per"),
        "line_total_fen": pricing.line_price_fen(
            product["sale_mode"], product["price_fen"], quantity, product.get("price_per")
        ),
    }


def totals(merchant: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, int]:
    items_total = sum(line["line_total_fen"] for line in lines)
    minimum = merchant["delivery"].get("min_order_fen", 0)
    if items_total < minimum:
        raise Rejection("below_minimum_order",
                        f"the minimum order here is {minimum / 100:.2f} yuan")
    fee = merchant["delivery"].get("fee_fen", 0)
    return {"items_total_fen": items_total, "delivery_fee_fen": fee,
            "total_fen": items_total + fee}


# --- product search keys ---------------------------------------------------------------------
# A product stores the characters and character bigrams of its normalised name ("name_keys",
# indexed).  A search fetches only products sharing at least one key with the query, and
# search.score decides.  Every tier of search.score implies such a shared key: substring and
# prefix matches contain all the query's bigrams; an all-terms match contains each term (its
# bigrams, or the character itself for a one-character term); a bigram match shares a bigram.


def _compact(text: str) -> str:
    return search.normalize(text).replace(" ", "")


def name_keys(name: str) -> list[str]:
    """Index keys of a product name: its characters and character bigrams."""
    compact = _compact(name)
    keys = set(compact)
    keys.update(compact[i:i + 2] for i in range(len(compact) - 1))
    return sorted(keys)


def query_keys(query: str) -> list[str]:
    """Keys of which a matching product name has at least one (see above)."""
    normal = search.normalize(query)
    compact = normal.replace(" ", "")
    if len(compact) == 1:
        return [compact]
    keys = {compact[i:i + 2] for i in range(len(compact) - 1)}
    keys.update(term for term in normal.split() if len(term) == 1)
    return sorted(keys)


def product_changes(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The $set for an owner's product update."""
    changes = {**data, "updated_at": now}
    if "name" in data:
        changes["name_keys"] = name_keys(data["name"])
    return changes


def stock_change(by: str, product: dict[str, Any], new_stock: int | None,
                 now: datetime) -> dict[str, Any] | None:
    """The audit entry for a stock change, or None when the stock does not change."""
    if new_stock is None or new_stock == product["stock"]:
        return None
    return {"by": by, "at": now, "from": product["stock"], "to": new_stock}


def public_stock_history(product: dict[str, Any]) -> dict[str, Any]:
    return {
        "product_id": product["_id"],
        "items": [{"by": e["by"], "at": e["at"].isoformat(), "from": e["from"], "to": e["to"]}
                  for e in product.get("stock_history") or []],
    }
