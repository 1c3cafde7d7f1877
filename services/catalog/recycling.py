"""Recycling drop-off, as plain functions over the catalog store: a recycling point posts its
rates, a resident's app asks for a short-lived drop-off code, the point's weighing box posts
the weighed categories against that code, the resident sees the credit, the point its intake.

How the resident is identified (docs/market.md): the box never learns who the resident is
from anything the resident could forge or replay. The app shows a code the catalog issued to
the signed-in resident (8 letters, valid RECYCLING_CODE_TTL_SECONDS, good for one drop-off);
the box posts it with its own device token, and the catalog credits the code's resident.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.catalog import codes, market_records, recycling_rules, scale_rules, shops
from services.catalog.store import CatalogStore
from services.common.refusals import Conflict, Forbidden, InvalidInput, NotFound

CODE_LENGTH = 8  # 40 bits, alive for minutes and used once
CODE_ATTEMPTS = 5
RECENT = 20  # drop-offs listed with the credit


def post_rates(store: CatalogStore, who: dict[str, str], merchant_id: str,
               rates: dict[str, int], now: datetime) -> dict[str, Any]:
    point = shops.merchant(store, merchant_id)
    recycling_rules.check_point_owner(who, point)
    recycling_rules.check_point(point)
    doc = market_records.new_rates(merchant_id, rates, now)
    store.put_rates(doc)
    return market_records.public_rates(doc)


def rates_of(store: CatalogStore, merchant_id: str) -> dict[str, Any]:
    doc = store.get_rates(merchant_id)
    if doc is None:
        raise NotFound("this recycling point has posted no rates")
    return market_records.public_rates(doc)


def issue_code(store: CatalogStore, who: dict[str, str], now: datetime,
               ttl_seconds: float) -> dict[str, Any]:
    if who["role"] != "resident":
        raise Forbidden("drop-off codes are for residents")
    expires = now + timedelta(seconds=ttl_seconds)
    for _ in range(CODE_ATTEMPTS):
        code = codes.new_receipt_code()[:CODE_LENGTH]
        if store.insert_drop_off_code(
                market_records.new_drop_off_code(who["sub"], code, now, expires)):
            return {"code": code, "expires_at": expires.isoformat()}
    raise RuntimeError("could not draw an unused drop-off code")


def record_drop_off(store: CatalogStore, device: dict[str, Any], posted: dict[str, Any],
                    now: datetime, tz: str) -> tuple[dict[str, Any], bool]:
    """The drop-off and whether this call recorded it (a retried post returns the first).

    Safe with the same post handled twice at once (a retry racing the first, in two catalog
    replicas) without a lease: the code is claimed for this drop-off id (a second claim by
    the same id succeeds), the credit is the drop-off document itself, and its insert under
    the id is the guard; the loser returns the winner's document."""
    recycling_rules.check_box(device)
    drop_id = market_records.weighing_id(device["_id"], posted["sequence"])
    existing = store.get_drop_off(drop_id)
    if existing is not None:
        if existing["code"] != posted["code"]:
            raise Conflict("this box already posted another drop-off with this sequence")
        return existing, False
    recycling_rules.check_items(posted["items"])
    rates = store.get_rates(device["merchant_id"])
    if rates is None:
        raise Conflict("this recycling point has posted no rates")
    code_doc = store.get_drop_off_code(posted["code"])
    if not recycling_rules.code_usable(code_doc, now) \
            or not store.claim_drop_off_code(posted["code"], drop_id, now):
        raise InvalidInput("the drop-off code is unknown, expired or used",
                           {"code": ["ask the resident to show a new code"]})
    earned = recycling_rules.earned_fen(rates["rates"], posted["items"])
    day = scale_rules.local_day(posted["weighed_at"], tz)
    doc = market_records.new_drop_off(device, code_doc, posted, rates["rates"], earned, day,
                                      now)
    if not store.insert_drop_off(doc):  # another catalog process recorded it meanwhile
        return store.get_drop_off(drop_id), False
    return doc, True


def credits_of(store: CatalogStore, who: dict[str, str]) -> dict[str, Any]:
    docs = store.drop_offs_of_resident(who["sub"])
    return {"resident_id": who["sub"], "credit_fen": sum(d["credited_fen"] for d in docs),
            "drop_offs": len(docs),
            "recent": [market_records.public_drop_off(d) for d in docs[:RECENT]]}


def intake(store: CatalogStore, who: dict[str, str], merchant_id: str,
           day: str) -> dict[str, Any]:
    point = shops.merchant(store, merchant_id)
    recycling_rules.check_point_owner(who, point)
    return market_records.intake_day(merchant_id, day, store.drop_offs_on(merchant_id, day),
                                      recycling_rules.CATEGORIES)
