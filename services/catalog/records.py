"""Catalog documents, their public views and the events the catalog publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.catalog import domain, pricing
from services.common.events import make_event, new_id
from services.common.geo import cell_for
from services.common.times import iso

SOURCE = "catalog"


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
        "cash_on_delivery": data.get("cash_on_delivery", True),
        "created_at": now,
        "updated_at": now,
    }


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
        # Counters, not lists: the document's size does not depend on the open orders.
        "reserved": 0,
        "sold": 0,
        "inflight": [],
        "origin": data.get("origin"),
        "available": data.get("available", True),
        "deleted": False,
        "name_keys": domain.name_keys(data["name"]),
        # The opening stock is the first audited change (from 0), so the history is complete.
        "stock_history": [{"by": merchant["owner_id"], "at": now, "from": 0,
                           "to": data["stock"]}],
        "created_at": now,
        "updated_at": now,
    }


def public_merchant(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if not k.startswith("_") and k != "updated_at"}
    out["id"] = doc["_id"]
    out["cash_on_delivery"] = doc.get("cash_on_delivery", True)  # shops from before it: yes
    out["created_at"] = iso(doc["created_at"])
    return out


def public_product(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "merchant_id": doc["merchant_id"],
        "name": doc["name"],
        "sale_mode": doc["sale_mode"],
        "price_fen": doc["price_fen"],
        "price_per": doc.get("price_per"),
        "min_quantity": pricing.min_quantity(doc["sale_mode"], doc["price_fen"],
                                             doc.get("price_per")),
        "unit": doc["unit"],
        "stock": doc["stock"],
        "reserved": doc.get("reserved", 0),
        "sold": doc.get("sold", 0),
        "origin": doc.get("origin"),
        "available": doc["available"],
        "updated_at": iso(doc["updated_at"]),
    }


def public_stock_history(product: dict[str, Any]) -> dict[str, Any]:
    return {
        "product_id": product["_id"],
        "items": [{"by": e["by"], "at": iso(e["at"]), "from": e["from"], "to": e["to"]}
                  for e in product.get("stock_history") or []],
    }


def stock_reserved_event(order_id: str, merchant: dict[str, Any], lines: list[dict[str, Any]],
                         amounts: dict[str, int], causation_id: str) -> dict[str, Any]:
    return make_event(
        "stock_reserved",
        {"order_id": order_id, "merchant_id": merchant["_id"],
         "merchant_owner_id": merchant["owner_id"], "merchant_name": merchant["name"],
         "cash_on_delivery": merchant.get("cash_on_delivery", True),
         "lines": lines, **amounts},
        source=SOURCE, correlation_id=order_id, causation_id=causation_id,
    )


def stock_rejected_event(order_id: str, merchant_id: str, rejection: domain.Rejection,
                         causation_id: str) -> dict[str, Any]:
    return make_event(
        "stock_rejected",
        {"order_id": order_id, "merchant_id": merchant_id,
         "reason": rejection.reason, "message": rejection.message,
         "product_id": rejection.product_id},
        source=SOURCE, correlation_id=order_id, causation_id=causation_id,
    )


def product_changed_event(product: dict[str, Any], change: str) -> dict[str, Any]:
    """For copies of the catalog elsewhere (the gateway's read cache): ask again."""
    return make_event("product_changed", {"product_id": product["_id"],
                                          "merchant_id": product["merchant_id"],
                                          "change": change},
                      source=SOURCE, correlation_id=product["_id"])


def merchant_changed_event(merchant_id: str, change: str) -> dict[str, Any]:
    return make_event("merchant_changed", {"merchant_id": merchant_id, "change": change},
                      source=SOURCE, correlation_id=merchant_id)
