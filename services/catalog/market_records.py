"""Wet-market documents (markets, devices, batches, weighings, flags), their public views and
the event the catalog publishes when a resident flags a receipt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.catalog import codes
from services.common.events import make_event, new_id
from services.common.times import iso

SOURCE = "catalog"


def new_market(manager_id: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"_id": new_id("mkt"), "name": data["name"], "manager_id": manager_id,
            "stall_ids": [], "created_at": now}


def public_market(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "name": doc["name"], "manager_id": doc["manager_id"],
            "stall_ids": list(doc["stall_ids"]), "created_at": iso(doc["created_at"])}


def new_device(merchant: dict[str, Any], data: dict[str, Any], token: str, by: str,
               now: datetime) -> dict[str, Any]:
    return {"_id": new_id("dev"), "merchant_id": merchant["_id"], "kind": data["kind"],
            "name": data["name"], "token_hash": codes.token_hash(token), "created_by": by,
            "created_at": now, "revoked_at": None, "revoked_by": None}


def public_device(doc: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    out = {"id": doc["_id"], "merchant_id": doc["merchant_id"], "kind": doc["kind"],
           "name": doc["name"], "created_at": iso(doc["created_at"]),
           "revoked_at": iso(doc["revoked_at"])}
    if token is not None:
        out["token"] = token  # shown once, at registration; only its hash is kept
    return out


def new_batch(product: dict[str, Any], data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"_id": new_id("bat"), "product_id": product["_id"],
            "merchant_id": product["merchant_id"], "code": data["code"],
            "origin": data["origin"], "supplier": data["supplier"],
            "arrived_on": data["arrived_on"].isoformat(), "created_at": now}


def public_batch(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "product_id": doc["product_id"], "code": doc["code"],
            "origin": doc["origin"], "supplier": doc["supplier"],
            "arrived_on": doc["arrived_on"]}


def weighing_id(device_id: str, sequence: str) -> str:
    # The device's own sequence id makes a retried post the same document.
    return f"{device_id}:{sequence}"


def new_weighing(device: dict[str, Any], merchant: dict[str, Any], product: dict[str, Any],
                 posted: dict[str, Any], batch: dict[str, Any] | None,
                 found: list[dict[str, Any]], stock_taken: bool, day: str,
                 code: str, now: datetime) -> dict[str, Any]:
    return {
        "_id": weighing_id(device["_id"], posted["sequence"]),
        "receipt_code": code,
        "device_id": device["_id"],
        "merchant_id": merchant["_id"],
        "stall_name": merchant["name"],
        "product_id": product["_id"],
        "product_name": product["name"],
        "grams": posted["grams"],
        "unit_price_fen": posted["unit_price_fen"],
        "price_per": product.get("price_per"),
        "total_fen": posted["total_fen"],
        "weighed_at": posted["weighed_at"],
        "day": day,
        "batch": posted.get("batch"),
        # A copy: the receipt shows the batch as it was known at the sale.
        "trace": None if batch is None else {k: batch[k] for k in
                                             ("origin", "supplier", "arrived_on")},
        "mismatches": found,
        "attention": bool(found),
        "stock_taken": stock_taken,
        "flags": 0,
        "recorded_at": now,
    }


def public_receipt(doc: dict[str, Any]) -> dict[str, Any]:
    """What anyone holding the code sees: nothing about the buyer (the scale never knew)."""
    trace = doc.get("trace") or {}
    return {
        "code": doc["receipt_code"],
        "stall": {"id": doc["merchant_id"], "name": doc["stall_name"]},
        "product": {"id": doc["product_id"], "name": doc["product_name"]},
        "grams": doc["grams"],
        "unit_price_fen": doc["unit_price_fen"],
        "price_per": doc["price_per"],
        "total_fen": doc["total_fen"],
        "weighed_at": iso(doc["weighed_at"]),
        "batch": {"code": doc.get("batch"), "origin": trace.get("origin"),
                  "supplier": trace.get("supplier"), "arrived_on": trace.get("arrived_on")},
    }


def manager_weighing(doc: dict[str, Any]) -> dict[str, Any]:
    """A weighing as its market's manager sees it: the receipt plus the checks."""
    return {**public_receipt(doc), "device_id": doc["device_id"],
            "mismatches": list(doc["mismatches"]), "flags": doc.get("flags", 0),
            "stock_taken": doc["stock_taken"]}


def stall_day(merchant_id: str, name: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"merchant_id": merchant_id, "name": name, "weighings": len(docs),
            "grams": sum(d["grams"] for d in docs),
            "total_fen": sum(d["total_fen"] for d in docs),
            "mismatched": sum(1 for d in docs if d["mismatches"]),
            "flagged": sum(1 for d in docs if d.get("flags"))}


def new_flag(weighing: dict[str, Any], sub: str, data: dict[str, Any],
             now: datetime) -> dict[str, Any]:
    # One flag per resident per receipt: a second tap changes nothing.
    return {"_id": f"{weighing['_id']}:{sub}", "weighing_id": weighing["_id"],
            "receipt_code": weighing["receipt_code"], "by": sub, "reason": data["reason"],
            "flagged_at": now}


def receipt_flagged_event(weighing: dict[str, Any], market: dict[str, Any] | None,
                          owner_id: str, flag: dict[str, Any]) -> dict[str, Any]:
    return make_event(
        "receipt_flagged",
        {"receipt_code": weighing["receipt_code"], "merchant_id": weighing["merchant_id"],
         "merchant_owner_id": owner_id, "stall_name": weighing["stall_name"],
         "market_id": None if market is None else market["_id"],
         "manager_id": None if market is None else market["manager_id"],
         "product_name": weighing["product_name"], "grams": weighing["grams"],
         "total_fen": weighing["total_fen"], "reason": flag["reason"],
         "flagged_at": iso(flag["flagged_at"])},
        source=SOURCE, correlation_id=weighing["receipt_code"],
    )


def new_rates(merchant_id: str, rates: dict[str, int], now: datetime) -> dict[str, Any]:
    return {"_id": merchant_id, "rates": dict(rates), "updated_at": now}


def public_rates(doc: dict[str, Any]) -> dict[str, Any]:
    return {"merchant_id": doc["_id"], "rates": dict(doc["rates"]),
            "updated_at": iso(doc["updated_at"])}


def new_drop_off_code(resident_id: str, code: str, now: datetime,
                      expires_at: datetime) -> dict[str, Any]:
    return {"_id": code, "resident_id": resident_id, "created_at": now,
            "expires_at": expires_at, "used_by": None}


def new_drop_off(device: dict[str, Any], code_doc: dict[str, Any], posted: dict[str, Any],
                 rates: dict[str, int], earned: int, day: str, now: datetime) -> dict[str, Any]:
    return {
        "_id": weighing_id(device["_id"], posted["sequence"]),
        "device_id": device["_id"],
        "merchant_id": device["merchant_id"],
        "resident_id": code_doc["resident_id"],
        "code": code_doc["_id"],
        "items": [{"category": i["category"], "grams": i["grams"]} for i in posted["items"]],
        "rates": dict(rates),  # as posted when the box weighed: later changes do not rewrite
        "credited_fen": earned,
        "box_amount_fen": posted["amount_fen"],
        "amount_differs": earned != posted["amount_fen"],
        "weighed_at": posted["weighed_at"],
        "day": day,
        "recorded_at": now,
    }


def public_drop_off(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "merchant_id": doc["merchant_id"], "items": list(doc["items"]),
            "credited_fen": doc["credited_fen"], "box_amount_fen": doc["box_amount_fen"],
            "amount_differs": doc["amount_differs"], "weighed_at": iso(doc["weighed_at"])}


def intake_day(merchant_id: str, day: str, docs: list[dict[str, Any]],
               categories: tuple[str, ...]) -> dict[str, Any]:
    grams = dict.fromkeys(categories, 0)
    for doc in docs:
        for item in doc["items"]:
            grams[item["category"]] += item["grams"]
    return {"merchant_id": merchant_id, "day": day, "drop_offs": len(docs), "grams": grams,
            "credited_fen": sum(d["credited_fen"] for d in docs),
            "amount_differs": sum(1 for d in docs if d["amount_differs"])}
