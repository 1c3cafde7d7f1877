"""Orders service: placing orders, their status, and the orders side of the saga."""

from __future__ import annotations

import os
from typing import Any

from nameko.rpc import rpc
from nameko.timer import timer

from services.common.config import setting
from services.common.errors import BadRequest, Conflict, Forbidden, NotFound, load_or_raise
from services.common.events import load_event
from services.common.messaging import event_handler
from services.common.metrics import ServiceMetrics
from services.common.service_base import ServiceBase, actor_of
from services.common.store import StoreProvider
from services.orders import domain, schemas
from services.orders.metrics import order_gauges
from services.orders.store import OrdersStore

TIMER_SECONDS = float(os.environ.get("ORDER_TIMER_SECONDS", "5"))


class OrdersService(ServiceBase):
    name = "orders"
    store = StoreProvider(OrdersStore, "orders")
    metrics = ServiceMetrics(order_gauges)

    @rpc
    def place_order(self, actor: dict, idempotency_key: str, order: dict) -> dict:
        """Accept an order (status pending). The same key and body returns the same order."""
        who = actor_of(actor)
        if who["role"] != "resident":
            raise Forbidden("only residents place orders")
        data = load_or_raise(schemas.OrderCreateSchema(), order)
        doc = domain.new_order(who["sub"], idempotency_key, data, self.clock.now())
        stored = self.store.insert_new(doc, [domain.placed_event(doc)])
        if stored is None:
            existing = self.store.by_idempotency_key(doc["idempotency_key"])
            domain.check_replay(existing, data)
            return {"order": domain.public_order(existing), "created": False}
        self.flush(self.store.orders, doc["_id"])
        return {"order": domain.public_order(doc), "created": True}

    @rpc
    def get_order(self, actor: dict, order_id: str) -> dict:
        return domain.public_order(self._visible(actor_of(actor), order_id))

    @rpc
    def list_orders(self, actor: dict, page: int = 1, page_size: int = 20,
                    status: str | None = None) -> dict:
        who = actor_of(actor)
        if who["role"] == "admin":
            query: dict[str, Any] = {}
        elif who["role"] == "merchant":
            query = {"merchant_owner_id": who["sub"]}
        else:
            query = {"resident_id": who["sub"]}
        if status:
            query["status"] = status
        docs, total = self.store.page(query, (page - 1) * page_size, page_size)
        return {"items": [domain.public_order(d) for d in docs], "page": page,
                "page_size": page_size, "total": total}

    @rpc
    def act(self, actor: dict, order_id: str, action: str, reason: str | None = None) -> dict:
        """accept, decline, dispatch, deliver (merchant) or cancel (resident)."""
        who = actor_of(actor)
        if action not in domain.TRANSITIONS or action == "expire":
            raise BadRequest(f"unknown action {action!r}")
        order = self._visible(who, order_id)
        to_status = domain.check_action(order, action, who)
        now = self.clock.now()
        fields, event = domain.status_change(order, to_status, now, who["sub"], reason)
        allowed_from = domain.TRANSITIONS[action][0]
        moved = self.store.move(order_id, allowed_from, fields,
                                domain.history_entry(to_status, now, who["sub"], reason), [event])
        if moved is None:
            current = self.store.get(order_id)
            raise Conflict(f"cannot {action} an order that is {current['status']}",
                           {"status": current["status"]}, code="illegal_transition")
        self.flush(self.store.orders, order_id)
        return domain.public_order(moved)

    # the saga: answers from the catalog

    @event_handler("catalog", "stock_reserved")
    def on_stock_reserved(self, payload: dict) -> None:
        event = load_event(payload, "stock_reserved")
        data = event["data"]
        order = self.store.get(data["order_id"])
        if order is None or order["status"] != "pending":
            return  # already answered (a redelivery), or cancelled meanwhile
        now = self.clock.now()
        extra = domain.confirmation_fields(
            data, now, setting(self.config, "ORDER_ACCEPT_TIMEOUT_SECONDS"))
        fields, out = domain.status_change(order, "confirmed", now, None, None, extra,
                                           causation_id=event["id"])
        if self.store.move(order["_id"], {"pending"}, fields,
                           domain.history_entry("confirmed", now, None, None), [out]):
            self.flush(self.store.orders, order["_id"])

    @event_handler("catalog", "stock_rejected")
    def on_stock_rejected(self, payload: dict) -> None:
        event = load_event(payload, "stock_rejected")
        data = event["data"]
        order = self.store.get(data["order_id"])
        if order is None or order["status"] != "pending":
            return
        now = self.clock.now()
        reason = f"{data['reason']}: {data['message']}"
        fields, out = domain.status_change(order, "rejected", now, None, reason,
                                           causation_id=event["id"])
        if self.store.move(order["_id"], {"pending"}, fields,
                           domain.history_entry("rejected", now, None, reason), [out]):
            self.flush(self.store.orders, order["_id"])

    @timer(interval=TIMER_SECONDS)
    def expire_unaccepted(self) -> int:
        """Decline confirmed orders the merchant did not accept in time."""
        now = self.clock.now()
        declined = 0
        for order in self.store.overdue_confirmations(now):
            reason = "the shop did not accept the order in time"
            fields, event = domain.status_change(order, "declined", now, None, reason)
            if self.store.move(order["_id"], {"confirmed"}, fields,
                               domain.history_entry("declined", now, None, reason), [event]):
                self.flush(self.store.orders, order["_id"])
                declined += 1
        return declined

    def _visible(self, who: dict, order_id: str) -> dict[str, Any]:
        order = self.store.get(order_id)
        if order is None or not domain.can_see(order, who):
            raise NotFound("no such order")
        return order
