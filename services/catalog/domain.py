"""Catalog rules over plain data: editing merchants and products, whether an order can be
served, pricing its lines, product search keys. Pure: no store, nameko or RPC code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.catalog import pricing, search
from services.common.geo import TravelModel, cell_for, haversine_m
from services.common.refusals import Forbidden


def check_may_register(actor: dict[str, str]) -> None:
    if actor["role"] not in ("merchant", "admin"):
        raise Forbidden("only merchants can register a shop")


def check_owner(merchant: dict[str, Any], actor: dict[str, str]) -> None:
    """Only the shop's owner (or an admin) changes its goods. Products are public, so another
    shop's product is a 403, not a 404."""
    if merchant["owner_id"] != actor["sub"] and actor["role"] != "admin":
        raise Forbidden("only the shop's owner can change its goods")


def check_planner(actor: dict[str, str]) -> None:
    if actor["role"] not in ("planner", "admin"):
        raise Forbidden("coverage reports are for planners")


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


class Rejection(Exception):
    """Why an order cannot be served: a business outcome, not a refusal.

    Nobody is told "no" over RPC here; the reservation turns it into a stock_rejected event,
    as legitimate an answer to order_placed as stock_reserved (docs/architecture.md, "How a
    domain says no"). So it is deliberately not a services.common.refusals class."""

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
        least = pricing.min_quantity(product["sale_mode"], product["price_fen"],
                                     product.get("price_per"))
    except ValueError as exc:
        raise Rejection("bad_quantity", str(exc), product_id) from None
    if quantity < least:
        # Priced here, at the owner of the price, so a price changed since the resident
        # looked is caught too: a line never costs 0 fen.
        raise Rejection("below_minimum_quantity",
                        f"{product['name']}: at least {least} g at this price (a line costs "
                        f"at least {pricing.MIN_LINE_FEN} fen)", product_id)
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
