"""Order rules over plain data: the status machine, who may do what, idempotent placing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.common import idempotency
from services.common.errors import Conflict, Forbidden
from services.common.events import make_event, new_id

SOURCE = "orders"

# action: (statuses it may start from, status it leads to, who may do it)
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "accept": (frozenset({"confirmed"}), "accepted", "merchant"),
    "decline": (frozenset({"confirmed"}), "declined", "merchant"),
    "dispatch": (frozenset({"accepted"}), "out_for_delivery", "merchant"),
    "deliver": (frozenset({"out_for_delivery"}), "delivered", "merchant"),
    # A resident may cancel until the order leaves the shop.
    "cancel": (frozenset({"pending", "confirmed", "accepted"}), "cancelled", "resident"),
    # The merchant did not accept in time.
    "expire": (frozenset({"confirmed"}), "declined", "system"),
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


def new_order(resident_id: str, idempotency_key: str, order: dict[str, Any],
              now: datetime) -> dict[str, Any]:
    return {
        "_id": new_id("ord"),
        "resident_id": resident_id,
        "merchant_id": order["merchant_id"],
        "merchant_owner_id": None,
        "merchant_name": None,
        "items": order["items"],
        "lines": [],
        "items_total_fen": None,
        "delivery_fee_fen": None,
        "total_fen": None,
        "delivery": order["delivery"],
        "note": order.get("note"),
        "status": "pending",
        "reason": None,
        "accept_by": None,
        "history": [{"status": "pending", "at": now, "by": resident_id, "reason": None}],
        "idempotency_key": idempotency.scoped_key(resident_id, idempotency_key),
        "fingerprint": idempotency.fingerprint(order),
        "created_at": now,
        "updated_at": now,
    }


def placed_event(order: dict[str, Any]) -> dict[str, Any]:
    return make_event(
        "order_placed",
        {"order_id": order["_id"], "resident_id": order["resident_id"],
         "merchant_id": order["merchant_id"], "items": order["items"],
         "delivery": order["delivery"]},
        source=SOURCE, correlation_id=order["_id"],
    )


def check_replay(existing: dict[str, Any], order: dict[str, Any]) -> None:
    idempotency.check_replay(existing["fingerprint"], order, "order")


def can_see(order: dict[str, Any], actor: dict[str, str]) -> bool:
    owner = order["merchant_owner_id"]
    return (actor["role"] == "admin" or order["resident_id"] == actor["sub"]
            or (owner is not None and owner == actor["sub"]))


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
        raise Conflict(
            f"cannot {action} an order that is {order['status']}",
            {"status": order["status"]}, code="illegal_transition",
        )
    return to_status


def status_change(order: dict[str, Any], to_status: str, now: datetime, by: str | None,
                  reason: str | None = None, extra: dict[str, Any] | None = None,
                  causation_id: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The $set fields and the event for moving ``order`` to ``to_status``."""
    fields = {"status": to_status, "updated_at": now, "reason": reason, **(extra or {})}
    merged = {**order, **fields}
    event = make_event(
        EVENT_FOR_STATUS[to_status],
        {"order_id": order["_id"], "resident_id": order["resident_id"],
         "merchant_id": order["merchant_id"], "merchant_owner_id": merged["merchant_owner_id"],
         "merchant_name": merged["merchant_name"], "status": to_status,
         "previous_status": order["status"], "items": order["items"],
         "total_fen": merged["total_fen"], "reason": reason, "by": by},
        source=SOURCE, correlation_id=order["_id"], causation_id=causation_id,
    )
    return fields, event


def history_entry(status: str, now: datetime, by: str | None, reason: str | None) -> dict:
    return {"status": status, "at": now, "by": by, "reason": reason}


def confirmation_fields(reserved: dict[str, Any], now: datetime,
                        accept_timeout_seconds: int) -> dict[str, Any]:
    return {
        "merchant_owner_id": reserved["merchant_owner_id"],
        "merchant_name": reserved["merchant_name"],
        "lines": reserved["lines"],
        "items_total_fen": reserved["items_total_fen"],
        "delivery_fee_fen": reserved["delivery_fee_fen"],
        "total_fen": reserved["total_fen"],
        "accept_by": now + timedelta(seconds=accept_timeout_seconds),
    }


def public_order(doc: dict[str, Any]) -> dict[str, Any]:
    def iso(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return {
        "id": doc["_id"],
        "status": doc["status"],
        "resident_id": doc["resident_id"],
        "merchant_id": doc["merchant_id"],
        "merchant_name": doc["merchant_name"],
        "items": doc["items"],
        "lines": doc["lines"],
        "items_total_fen": doc["items_total_fen"],
        "delivery_fee_fen": doc["delivery_fee_fen"],
        "total_fen": doc["total_fen"],
        "delivery": doc["delivery"],
        "note": doc["note"],
        "reason": doc["reason"],
        "accept_by": iso(doc["accept_by"]),
        "history": [{**h, "at": iso(h["at"])} for h in doc["history"]],
        "created_at": iso(doc["created_at"]),
        "updated_at": iso(doc["updated_at"]),
    }
