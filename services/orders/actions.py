"""What people do with orders, as plain functions over the orders store: place one, see and
list them, move one by an action. Events land in the order's outbox; the caller flushes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common import scopes
from services.common.errors import load_or_raise
from services.common.paging import empty_page, offset, page_dict
from services.common.refusals import NotFound
from services.orders import domain, metrics, records, schemas
from services.orders.store import OrdersStore

# Built once: building a marshmallow schema costs more than loading with it.
ORDER_CREATE = schemas.OrderCreateSchema()


def place_order(store: OrdersStore, who: dict[str, str], idempotency_key: str,
                body: dict[str, Any], now: datetime) -> tuple[dict[str, Any], bool]:
    """The order and whether this call created it (the same key and body return the first).
    A created order is returned as stored, its outbox included, for the caller to flush."""
    domain.check_place(who)
    data = load_or_raise(ORDER_CREATE, body)
    doc = records.new_order(who["sub"], idempotency_key, data, now)
    stored = store.insert_new(doc, [records.placed_event(doc)])
    if stored is not None:
        return stored, True
    existing = store.by_idempotency_key(who["sub"], idempotency_key)
    domain.check_replay(existing, data)
    return existing, False


def visible_order(store: OrdersStore, who: dict[str, str], order_id: str) -> dict[str, Any]:
    """The order if ``who`` may see it; NotFound otherwise (its existence is private)."""
    order = store.get(order_id)
    if order is None or not domain.can_see(order, who):
        raise NotFound("no such order")
    return order


def list_orders(store: OrdersStore, who: dict[str, str], page: int, page_size: int,
                status: str | None, now: datetime) -> dict[str, Any]:
    """Newest first; ``total`` is exact up to store.TOTAL_CAP, beyond it ``total_capped``."""
    scope = domain.visible_query(who, status)
    if scope is scopes.NOTHING:
        return empty_page(page, page_size)
    docs, total, capped = store.page(scope, offset(page, page_size), page_size, now)
    return page_dict(docs, page, page_size, total, records.public_order, capped)


def act(store: OrdersStore, who: dict[str, str], order_id: str, action: str,
        reason: str | None, now: datetime) -> dict[str, Any]:
    """A person's action (accept, decline, dispatch, deliver, cancel); the order after it."""
    domain.check_person_action(action)
    order = visible_order(store, who, order_id)
    domain.check_action(order, action, who)
    moved = move(store, order, action, now, who["sub"], reason)
    if moved is None:
        raise domain.illegal_transition(action, store.get(order_id)["status"])
    return moved


def move(store: OrdersStore, order: dict[str, Any], action: str, now: datetime,
         by: str | None, reason: str | None = None, extra: dict[str, Any] | None = None,
         causation_id: str | None = None) -> dict[str, Any] | None:
    """Move ``order`` as domain.TRANSITIONS says: one guarded write with its history entry and
    event. None if the order left the statuses the action starts from meanwhile."""
    allowed_from, to_status, _party = domain.TRANSITIONS[action]
    fields, event = records.status_change(order, to_status, now, by, reason, extra,
                                          causation_id)
    moved = store.move(order["_id"], allowed_from, fields,
                       records.history_entry(to_status, now, by, reason), [event])
    if moved is not None:
        metrics.moved(to_status)
    return moved
