"""Pure rules of the wet market: who may manage a stall's devices and see a market, and how a
scale's weighing is checked against the catalog. Imports no store, nameko or RPC code.

A weighing is a sale that has already happened at the counter: the catalog never refuses or
corrects it for disagreeing with its own records. It records each disagreement (a mismatch)
for the market manager to see, and refuses only what is not a weighing at all (another
stall's goods, goods sold by the piece, a revoked scale).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.catalog import pricing
from services.common.refusals import Forbidden, InvalidInput

DEVICE_KINDS = ("scale", "recycling_box")

# Mismatch kinds, in the order a manager reads them.
UNIT_PRICE = "unit_price"      # the scale's unit price is not the catalog's
TOTAL = "total"                # the total charged is not the catalog's price for the weight
NO_BATCH = "no_batch"          # the scale named no batch
UNKNOWN_BATCH = "unknown_batch"  # the batch is not one the catalog knows for this product
STOCK_SHORT = "stock_short"    # the catalog had less on the shelf than was sold


def check_manages_stall(who: dict[str, str], merchant: dict[str, Any],
                        market: dict[str, Any] | None) -> None:
    """The stall's owner, the manager of its market, or an admin."""
    if who["role"] == "admin" or merchant["owner_id"] == who["sub"]:
        return
    if who["role"] == "market_manager" and market is not None \
            and market["manager_id"] == who["sub"]:
        return
    raise Forbidden("only the stall's owner or its market's manager manage its devices")


def check_manages_market(who: dict[str, str], market: dict[str, Any]) -> None:
    if who["role"] == "admin" or (who["role"] == "market_manager"
                                  and market["manager_id"] == who["sub"]):
        return
    raise Forbidden("only the market's manager sees its stalls' weighings")


def check_may_open_market(who: dict[str, str]) -> None:
    if who["role"] not in ("market_manager", "admin"):
        raise Forbidden("only a market manager opens a market")


def check_device_kind(merchant: dict[str, Any], kind: str) -> None:
    """A recycling box belongs to a recycling point; a scale to any other stall."""
    if (kind == "recycling_box") != (merchant["business_type"] == "recycling"):
        raise InvalidInput("this kind of device does not fit this business",
                           {"kind": ["recycling boxes are for recycling points, scales for "
                                     "stalls"]})


def check_scale_sells(device: dict[str, Any], product: dict[str, Any]) -> None:
    if device["kind"] != "scale":
        raise Forbidden("only a scale posts weighings")
    if product["merchant_id"] != device["merchant_id"]:
        raise Forbidden("this scale belongs to another stall")
    if product["sale_mode"] != pricing.BY_WEIGHT:
        raise InvalidInput("these goods are sold by the piece, not weighed",
                           {"product_id": ["not sold by weight"]})


def catalog_total(product: dict[str, Any], grams: int) -> int:
    """What the catalog charges for this weight: the same pricing function as orders."""
    return pricing.line_price_fen(product["sale_mode"], product["price_fen"], grams,
                                  product.get("price_per"))


def mismatches(product: dict[str, Any], posted: dict[str, Any],
               batch: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every way the posted weighing disagrees with the catalog (empty when it agrees)."""
    found: list[dict[str, Any]] = []
    if posted["unit_price_fen"] != product["price_fen"]:
        found.append({"kind": UNIT_PRICE, "posted": posted["unit_price_fen"],
                      "catalog": product["price_fen"]})
    expected = catalog_total(product, posted["grams"])
    if posted["total_fen"] != expected:
        found.append({"kind": TOTAL, "posted": posted["total_fen"], "catalog": expected})
    if not posted.get("batch"):
        found.append({"kind": NO_BATCH, "posted": None, "catalog": None})
    elif batch is None:
        found.append({"kind": UNKNOWN_BATCH, "posted": posted["batch"], "catalog": None})
    return found


def known_batch(product: dict[str, Any], code: str | None,
                registered: dict[str, Any] | None) -> dict[str, Any] | None:
    """The batch a weighing names, as the catalog traces it: a batch recorded for the product
    (POST .../batches), else the product's own current ``origin`` if it names this batch."""
    if not code:
        return None
    if registered is not None:
        return registered
    origin = product.get("origin") or {}
    if origin.get("batch") != code:
        return None
    return {"code": code, "origin": origin.get("place"), "supplier": origin.get("supplier"),
            "arrived_on": origin.get("arrival_date")}


def stock_short(on_shelf: int, grams: int) -> dict[str, Any]:
    return {"kind": STOCK_SHORT, "posted": grams, "catalog": on_shelf}


def local_day(moment: datetime, tz: str) -> str:
    """The market's calendar day of a moment (weighings are counted per stall per day)."""
    return moment.astimezone(ZoneInfo(tz)).date().isoformat()
