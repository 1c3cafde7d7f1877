"""The basket: one shop's goods and quantities in a cookie (HttpOnly, SameSite=Lax). It holds
only ids and quantities; prices are quoted from the catalog when shown, and checkout is
validated by the orders API like any order, so a tampered cookie can order nothing odd."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Request, request

from services.common.schemas import ID_PATTERN

COOKIE = "lc_basket"
MAX_LINES = 50  # OrderCreateSchema's limit
_ID = re.compile(ID_PATTERN)


def read(req: Request) -> dict[str, Any]:
    try:
        data = json.loads(req.cookies.get(COOKIE) or "{}")
        merchant = data.get("merchant_id")
        items = {k: int(v) for k, v in (data.get("items") or {}).items()
                 if _ID.match(k) and isinstance(v, int) and v > 0}
        if merchant and _ID.match(merchant):
            return {"merchant_id": merchant, "items": dict(list(items.items())[:MAX_LINES])}
    except (ValueError, AttributeError, TypeError):
        pass  # a broken cookie is an empty basket
    return {"merchant_id": None, "items": {}}


def add(basket: dict[str, Any], merchant_id: str, product_id: str, quantity: int
        ) -> dict[str, Any]:
    """A basket holds one shop's goods (an order goes to one shop): another shop starts over.
    Adding goods already there sets the new quantity."""
    items = dict(basket["items"]) if basket.get("merchant_id") == merchant_id else {}
    items[product_id] = quantity
    return {"merchant_id": merchant_id, "items": items}


def remove(basket: dict[str, Any], product_id: str) -> dict[str, Any]:
    items = {k: v for k, v in basket["items"].items() if k != product_id}
    return {"merchant_id": basket["merchant_id"] if items else None, "items": items}


def write(response: Any, basket: dict[str, Any]) -> None:
    response.set_cookie(COOKIE, json.dumps(basket, separators=(",", ":")), httponly=True,
                        samesite="Lax", secure=request.is_secure, path="/", max_age=86400)


def clear(response: Any) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=request.is_secure)
