"""Catalog service: merchants, their goods and stock. Thin entrypoints over domain functions."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc

from services.catalog import domain, reservations, schemas
from services.catalog.store import CatalogStore
from services.common.config import setting
from services.common.errors import Forbidden, NotFound, load_or_raise
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
    def get_merchant(self, merchant_id: str) -> dict:
        return domain.public_merchant(self._merchant(merchant_id))

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
        audit = None
        if "stock" in data and data["stock"] != product["stock"]:
            audit = {"by": who["sub"], "at": now, "from": product["stock"], "to": data["stock"]}
        updated = self.store.update_product(product_id, {**data, "updated_at": now}, audit)
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

    def _owned_merchant(self, who: dict, merchant_id: str) -> dict[str, Any]:
        merchant = self._merchant(merchant_id)
        if merchant["owner_id"] != who["sub"] and who["role"] != "admin":
            raise Forbidden("only the shop's owner can change its goods")
        return merchant
