"""Payment rules over plain data: the payment statuses, when a resident may pay and how, and
what a provider's callback does to a payment. Pure: imports no store, nameko or RPC code."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from services.common.refusals import Conflict, NotFound

PAYMENT_STATUSES = ("unpaid", "pending", "paid", "refund_pending", "refunded")
METHODS = ("online", "cash")

# A resident pays once the shop's prices are known and before the goods are handed over.
PAYABLE_ORDER_STATUSES = frozenset({"confirmed", "accepted", "out_for_delivery"})
# An order that ends in one of these keeps no money: what was paid goes back.
REFUNDED_ORDER_STATUSES = frozenset({"declined", "cancelled", "rejected"})

EVENT_FOR_PAYMENT_STATUS = {
    "pending": "payment_started",
    "paid": "payment_succeeded",
    "unpaid": "payment_failed",
    "refund_pending": "payment_refund_requested",
    "refunded": "payment_refunded",
}


class CallbackOutcome(NamedTuple):
    """What a provider says happened, in our words (each provider translates its own)."""

    event_id: str  # the provider's id for this notification: a replay carries the same
    kind: str  # "payment" or "refund"
    reference: str  # the provider's reference of the payment
    succeeded: bool
    amount_fen: int
    reason: str | None = None


def check_start(order: dict[str, Any], method: str) -> None:
    """May the resident pay for this order now, by this method? Conflict if not."""
    payment = order["payment"]
    if order["status"] not in PAYABLE_ORDER_STATUSES:
        raise Conflict(f"an order that is {order['status']} cannot be paid for",
                       {"status": order["status"]}, code="not_payable")
    if payment["status"] not in ("unpaid", "pending"):
        raise Conflict(f"this order's payment is already {payment['status']}",
                       {"payment_status": payment["status"]}, code="already_paid")
    if method == "cash":
        if not payment.get("cash_allowed", True):
            raise Conflict("this shop does not take cash on delivery", code="cash_not_accepted")
        if payment["status"] == "pending":
            raise Conflict("an online payment is under way; finish or let it fail first",
                           code="payment_pending")


def reuses_pending(order: dict[str, Any], method: str) -> bool:
    """A second "pay online" while one is pending answers with the same payment."""
    return method == "online" and order["payment"]["status"] == "pending"


def after_callback(order: dict[str, Any], outcome: CallbackOutcome) -> tuple[str, str] | None:
    """(from, to) payment statuses for a callback, or None when it changes nothing (its
    payment already moved on). The store applies it guarded on ``from``."""
    status = order["payment"]["status"]
    if outcome.kind == "payment":
        if status != "pending":
            return None
        if not outcome.succeeded:
            return "pending", "unpaid"
        # Paid for an order that was meanwhile declined or cancelled: straight to refund.
        if order["status"] in REFUNDED_ORDER_STATUSES:
            return "pending", "refund_pending"
        return "pending", "paid"
    if outcome.kind == "refund" and outcome.succeeded and status == "refund_pending":
        return "refund_pending", "refunded"
    return None


def check_reference(order: dict[str, Any] | None, outcome: CallbackOutcome) -> dict[str, Any]:
    if order is None or order["payment"].get("reference") != outcome.reference:
        raise NotFound("no payment with this reference")
    return order


def needs_refund(order: dict[str, Any]) -> bool:
    return (order["status"] in REFUNDED_ORDER_STATUSES
            and order.get("payment", {}).get("status") == "paid")


def refund_retry_at(now: datetime, attempts: int, base_seconds: float,
                    max_seconds: float) -> datetime:
    """When to ask the provider again after ``attempts`` failed refunds (doubling, capped):
    a refund is retried until it is done, never given up."""
    return now + timedelta(seconds=min(max_seconds, base_seconds * 2 ** max(0, attempts - 1)))
