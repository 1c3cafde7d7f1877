"""Orders service: placing orders, their status, and the orders side of the saga.
Entrypoints only: the work is in actions.py and saga.py."""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from services.common.config import setting
from services.common.events import load_event
from services.common.messaging import event_handler
from services.common.metrics import ServiceMetrics
from services.common.service_base import ServiceBase, actor_of
from services.common.store import StoreProvider
from services.common.timers import timer_every
from services.orders import actions, paying, records, saga
from services.orders.metrics import order_gauges
from services.orders.payments import PaymentProvider, build_provider
from services.orders.store import OrdersStore


class PaymentsProvider(DependencyProvider):
    """The payment provider PAYMENT_PROVIDER names (payments.py), built once per process."""

    def setup(self) -> None:
        self.provider = build_provider(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> PaymentProvider:
        return self.provider


class OrdersService(ServiceBase):
    name = "orders"
    store = StoreProvider(OrdersStore, "orders")
    payments = PaymentsProvider()
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

    # payments (paying.py, docs/payments.md)

    @rpc
    def start_payment(self, actor: dict, order_id: str, payment: dict) -> dict:
        """The resident pays online (through the provider) or chooses cash on delivery."""
        order = paying.start_payment(self.store, self.payments, actor_of(actor), order_id,
                                     payment, self.clock.now())
        self.flush(self.store.orders, order_id)
        return records.public_order(order)

    @rpc
    def payment_callback(self, provider: str, headers: dict, body: str) -> dict:
        """A provider's signed notification, as received (no person calls this)."""
        order_id, changed = paying.handle_callback(self.store, self.payments, provider,
                                                   headers, body, self.clock.now())
        if changed:
            self._after_payment_change(order_id)
        return {"received": True, "changed": changed}

    @rpc
    def sandbox_pay(self, actor: dict, order_id: str, outcome: str = "paid") -> dict:
        """The sandbox provider pays (or fails) the order's pending payment."""
        paying.sandbox_pay(self.store, self.payments, actor_of(actor), order_id,
                           outcome == "paid", self.clock.now())
        self._after_payment_change(order_id)
        return records.public_order(self.store.get(order_id))

    # A paid order that ends declined (by the shop or the timer) or cancelled is refunded.
    # These are the orders service's own events: at least once, after the move is written.

    @event_handler("orders", "order_declined")
    def on_order_declined(self, payload: dict) -> None:
        self._refund_closed(load_event(payload, "order_declined"))

    @event_handler("orders", "order_cancelled")
    def on_order_cancelled(self, payload: dict) -> None:
        self._refund_closed(load_event(payload, "order_cancelled"))

    def _refund_closed(self, event: dict) -> None:
        order_id = event["data"]["order_id"]
        if paying.refund_if_paid(self.store, order_id, self.clock.now(), event["id"]):
            self._after_payment_change(order_id)

    def _after_payment_change(self, order_id: str) -> None:
        """Publish what the change recorded, then ask for a refund it may have made due."""
        self.flush(self.store.orders, order_id)
        if paying.try_refund(self.store, self.payments, order_id, self.clock.now(),
                             *self._refund_retry()):
            self.flush(self.store.orders, order_id)

    def _refund_retry(self) -> tuple[float, float]:
        return (setting(self.config, "PAYMENT_REFUND_RETRY_BASE_SECONDS"),
                setting(self.config, "PAYMENT_REFUND_RETRY_MAX_SECONDS"))

    @timer_every("PAYMENT_TIMER_SECONDS")
    def retry_refunds(self) -> int:
        """Ask the provider again for every refund that is due."""
        refunded = paying.retry_refunds(self.store, self.payments, self.clock.now(),
                                        *self._refund_retry())
        for order_id in refunded:
            self.flush(self.store.orders, order_id)
        return len(refunded)
