"""Paying for an order, as plain functions over the orders store and a payment provider
(payments.py): the resident starts a payment, the provider's signed callback settles it, and a
paid order that ends declined or cancelled is refunded exactly once, retried until done.

Every change is one guarded write on the order's ``payment`` sub-document with its events
(store.update_payment), so a replayed callback or a redelivered event finds the guard closed.
Each function returns the order (or ids) whose outbox may hold events, for the caller to flush.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from services.common.errors import load_or_raise
from services.common.events import new_id
from services.common.refusals import Conflict, Forbidden, NotFound
from services.orders import payment_rules as rules
from services.orders import records, schemas
from services.orders.actions import visible_order
from services.orders.payments import CallbackRefused, PaymentProvider, ProviderError
from services.orders.store import OrdersStore

# A worker asking the provider for a refund holds it this long; a second worker waits.
REFUND_LEASE = timedelta(seconds=60)
# A refund the provider accepted but has not confirmed is asked about again after this long.
REFUND_RECHECK = timedelta(minutes=10)
# How many times a callback re-reads its order when a concurrent change closed its guard.
CALLBACK_TRIES = 3


def start_payment(store: OrdersStore, provider: PaymentProvider, who: dict[str, str],
                  order_id: str, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The resident chooses online payment (a payment at the provider, status pending) or
    cash on delivery (if the shop takes it). The order after it."""
    data = load_or_raise(schemas.PaymentStartSchema(), body)
    order = visible_order(store, who, order_id)
    if order["resident_id"] != who["sub"]:
        raise Forbidden("only the resident who placed this order pays for it")
    method = data["method"]
    order = {**order, "payment": {**records.new_payment(), **(order.get("payment") or {})}}
    rules.check_start(order, method)
    if rules.reuses_pending(order, method):
        return order
    amount = order["total_fen"]
    if method == "cash":
        fields = {"method": "cash", "amount_fen": amount, "provider": None, "reference": None,
                  "pay_url": None}
        moved = store.update_payment(
            order_id, {"payment.status": "unpaid"}, fields,
            [records.payment_entry("unpaid", now, who["sub"], "cash on delivery")], [], now)
        return moved or _raced(store, order_id)
    try:
        created = provider.create(order_id, amount, new_id("pay"))
    except ProviderError as exc:
        raise Conflict(f"the payment provider did not answer: {exc}"[:200],
                       code="provider_unavailable") from None
    fields = {"method": "online", "status": "pending", "provider": provider.name,
              "reference": created["reference"], "pay_url": created.get("pay_url"),
              "amount_fen": amount, "last_error": None}
    payment = {**order["payment"], **fields}
    moved = store.update_payment(
        order_id, {"payment.status": "unpaid"}, fields,
        [records.payment_entry("pending", now, who["sub"])],
        [records.payment_event(order, "pending", payment)], now)
    if moved is not None and getattr(provider, "autopay", False):
        sandbox_pay(store, provider, who, order_id, True, now)
        return store.get(order_id)
    return moved or _raced(store, order_id)


def _raced(store: OrdersStore, order_id: str) -> dict[str, Any]:
    """Another request changed the payment first: answer with what it did, if compatible."""
    order = store.get(order_id)
    if order["payment"]["status"] == "pending":
        return order
    raise Conflict(f"this order's payment is already {order['payment']['status']}",
                   code="already_paid")


def handle_callback(store: OrdersStore, provider: PaymentProvider, provider_name: str,
                    headers: Mapping[str, str], body: str,
                    now: datetime) -> tuple[str | None, bool]:
    """A provider's notification: (the order id, whether it changed anything). Refused unless
    signed by the provider within the time window; one handled twice changes nothing."""
    if provider_name != provider.name:
        raise NotFound("no such payment provider")
    try:
        outcome = provider.verify_callback(headers, body.encode("utf-8"), now)
    except CallbackRefused as exc:
        raise Forbidden(f"callback refused: {exc}", code="bad_signature") from None
    for _ in range(CALLBACK_TRIES):
        order = rules.check_reference(store.by_payment_reference(outcome.reference), outcome)
        if outcome.event_id in order["payment"]["callbacks"]:
            return order["_id"], False  # a replay: handled the first time
        move = rules.after_callback(order, outcome)
        if move is None:
            return order["_id"], False
        if _apply_callback(store, order, outcome, move, now) is not None:
            return order["_id"], True
    raise Conflict("the order kept changing; the provider will retry", code="busy")


def _apply_callback(store: OrdersStore, order: dict[str, Any], outcome: rules.CallbackOutcome,
                    move: tuple[str, str], now: datetime) -> dict[str, Any] | None:
    from_status, to_status = move
    payment = order["payment"]
    guard: dict[str, Any] = {"payment.status": from_status,
                             "payment.reference": outcome.reference}
    by = payment["provider"]
    if to_status == "unpaid":
        fields = {"status": "unpaid", "pay_url": None, "last_error": outcome.reason}
        entries = [records.payment_entry("unpaid", now, by, outcome.reason or "failed")]
    elif to_status == "paid":
        guard["status"] = {"$nin": sorted(rules.REFUNDED_ORDER_STATUSES)}
        fields = {"status": "paid", "pay_url": None, "paid_fen": outcome.amount_fen}
        entries = [records.payment_entry("paid", now, by)]
    elif to_status == "refund_pending":  # paid for an order that had meanwhile closed
        guard["status"] = {"$in": sorted(rules.REFUNDED_ORDER_STATUSES)}
        fields = {"status": "refund_pending", "pay_url": None, "paid_fen": outcome.amount_fen,
                  **_refund_fields(now)}
        entries = [records.payment_entry("paid", now, by),
                   records.payment_entry("refund_pending", now, None, "the order was closed")]
    else:  # refunded, confirmed by the provider's refund callback
        fields = {"status": "refunded", "refunded_fen": outcome.amount_fen,
                  "refund_due_at": None}
        entries = [records.payment_entry("refunded", now, by)]
    events = _events_for(order, entries, {**payment, **fields}, outcome.reason, outcome.event_id)
    return store.update_payment(order["_id"], guard, fields, entries, events, now,
                                callback_id=outcome.event_id)


def _events_for(order: dict[str, Any], entries: list[dict[str, Any]], payment: dict[str, Any],
                reason: str | None, causation_id: str | None) -> list[dict[str, Any]]:
    events, before = [], order
    for entry in entries:
        events.append(records.payment_event(before, entry["status"], payment, reason,
                                            causation_id))
        before = {**before, "payment": {**before["payment"], "status": entry["status"]}}
    return events


def _refund_fields(now: datetime) -> dict[str, Any]:
    return {"refund_id": new_id("rfd"), "refund_due_at": now, "refund_attempts": 0}


def refund_if_paid(store: OrdersStore, order_id: str, now: datetime,
                   causation_id: str | None = None) -> bool:
    """After the order was declined or cancelled: a paid payment moves to refund_pending,
    once (guarded on "paid"); a redelivered event finds it moved."""
    order = store.get(order_id)
    if order is None or not rules.needs_refund(order):
        return False
    fields = {"status": "refund_pending", **_refund_fields(now)}
    entry = records.payment_entry("refund_pending", now, None, f"the order was {order['status']}")
    event = records.payment_event(order, "refund_pending", {**order["payment"], **fields},
                                  causation_id=causation_id)
    moved = store.update_payment(
        order_id, {"status": {"$in": sorted(rules.REFUNDED_ORDER_STATUSES)},
                   "payment.status": "paid"}, fields, [entry], [event], now)
    return moved is not None


def try_refund(store: OrdersStore, provider: PaymentProvider, order_id: str, now: datetime,
               retry_base_seconds: float, retry_max_seconds: float) -> bool:
    """Ask the provider for a due refund; True if the order's payment changed to refunded.
    A failure is recorded and asked again later, without end."""
    claimed = store.claim_refund(order_id, now, now + REFUND_LEASE)
    if claimed is None:
        return False  # not due, already done, or another worker is asking
    payment = claimed["payment"]
    try:
        result = provider.refund(payment["reference"], payment["paid_fen"], payment["refund_id"])
    except Exception as exc:  # noqa: BLE001 - any failure of the provider is retried later
        attempts = payment["refund_attempts"] + 1
        store.refund_failed(order_id, attempts, rules.refund_retry_at(
            now, attempts, retry_base_seconds, retry_max_seconds),
            f"{type(exc).__name__}: {exc}"[:200])
        return False
    if result != "refunded":  # accepted; its callback will confirm (or we ask again)
        store.refund_failed(order_id, payment["refund_attempts"], now + REFUND_RECHECK,
                            "awaiting the provider's confirmation")
        return False
    fields = {"status": "refunded", "refunded_fen": payment["paid_fen"],
              "refund_due_at": None, "last_error": None}
    entry = records.payment_entry("refunded", now, payment["provider"])
    event = records.payment_event(claimed, "refunded", {**payment, **fields})
    return store.update_payment(order_id, {"payment.status": "refund_pending"}, fields,
                                [entry], [event], now) is not None


def retry_refunds(store: OrdersStore, provider: PaymentProvider, now: datetime,
                  retry_base_seconds: float, retry_max_seconds: float) -> list[str]:
    """The timer: every refund that is due, asked again. The ids that became refunded."""
    return [order_id for order_id in store.due_refunds(now)
            if try_refund(store, provider, order_id, now, retry_base_seconds,
                          retry_max_seconds)]


def sandbox_pay(store: OrdersStore, provider: PaymentProvider, who: dict[str, str],
                order_id: str, succeeded: bool, now: datetime) -> str:
    """The sandbox's "payment page": the provider pays (or fails) and sends its signed
    callback through the same path as a real one. The order id."""
    if provider.name != "sandbox":
        raise NotFound("the payment sandbox is not in use")
    order = visible_order(store, who, order_id)
    if who["role"] != "admin" and order["resident_id"] != who["sub"]:
        raise Forbidden("only the resident who placed this order pays for it")
    payment = order.get("payment") or {}
    if payment.get("status") != "pending":
        raise Conflict("this order has no payment waiting", code="no_pending_payment")
    headers, body = provider.callback("payment", payment["reference"], succeeded,
                                      payment["amount_fen"], now,
                                      reason=None if succeeded else "declined by the sandbox")
    handle_callback(store, provider, provider.name, headers, body.decode(), now)
    return order_id
