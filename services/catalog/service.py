"""Catalog service: merchants, their goods and stock, the circle search and the catalog side
of the order saga. Entrypoints only: the work is in shops.py, near.py and reservations.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import eventlet
from nameko.rpc import rpc

from services.catalog import domain, near, records, reservations, schemas, shops
from services.catalog.store import CatalogStore
from services.common.config import setting
from services.common.errors import InvalidInput, load_or_raise
from services.common.events import load_event
from services.common.geo import TravelModel
from services.common.keyed_locks import KeyedLocksProvider
from services.common.messaging import event_handler
from services.common.service_base import ServiceBase, actor_of
from services.common.store import StoreProvider


class CatalogService(ServiceBase):
    name = "catalog"
    store = StoreProvider(CatalogStore, "catalog")
    # One order's events are handled one at a time (reservations.py relies on it).
    order_locks = KeyedLocksProvider()

    def _walk_model(self) -> TravelModel:
        return TravelModel(setting(self.config, "WALK_SPEED_M_PER_MIN"),
                           setting(self.config, "WALK_DETOUR_FACTOR"))

    # merchants and their goods

    @rpc
    def create_merchant(self, actor: dict, merchant: dict) -> dict:
        return shops.create_merchant(self.store, actor_of(actor), merchant, self.clock.now())

    @rpc
    def update_merchant(self, actor: dict, merchant_id: str, changes: dict) -> dict:
        """The owner edits the shop: hours, delivery settings, services, address, place."""
        return shops.update_merchant(self.store, actor_of(actor), merchant_id, changes,
                                     self.clock.now())

    @rpc
    def get_merchant(self, merchant_id: str) -> dict:
        return records.public_merchant(shops.merchant(self.store, merchant_id))

    @rpc
    def create_product(self, actor: dict, merchant_id: str, product: dict) -> dict:
        return shops.create_product(self.store, actor_of(actor), merchant_id, product,
                                    self.clock.now())

    @rpc
    def update_product(self, actor: dict, product_id: str, changes: dict) -> dict:
        return shops.update_product(self.store, actor_of(actor), product_id, changes,
                                    self.clock.now())

    @rpc
    def get_product(self, product_id: str) -> dict:
        return records.public_product(shops.on_sale(self.store, product_id))

    @rpc
    def list_products(self, merchant_id: str, page: int = 1, page_size: int = 20) -> dict:
        return shops.list_products(self.store, merchant_id, page, page_size)

    @rpc
    def delete_product(self, actor: dict, product_id: str) -> dict:
        """Soft delete (owner only): gone from the shop and every search; past orders keep
        their own copies of the lines."""
        return shops.delete_product(self.store, actor_of(actor), product_id, self.clock.now())

    @rpc
    def stock_history(self, actor: dict, product_id: str) -> dict:
        """Who changed the stock, when, from what to what (owner and admin only)."""
        return shops.stock_history(self.store, actor_of(actor), product_id)

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
        domain.check_planner(actor_of(actor))
        args = load_or_raise(schemas.CoverageArgs(), query)
        return near.coverage_at(self.store, args["lat"], args["lng"], self._walk_model())

    @rpc
    def coverage_area(self, actor: dict, query: dict) -> dict:
        domain.check_planner(actor_of(actor))
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
        with self.order_locks.hold(event["data"]["order_id"]):
            decided = reservations.reserve_for_order(self.store, event, self._walk_model(),
                                                     self.clock.now())
        if decided is not None:
            self.flush(self.store.ledger, decided["_id"], decided)

    @event_handler("orders", "order_cancelled")
    def on_order_cancelled(self, payload: dict) -> None:
        self._close(load_event(payload, "order_cancelled"), reservations.release_for_order)

    @event_handler("orders", "order_declined")
    def on_order_declined(self, payload: dict) -> None:
        self._close(load_event(payload, "order_declined"), reservations.release_for_order)

    @event_handler("orders", "order_delivered")
    def on_order_delivered(self, payload: dict) -> None:
        self._close(load_event(payload, "order_delivered"), reservations.sell_for_order)

    def _close(self, event: dict,
               close: Callable[[CatalogStore, dict, datetime], int]) -> None:
        with self.order_locks.hold(event["data"]["order_id"]):
            close(self.store, event, self.clock.now())
