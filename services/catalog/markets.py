"""Markets, their stalls' devices and the goods' batches, as plain functions over the catalog
store: a manager opens a market, a stall owner joins it, the owner or the manager registers
and revokes a stall's scale (or a recycling point's box), an owner records a batch's origin,
supplier and arrival."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.catalog import codes, market_records, scale_rules, schemas, shops
from services.catalog.store import CatalogStore
from services.common.errors import load_or_raise
from services.common.refusals import Conflict, NotFound, Unauthorized

MAX_STALLS = 500  # a market's stall list is bounded: the document never grows without limit


def open_market(store: CatalogStore, who: dict[str, str], body: dict[str, Any],
                now: datetime) -> dict[str, Any]:
    scale_rules.check_may_open_market(who)
    data = load_or_raise(schemas.MarketCreateSchema(), body)
    doc = market_records.new_market(who["sub"], data, now)
    store.insert_market(doc)
    return market_records.public_market(doc)


def market(store: CatalogStore, market_id: str) -> dict[str, Any]:
    doc = store.get_market(market_id)
    if doc is None:
        raise NotFound("no such market")
    return doc


def managed_market(store: CatalogStore, who: dict[str, str], market_id: str) -> dict[str, Any]:
    doc = market(store, market_id)
    scale_rules.check_manages_market(who, doc)
    return doc


def my_markets(store: CatalogStore, who: dict[str, str]) -> list[dict[str, Any]]:
    """The markets a manager opened, oldest first; anyone else manages none."""
    if who["role"] != "market_manager":
        return []
    return [market_records.public_market(doc) for doc in store.markets_of(who["sub"])]


def join_market(store: CatalogStore, who: dict[str, str], market_id: str,
                body: dict[str, Any]) -> dict[str, Any]:
    """The stall's owner puts the stall in a market (a stall is in at most one)."""
    data = load_or_raise(schemas.StallJoinSchema(), body)
    market(store, market_id)
    stall = shops.owned_merchant(store, who, data["merchant_id"])
    current = store.market_of_stall(stall["_id"])
    if current is not None and current["_id"] != market_id:
        raise Conflict("this stall is in another market")
    joined = store.add_stall(market_id, stall["_id"], MAX_STALLS)
    if joined is None:
        raise Conflict(f"a market has at most {MAX_STALLS} stalls")
    return market_records.public_market(joined)


def register_device(store: CatalogStore, who: dict[str, str], merchant_id: str,
                    body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A new scale or box for a stall; its token is in this answer and nowhere else."""
    stall = shops.merchant(store, merchant_id)
    scale_rules.check_manages_stall(who, stall, store.market_of_stall(merchant_id))
    data = load_or_raise(schemas.DeviceCreateSchema(), body)
    scale_rules.check_device_kind(stall, data["kind"])
    token = codes.new_device_token()
    doc = market_records.new_device(stall, data, token, who["sub"], now)
    store.insert_device(doc)
    return market_records.public_device(doc, token)


def revoke_device(store: CatalogStore, who: dict[str, str], device_id: str,
                  now: datetime) -> dict[str, Any]:
    device = store.get_device(device_id)
    if device is None:
        raise NotFound("no such device")
    stall = shops.merchant(store, device["merchant_id"])
    scale_rules.check_manages_stall(who, stall, store.market_of_stall(stall["_id"]))
    return market_records.public_device(store.revoke_device(device_id, who["sub"], now))


def device_for_token(store: CatalogStore, token: Any) -> dict[str, Any]:
    """The live device this credential belongs to; Unauthorized for anything else."""
    if not codes.looks_like_device_token(token):
        raise Unauthorized("send the device's token in X-Device-Token")
    device = store.device_by_token_hash(codes.token_hash(token))
    if device is None:
        raise Unauthorized("this device token is not known")
    if device["revoked_at"] is not None:
        raise Unauthorized("this device was revoked")
    return device


def add_batch(store: CatalogStore, who: dict[str, str], product_id: str,
              body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Trace a delivery of goods: the batch code on the crate, its origin, supplier, arrival."""
    product = shops.on_sale(store, product_id)
    shops.owned_merchant(store, who, product["merchant_id"])
    data = load_or_raise(schemas.BatchCreateSchema(), body)
    doc = market_records.new_batch(product, data, now)
    if not store.insert_batch(doc):
        raise Conflict("this product already has a batch with this code")
    return market_records.public_batch(doc)
