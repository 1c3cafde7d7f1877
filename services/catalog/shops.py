"""Merchants and their goods, as plain functions over the catalog store: registering and
editing a shop, adding, editing, listing and removing its goods, the stock audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.catalog import domain, records, schemas
from services.catalog.store import CatalogStore
from services.common.errors import load_or_raise
from services.common.paging import offset, page_dict
from services.common.refusals import NotFound


def create_merchant(store: CatalogStore, who: dict[str, str], body: dict[str, Any],
                    now: datetime) -> dict[str, Any]:
    domain.check_may_register(who)
    data = load_or_raise(schemas.MerchantCreateSchema(), body)
    doc = records.new_merchant(who["sub"], data, now)
    store.insert_merchant(doc, [records.merchant_changed_event(doc["_id"], "created")])
    return records.public_merchant(doc)


def update_merchant(store: CatalogStore, who: dict[str, str], merchant_id: str,
                    body: dict[str, Any], now: datetime) -> dict[str, Any]:
    merchant = owned_merchant(store, who, merchant_id)
    data = load_or_raise(schemas.MerchantUpdateSchema(), body)
    updated = store.update_merchant(merchant_id, domain.merchant_changes(merchant, data, now),
                                    [records.merchant_changed_event(merchant_id, "updated")])
    if updated is None:
        raise NotFound("no such merchant")
    return records.public_merchant(updated)


def create_product(store: CatalogStore, who: dict[str, str], merchant_id: str,
                   body: dict[str, Any], now: datetime) -> dict[str, Any]:
    merchant = owned_merchant(store, who, merchant_id)
    data = load_or_raise(schemas.ProductCreateSchema(), body)
    doc = records.new_product(merchant, data, now)
    store.insert_product(doc, [records.product_changed_event(doc, "created")])
    return records.public_product(doc)


def update_product(store: CatalogStore, who: dict[str, str], product_id: str,
                   body: dict[str, Any], now: datetime) -> dict[str, Any]:
    product = on_sale(store, product_id)
    owned_merchant(store, who, product["merchant_id"])
    data = load_or_raise(schemas.ProductUpdateSchema(), body)
    audit = domain.stock_change(who["sub"], product, data.get("stock"), now)
    updated = store.update_product(product_id, domain.product_changes(data, now), audit,
                                   [records.product_changed_event(product, "updated")])
    if updated is None:
        raise NotFound("no such product")
    return records.public_product(updated)


def list_products(store: CatalogStore, merchant_id: str, page: int,
                  page_size: int) -> dict[str, Any]:
    merchant(store, merchant_id)
    docs, total, capped = store.products_of(merchant_id, offset(page, page_size), page_size)
    return page_dict(docs, page, page_size, total, records.public_product, capped)


def delete_product(store: CatalogStore, who: dict[str, str], product_id: str,
                   now: datetime) -> dict[str, Any]:
    product = on_sale(store, product_id)
    owned_merchant(store, who, product["merchant_id"])
    if store.delete_product(product_id, who["sub"], now,
                            [records.product_changed_event(product, "deleted")]) is None:
        raise NotFound("no such product")
    return {"id": product_id, "deleted": True}


def stock_history(store: CatalogStore, who: dict[str, str], product_id: str) -> dict[str, Any]:
    """Also for removed goods: the audit outlives the shelf."""
    product = store.get_product(product_id)
    if product is None:
        raise NotFound("no such product")
    owned_merchant(store, who, product["merchant_id"])
    return records.public_stock_history(product)


def merchant(store: CatalogStore, merchant_id: str) -> dict[str, Any]:
    doc = store.get_merchant(merchant_id)
    if doc is None:
        raise NotFound("no such merchant")
    return doc


def on_sale(store: CatalogStore, product_id: str) -> dict[str, Any]:
    """The product unless it does not exist or was removed."""
    product = store.get_product(product_id)
    if product is None or product.get("deleted"):
        raise NotFound("no such product")
    return product


def owned_merchant(store: CatalogStore, who: dict[str, str], merchant_id: str) -> dict[str, Any]:
    doc = merchant(store, merchant_id)
    domain.check_owner(doc, who)
    return doc


def my_merchants(store: CatalogStore, who: dict[str, str]) -> list[dict[str, Any]]:
    """The shops a merchant owns; anyone else owns none."""
    if who["role"] != "merchant":
        return []
    return [records.public_merchant(doc) for doc in store.merchants_of(who["sub"])]
