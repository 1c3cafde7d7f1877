"""Catalog service: merchants, their goods and stock. Thin entrypoints over domain functions."""

from __future__ import annotations

from typing import Any

import eventlet
from nameko.rpc import rpc

from services.catalog import domain, near, reservations, schemas
from services.catalog.store import CatalogStore
from services.common.config import setting
from services.common.errors import Forbidden, InvalidInput, NotFound, load_or_raise
from services.common.events import load_event
from services.common.geo import TravelModel
from services.common.messaging import event_handler
from services.common.service_base import ServiceBase, actor_of
from services.common.store import StoreProvider


class CatalogService(ServiceBase):
    name = "catalog"
    store = StoreProvider(CatalogStore, "catalog")

    def _walk_model(self) -> TravelModel:
        return TravelModel(setting(self.config, "WALK_SPEED_M_PER_MIN"),
                           setting(self.config, "WALK_DETOUR_FACTOR"))

    # merchants

    @rpc
    def create_merchant(self, actor: dict, merchant: dict) -> dict:
        who = actor_of(actor)
        if who["role"] not in ("merchant", "admin"):
            raise Forbidden("only merchants can register a shop")
        data = load_or_raise(schemas.MerchantCreateSchema(), merchant)
        doc = domain.new_merchant(who["sub"], data, self.clock.now())
        self.store.insert_merchant(doc)
        return domain.public_merchant(doc)

    @rpc
    def update_merchant(self, actor: dict, merchant_id: str, changes: dict) -> dict:
        """The owner edits the shop: hours, delivery settings, services, address, place."""
        merchant = self._owned_merchant(actor_of(actor), merchant_id)
        data = load_or_raise(schemas.MerchantUpdateSchema(), changes)
        updated = self.store.update_merchant(
            merchant_id, domain.merchant_changes(merchant, data, self.clock.now()))
        if updated is None:
            raise NotFound("no such merchant")
        return domain.public_merchant(updated)

    @rpc
    def get_merchant(self, merchant_id: str) -> dict:
        return domain.public_merchant(self._merchant(merchant_id))

    @rpc
    def my_merchants(self, actor: dict) -> dict:
        """The shops this merchant owns (by the owner index), oldest first."""
        who = actor_of(actor)
        return {"items": [domain.public_merchant(d) for d in self.store.merchants_of(who["sub"])]}

    # products

    @rpc
    def create_product(self, actor: dict, merchant_id: str, product: dict) -> dict:
        merchant = self._owned_merchant(actor_of(actor), merchant_id)
        data = load_or_raise(schemas.ProductCreateSchema(), product)
        doc = domain.new_product(merchant, data, self.clock.now())
        self.store.insert_product(doc)
        return domain.public_product(doc)

    @rpc
    def update_product(self, actor: dict, product_id: str, changes: dict) -> dict:
        who = actor_of(actor)
        product = self._product(product_id)
        self._owned_merchant(who, product["merchant_id"])
        data = load_or_raise(schemas.ProductUpdateSchema(), changes)
        now = self.clock.now()
        audit = domain.stock_change(who["sub"], product, data.get("stock"), now)
        updated = self.store.update_product(product_id, domain.product_changes(data, now), audit)
        if updated is None:
            raise NotFound("no such product")
        return domain.public_product(updated)

    @rpc
    def get_product(self, product_id: str) -> dict:
        return domain.public_product(self._product(product_id))

    @rpc
    def list_products(self, merchant_id: str, page: int = 1, page_size: int = 20) -> dict:
        self._merchant(merchant_id)
        docs, total = self.store.products_of(merchant_id, (page - 1) * page_size, page_size)
        return {"items": [domain.public_product(d) for d in docs], "page": page,
                "page_size": page_size, "total": total}

    @rpc
    def delete_product(self, actor: dict, product_id: str) -> dict:
        """Soft delete (owner only): gone from the shop and every search; past orders keep
        their own copies of the lines."""
        who = actor_of(actor)
        product = self._product(product_id)
        self._owned_merchant(who, product["merchant_id"])
        deleted = self.store.delete_product(product_id, who["sub"], self.clock.now())
        if deleted is None:
            raise NotFound("no such product")
        return {"id": product_id, "deleted": True}

    @rpc
    def stock_history(self, actor: dict, product_id: str) -> dict:
        """Who changed the stock, when, from what to what (owner and admin only)."""
        who = actor_of(actor)
        product = self.store.get_product(product_id)
        if product is None:
            raise NotFound("no such product")
        self._owned_merchant(who, product["merchant_id"])
        return domain.public_stock_history(product)

    # the 15-minute circle

    @rpc
    def near_merchants(self, query: dict) -> dict:
        args = load_or_raise(schemas.NearMerchantsArgs(), query)
        return near.near_merchants(self.store, args, self._walk_model(), self.clock.now(),
                                   setting(self.config, "CITY_TZ"))

    @rpc
    def near_products(self, query: dict) -> dict:
        args = load_or_raise(schemas.NearProductsArgs(), query)
        return near.near_products(self.store, args, self._walk_model())

    @rpc
    def coverage(self, actor: dict, query: dict) -> dict:
        self._planner(actor_of(actor))
        args = load_or_raise(schemas.CoverageArgs(), query)
        return near.coverage_at(self.store, args["lat"], args["lng"], self._walk_model())

    @rpc
    def coverage_area(self, actor: dict, query: dict) -> dict:
        self._planner(actor_of(actor))
        args = load_or_raise(schemas.CoverageAreaArgs(), query)
        try:
            return near.coverage_area(self.store, args, self._walk_model(),
                                      pause=lambda: eventlet.sleep(0))
        except ValueError as exc:  # too many cells, or too large an area
            raise InvalidInput(str(exc), {"_schema": [str(exc)]}) from None

    # the order saga

    @event_handler("orders", "order_placed")
    def on_order_placed(self, payload: dict) -> None:
        event = load_event(payload, "order_placed")
        ledger_id = reservations.reserve_for_order(self.store, event, self._walk_model(),
                                                   self.clock.now())
        if ledger_id is not None:
            self.flush(self.store.ledger, ledger_id)

    @event_handler("orders", "order_cancelled")
    def on_order_cancelled(self, payload: dict) -> None:
        reservations.release_for_order(self.store, load_event(payload, "order_cancelled"),
                                       self.clock.now())

    @event_handler("orders", "order_declined")
    def on_order_declined(self, payload: dict) -> None:
        reservations.release_for_order(self.store, load_event(payload, "order_declined"),
                                       self.clock.now())

    @event_handler("orders", "order_delivered")
    def on_order_delivered(self, payload: dict) -> None:
        reservations.sell_for_order(self.store, load_event(payload, "order_delivered"),
                                    self.clock.now())

    # helpers

    def _merchant(self, merchant_id: str) -> dict[str, Any]:
        merchant = self.store.get_merchant(merchant_id)
        if merchant is None:
            raise NotFound("no such merchant")
        return merchant

    def _product(self, product_id: str) -> dict[str, Any]:
        product = self.store.get_product(product_id)
        if product is None or product.get("deleted"):
            raise NotFound("no such product")
        return product

    @staticmethod
    def _planner(who: dict) -> None:
        if who["role"] not in ("planner", "admin"):
            raise Forbidden("coverage reports are for planners")

    def _owned_merchant(self, who: dict, merchant_id: str) -> dict[str, Any]:
        merchant = self._merchant(merchant_id)
        if merchant["owner_id"] != who["sub"] and who["role"] != "admin":
            raise Forbidden("only the shop's owner can change its goods")
        return merchant
