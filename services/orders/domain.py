"""Order rules over plain data: the status machine, who may do what, who may see an order.

Pure: imports no store, nameko or RPC code. A rule says no by raising a
services.common.refusals class, which the gateway maps to HTTP in one place.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from services.common import idempotency, scopes
from services.common.refusals import BadRequest, Conflict, Forbidden

# Every status an order can have, in the order it usually passes through them.
ORDER_STATUSES = (
    "pending", "confirmed", "rejected", "accepted", "declined",
    "out_for_delivery", "delivered", "cancelled",
)


class Transition(NamedTuple):
    allowed_from: frozenset[str]
    to_status: str
    party: str  # "merchant", "resident", or "system" (the service itself)


# Every move an order can make: the people's actions and the service's own.
TRANSITIONS: dict[str, Transition] = {
    # The saga: the catalog reserved the stock (or could not).
    "confirm": Transition(frozenset({"pending"}), "confirmed", "system"),
    "reject": Transition(frozenset({"pending"}), "rejected", "system"),
    "accept": Transition(frozenset({"confirmed"}), "accepted", "merchant"),
    "decline": Transition(frozenset({"confirmed"}), "declined", "merchant"),
    "dispatch": Transition(frozenset({"accepted"}), "out_for_delivery", "merchant"),
    "deliver": Transition(frozenset({"out_for_delivery"}), "delivered", "merchant"),
    # A resident may cancel until the order leaves the shop.
    "cancel": Transition(frozenset({"pending", "confirmed", "accepted"}), "cancelled",
                         "resident"),
    # The merchant did not accept in time.
    "expire": Transition(frozenset({"confirmed"}), "declined", "system"),
}

# The actions a person takes (the gateway serves one route for each): action -> role.
PERSON_ACTIONS: dict[str, str] = {
    action: move.party for action, move in TRANSITIONS.items() if move.party != "system"
}

EVENT_FOR_STATUS = {
    "confirmed": "order_confirmed",
    "rejected": "order_rejected",
    "accepted": "order_accepted",
    "declined": "order_declined",
    "out_for_delivery": "order_out_for_delivery",
    "delivered": "order_delivered",
    "cancelled": "order_cancelled",
}

EXPIRED_REASON = "the shop did not accept the order in time"


def check_person_action(action: str) -> None:
    """Only the people's actions may be asked for; the system's moves are the service's own."""
    if action not in PERSON_ACTIONS:
        raise BadRequest(f"unknown action {action!r}")


def check_place(actor: dict[str, str]) -> None:
    if actor["role"] != "resident":
        raise Forbidden("only residents place orders")


def check_replay(existing: dict[str, Any], order: dict[str, Any]) -> None:
    idempotency.check_replay(existing["fingerprint"], order, "order")


def can_see(order: dict[str, Any], actor: dict[str, str]) -> bool:
    owner = order["merchant_owner_id"]
    return (actor["role"] == "admin" or order["resident_id"] == actor["sub"]
            or (owner is not None and owner == actor["sub"]))


def visible_query(actor: dict[str, str], status: str | None = None) -> scopes.Scope:
    """The orders a person lists: all (admin), their shop's (merchant), their own (resident);
    nothing for anyone else. A merchant without a shop matches no order: pending orders have
    no shop owner yet, and the scope never asks for a missing one."""
    if actor["role"] == "admin":
        scope = scopes.everything()
    elif actor["role"] == "merchant":
        scope = scopes.owned_by("merchant_owner_id", actor["sub"])
    elif actor["role"] == "resident":
        scope = scopes.owned_by("resident_id", actor["sub"])
    else:
        scope = scopes.NOTHING
    return scopes.narrowed(scope, status=status)


def illegal_transition(action: str, status: str) -> Conflict:
    return Conflict(f"cannot {action} an order that is {status}", {"status": status},
                    code="illegal_transition")


def check_action(order: dict[str, Any], action: str, actor: dict[str, str]) -> str:
    """The status the action leads to; Forbidden or Conflict if it may not happen now."""
    allowed_from, to_status, party = TRANSITIONS[action]
    if actor["role"] != "admin":
        if party == "merchant" and order["merchant_owner_id"] != actor["sub"]:
            raise Forbidden("only the shop that received this order can do that")
        if party == "resident" and order["resident_id"] != actor["sub"]:
            raise Forbidden("only the resident who placed this order can do that")
        if party == "system":
            raise Forbidden("only the system does that")
    if order["status"] not in allowed_from:
        raise illegal_transition(action, order["status"])
    return to_status


def confirmation_fields(reserved: dict[str, Any], now: datetime,
                        accept_timeout_seconds: int) -> dict[str, Any]:
    """What a confirmed order learns from stock_reserved: its shop, prices, accept-by time."""
    return {
        "merchant_owner_id": reserved["merchant_owner_id"],
        "merchant_name": reserved["merchant_name"],
        "lines": reserved["lines"],
        "items_total_fen": reserved["items_total_fen"],
        "delivery_fee_fen": reserved["delivery_fee_fen"],
        "total_fen": reserved["total_fen"],
        "accept_by": now + timedelta(seconds=accept_timeout_seconds),
        # Whether the resident may pay at the door is the shop's choice (docs/payments.md).
        "payment.cash_allowed": reserved.get("cash_on_delivery", True),
    }


def rejection_reason(rejected: dict[str, Any]) -> str:
    return f"{rejected['reason']}: {rejected['message']}"
