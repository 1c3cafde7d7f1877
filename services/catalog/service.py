"""Catalog service: merchants, their goods and stock, the circle search and the catalog side
of the order saga. Entrypoints only: the work is in shops.py, near.py and reservations.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import eventlet
from nameko.rpc import rpc

from services.catalog import (
    domain,
    market_records,
    markets,
    near,
    records,
    recycling,
    reservations,
    scales,
    schemas,
    shops,
)
from services.catalog.store import CatalogStore
from services.common.broadcast import Announcer, broadcast_handler
from services.common.config import setting
from services.common.errors import Conflict, InvalidInput, load_or_raise
from services.common.events import load_event
from services.common.geo import TravelModel
from services.common.leases import LeaseBusy, LeasesProvider
from services.common.messaging import event_handler
from services.common.service_base import ServiceBase, actor_of
from services.common.store import StoreProvider

# Told to every catalog replica when a merchant is added, edited or moved (broadcast.py).
# An announcement to the other catalog replicas (services/common/broadcast.py), named apart
# from the public merchant_changed event: it carries cells, not an event envelope.
MERCHANT_CHANGED = "merchant_cells_changed"


class CatalogStoreProvider(StoreProvider):
    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.store.announce = Announcer(setting(config, "AMQP_URI"), "catalog",
                                        MERCHANT_CHANGED, config)


class CatalogService(ServiceBase):
    name = "catalog"
    store = CatalogStoreProvider(CatalogStore, "catalog")
    # One order's events are handled by one worker of one replica at a time (reservations.py
    # relies on it); so is one scale's post (scales.py). Drop-offs need none: recycling.py.
    leases = LeasesProvider("CATALOG_LEASE_SECONDS", "CATALOG_LEASE_WAIT_SECONDS")

    def _walk_model(self) -> TravelModel:
        return TravelModel(setting(self.config, "WALK_SPEED_M_PER_MIN"),
                           setting(self.config, "WALK_DETOUR_FACTOR"))

    # merchants and their goods

    @rpc
    def create_merchant(self, actor: dict, merchant: dict) -> dict:
        created = shops.create_merchant(self.store, actor_of(actor), merchant,
                                        self.clock.now())
        self.flush(self.store.merchants, created["id"])
        return created

    @rpc
    def update_merchant(self, actor: dict, merchant_id: str, changes: dict) -> dict:
        """The owner edits the shop: hours, delivery settings, services, address, place."""
        updated = shops.update_merchant(self.store, actor_of(actor), merchant_id, changes,
                                        self.clock.now())
        self.flush(self.store.merchants, merchant_id)
        return updated

    @rpc
    def get_merchant(self, merchant_id: str) -> dict:
        return records.public_merchant(shops.merchant(self.store, merchant_id))

    @rpc
    def my_merchants(self, actor: dict) -> dict:
        """The shops this merchant owns (by the owner index), oldest first."""
        return {"items": shops.my_merchants(self.store, actor_of(actor))}

    @rpc
    def create_product(self, actor: dict, merchant_id: str, product: dict) -> dict:
        created = shops.create_product(self.store, actor_of(actor), merchant_id, product,
                                       self.clock.now())
        self.flush(self.store.products, created["id"])
        return created

    @rpc
    def update_product(self, actor: dict, product_id: str, changes: dict) -> dict:
        updated = shops.update_product(self.store, actor_of(actor), product_id, changes,
                                       self.clock.now())
        self.flush(self.store.products, product_id)
        return updated

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
        deleted = shops.delete_product(self.store, actor_of(actor), product_id,
                                       self.clock.now())
        self.flush(self.store.products, product_id)
        return deleted

    @rpc
    def stock_history(self, actor: dict, product_id: str) -> dict:
        """Who changed the stock, when, from what to what (owner and admin only)."""
        return shops.stock_history(self.store, actor_of(actor), product_id)

    @broadcast_handler("catalog", MERCHANT_CHANGED)
    def on_merchant_changed(self, payload: dict) -> None:
        """Another replica changed merchants in some cells: forget this replica's copies."""
        self.store.heard_change(payload)

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

    # the wet market: markets, devices, batches, weighings and receipts (docs/market.md)

    def _tz(self) -> str:
        return setting(self.config, "CITY_TZ")

    @rpc
    def open_market(self, actor: dict, market: dict) -> dict:
        return markets.open_market(self.store, actor_of(actor), market, self.clock.now())

    @rpc
    def get_market(self, actor: dict, market_id: str) -> dict:
        return market_records.public_market(
            markets.managed_market(self.store, actor_of(actor), market_id))

    @rpc
    def my_markets(self, actor: dict) -> dict:
        """The markets this manager opened (the web app's market pages start here)."""
        return {"items": markets.my_markets(self.store, actor_of(actor))}

    @rpc
    def join_market(self, actor: dict, market_id: str, stall: dict) -> dict:
        return markets.join_market(self.store, actor_of(actor), market_id, stall)

    @rpc
    def register_device(self, actor: dict, merchant_id: str, device: dict) -> dict:
        return markets.register_device(self.store, actor_of(actor), merchant_id, device,
                                       self.clock.now())

    @rpc
    def revoke_device(self, actor: dict, device_id: str) -> dict:
        return markets.revoke_device(self.store, actor_of(actor), device_id, self.clock.now())

    @rpc
    def add_batch(self, actor: dict, product_id: str, batch: dict) -> dict:
        return markets.add_batch(self.store, actor_of(actor), product_id, batch,
                                 self.clock.now())

    @rpc
    def record_weighing(self, device_token: str, weighing: dict) -> dict:
        """A scale's post, authenticated by its device token. A retry with the same sequence
        returns the first receipt."""
        device = markets.device_for_token(self.store, device_token)
        posted = load_or_raise(schemas.WeighingCreateSchema(), weighing)
        wid = market_records.weighing_id(device["_id"], posted["sequence"])
        try:
            with self.leases.hold(f"weighing:{wid}"):
                doc, _created = scales.record_weighing(self.store, device, posted,
                                                       self.clock.now(), self._tz())
        except LeaseBusy:
            # The same post is being recorded by another request (the scale's own retry
            # racing the first): the scale posts again and gets the receipt.
            raise Conflict("this weighing is being recorded; post it again shortly",
                           code="in_progress") from None
        return market_records.public_receipt(doc)

    @rpc
    def get_receipt(self, code: str) -> dict:
        return scales.receipt(self.store, code)

    @rpc
    def flag_receipt(self, actor: dict, code: str, flag: dict) -> dict:
        data = load_or_raise(schemas.ReceiptFlagSchema(), flag)
        answer, stored = scales.flag_receipt(self.store, actor_of(actor), code,
                                             data["reason"], self.clock.now())
        if stored is not None:
            self.flush(self.store.receipt_flags, stored["_id"], stored)
        return answer

    @rpc
    def market_day(self, actor: dict, market_id: str, day: str) -> dict:
        args = load_or_raise(schemas.MarketDayArgs(), {"day": day})
        return scales.market_day(self.store, actor_of(actor), market_id,
                                 args["day"].isoformat())

    @rpc
    def market_mismatches(self, actor: dict, market_id: str, day: str) -> dict:
        args = load_or_raise(schemas.MarketDayArgs(), {"day": day})
        return scales.market_mismatches(self.store, actor_of(actor), market_id,
                                        args["day"].isoformat())

    # recycling points (docs/market.md)

    @rpc
    def post_recycling_rates(self, actor: dict, merchant_id: str, rates: dict) -> dict:
        data = load_or_raise(schemas.RecyclingRatesSchema(), rates)
        return recycling.post_rates(self.store, actor_of(actor), merchant_id, data,
                                    self.clock.now())

    @rpc
    def get_recycling_rates(self, merchant_id: str) -> dict:
        return recycling.rates_of(self.store, merchant_id)

    @rpc
    def issue_drop_off_code(self, actor: dict) -> dict:
        return recycling.issue_code(self.store, actor_of(actor), self.clock.now(),
                                    setting(self.config, "RECYCLING_CODE_TTL_SECONDS"))

    @rpc
    def record_drop_off(self, device_token: str, drop_off: dict) -> dict:
        """A recycling box's post, authenticated by its device token. A retry with the same
        sequence returns the first drop-off; the resident is credited once."""
        device = markets.device_for_token(self.store, device_token)
        posted = load_or_raise(schemas.DropOffCreateSchema(), drop_off)
        doc, _created = recycling.record_drop_off(self.store, device, posted,
                                                  self.clock.now(), self._tz())
        return market_records.public_drop_off(doc)

    @rpc
    def recycling_credits(self, actor: dict) -> dict:
        return recycling.credits_of(self.store, actor_of(actor))

    @rpc
    def recycling_intake(self, actor: dict, merchant_id: str, day: str) -> dict:
        args = load_or_raise(schemas.MarketDayArgs(), {"day": day})
        return recycling.intake(self.store, actor_of(actor), merchant_id,
                                args["day"].isoformat())

    # the order saga

    @event_handler("orders", "order_placed")
    def on_order_placed(self, payload: dict) -> None:
        event = load_event(payload, "order_placed")
        with self.leases.hold(f"order:{event['data']['order_id']}"):
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
        with self.leases.hold(f"order:{event['data']['order_id']}"):
            close(self.store, event, self.clock.now())
