"""The orders side of the order saga, as plain functions over the orders store: the catalog's
answers confirm or reject a pending order, and a confirmed order the shop does not accept in
time is declined. Each step is a guarded move, so a redelivered event changes nothing.
The event handlers return the order as moved (its outbox holding the event) for the caller
to flush, or None; the timer returns the ids it moved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.orders import domain
from services.orders.actions import move
from services.orders.store import OrdersStore


def confirm_reserved(store: OrdersStore, event: dict[str, Any], now: datetime,
                     accept_timeout_seconds: int) -> dict[str, Any] | None:
    """Handle stock_reserved: the order is confirmed with its prices and accept-by time."""
    data = event["data"]
    order = store.get(data["order_id"])
    if order is None or order["status"] != "pending":
        return None  # already answered (a redelivery), or cancelled meanwhile
    extra = domain.confirmation_fields(data, now, accept_timeout_seconds)
    return move(store, order, "confirm", now, None, None, extra, causation_id=event["id"])


def reject_unavailable(store: OrdersStore, event: dict[str, Any],
                       now: datetime) -> dict[str, Any] | None:
    """Handle stock_rejected: the order is rejected with the catalog's reason."""
    data = event["data"]
    order = store.get(data["order_id"])
    if order is None or order["status"] != "pending":
        return None
    return move(store, order, "reject", now, None, domain.rejection_reason(data),
                causation_id=event["id"])


def expire_unaccepted(store: OrdersStore, now: datetime) -> list[str]:
    """Decline confirmed orders whose accept-by time has passed."""
    return [order["_id"] for order in store.overdue_confirmations(now)
            if move(store, order, "expire", now, None, domain.EXPIRED_REASON)]
