"""Orders service: placing orders, their status, and the orders side of the saga.
Entrypoints only: the work is in actions.py and saga.py."""

from __future__ import annotations

from nameko.rpc import rpc

from services.common.config import setting
from services.common.events import load_event
from services.common.messaging import event_handler
from services.common.metrics import ServiceMetrics
from services.common.service_base import ServiceBase, actor_of
from services.common.store import StoreProvider
from services.common.timers import timer_every
from services.orders import actions, records, saga
from services.orders.metrics import order_gauges
from services.orders.store import OrdersStore


class OrdersService(ServiceBase):
    name = "orders"
    store = StoreProvider(OrdersStore, "orders")
    metrics = ServiceMetrics(order_gauges)

    @rpc
    def place_order(self, actor: dict, idempotency_key: str, order: dict) -> dict:
        """Accept an order (status pending). The same key and body returns the same order."""
        doc, created = actions.place_order(self.store, actor_of(actor), idempotency_key, order,
                                           self.clock.now())
        if created:
            self.flush(self.store.orders, doc["_id"], doc)
        return {"order": records.public_order(doc), "created": created}

    @rpc
    def get_order(self, actor: dict, order_id: str) -> dict:
        return records.public_order(actions.visible_order(self.store, actor_of(actor), order_id))

    @rpc
    def list_orders(self, actor: dict, page: int = 1, page_size: int = 20,
                    status: str | None = None) -> dict:
        return actions.list_orders(self.store, actor_of(actor), page, page_size, status,
                                   self.clock.now())

    @rpc
    def act(self, actor: dict, order_id: str, action: str, reason: str | None = None) -> dict:
        """accept, decline, dispatch, deliver (merchant) or cancel (resident)."""
        moved = actions.act(self.store, actor_of(actor), order_id, action, reason,
                            self.clock.now())
        self.flush(self.store.orders, order_id, moved)
        return records.public_order(moved)

    # the saga: answers from the catalog

    @event_handler("catalog", "stock_reserved")
    def on_stock_reserved(self, payload: dict) -> None:
        moved = saga.confirm_reserved(
            self.store, load_event(payload, "stock_reserved"), self.clock.now(),
            setting(self.config, "ORDER_ACCEPT_TIMEOUT_SECONDS"))
        if moved is not None:
            self.flush(self.store.orders, moved["_id"], moved)

    @event_handler("catalog", "stock_rejected")
    def on_stock_rejected(self, payload: dict) -> None:
        moved = saga.reject_unavailable(self.store, load_event(payload, "stock_rejected"),
                                        self.clock.now())
        if moved is not None:
            self.flush(self.store.orders, moved["_id"], moved)

    # Timer intervals are fixed when the class is defined: read at import.
    @timer_every("ORDER_TIMER_SECONDS")
    def expire_unaccepted(self) -> int:
        """Decline confirmed orders the merchant did not accept in time."""
        declined = saga.expire_unaccepted(self.store, self.clock.now())
        for order_id in declined:
            self.flush(self.store.orders, order_id)
        return len(declined)
