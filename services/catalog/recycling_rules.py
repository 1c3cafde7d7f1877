"""Pure rules of recycling drop-off: what a drop-off earns at a point's posted rates, and who
may post rates and see a point's intake. Imports no store, nameko or RPC code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common.refusals import Forbidden, InvalidInput

CATEGORIES = ("paper", "plastic", "metal", "textile")
GRAMS_PER_KG = 1000


def check_point(merchant: dict[str, Any]) -> None:
    if merchant["business_type"] != "recycling":
        raise InvalidInput("this business is not a recycling point",
                           {"merchant_id": ["not a recycling point"]})


def check_point_owner(who: dict[str, str], merchant: dict[str, Any]) -> None:
    if who["role"] != "admin" and merchant["owner_id"] != who["sub"]:
        raise Forbidden("only the recycling point's owner does this")


def check_box(device: dict[str, Any]) -> None:
    if device["kind"] != "recycling_box":
        raise Forbidden("only a recycling box posts drop-offs")


def earned_fen(rates: dict[str, int], items: list[dict[str, Any]]) -> int:
    """Fen earned: each category's grams at its rate per kg, rounded half up per line (the
    same integer rule as pricing.py), summed."""
    total = 0
    for item in items:
        rate = rates[item["category"]]
        total += (2 * rate * item["grams"] + GRAMS_PER_KG) // (2 * GRAMS_PER_KG)
    return total


def check_items(items: list[dict[str, Any]]) -> None:
    seen = [i["category"] for i in items]
    if len(seen) != len(set(seen)):
        raise InvalidInput("each category once per drop-off",
                           {"items": ["a category appears twice"]})


def code_usable(code_doc: dict[str, Any] | None, now: datetime) -> bool:
    return code_doc is not None and code_doc["expires_at"] > now
