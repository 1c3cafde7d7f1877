"""Order documents, their public view, and the events the orders service publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common import idempotency, windows
from services.common.events import make_event, new_id
from services.common.times import iso
from services.orders.domain import EVENT_FOR_STATUS
from services.orders.payment_rules import EVENT_FOR_PAYMENT_STATUS

SOURCE = "orders"


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
        "payment": new_payment(),
        "history": [history_entry("pending", now, resident_id, None)],
        **idempotency.key_fields(resident_id, idempotency_key),
        "fingerprint": idempotency.fingerprint(order),
        "created_at": now,
        **created_buckets(now),  # lists read the newest first (store.py)
        "updated_at": now,
    }


def created_buckets(at: datetime) -> dict[str, int]:
    """Coarse creation times (indexed): a list asks for the last few buckets at a time."""
    return windows.buckets("created", at)


def due_minute(at: datetime) -> int:
    return int(at.timestamp() // 60)


def accept_due(to_status: str, accept_by: datetime | None) -> dict[str, Any]:
    """Set while an order waits for the shop to accept it; cleared when it leaves that state,
    so the timer's index holds only orders that can still fall due."""
    if to_status == "confirmed" and accept_by is not None:
        return {"accept_due_at": accept_by, "accept_due_minute": due_minute(accept_by)}
    return {"accept_due_at": None, "accept_due_minute": None}


def history_entry(status: str, now: datetime, by: str | None, reason: str | None) -> dict:
    return {"status": status, "at": now, "by": by, "reason": reason}


def placed_event(order: dict[str, Any]) -> dict[str, Any]:
    return make_event(
        "order_placed",
        {"order_id": order["_id"], "resident_id": order["resident_id"],
         "merchant_id": order["merchant_id"], "items": order["items"],
         "delivery": order["delivery"]},
        source=SOURCE, correlation_id=order["_id"],
    )


def status_change(order: dict[str, Any], to_status: str, now: datetime, by: str | None,
                  reason: str | None = None, extra: dict[str, Any] | None = None,
                  causation_id: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The $set fields and the event for moving ``order`` to ``to_status``."""
    fields = {"status": to_status, "updated_at": now, "reason": reason, **(extra or {})}
    merged = {**order, **fields}
    fields |= accept_due(to_status, merged.get("accept_by"))
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


def public_order(doc: dict[str, Any]) -> dict[str, Any]:
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
        # Orders from before payments have no (or a partial) sub-document.
        "payment": public_payment({**new_payment(), **(doc.get("payment") or {})}),
        "history": [{**h, "at": iso(h["at"])} for h in doc["history"]],
        "created_at": iso(doc["created_at"]),
        "updated_at": iso(doc["updated_at"]),
    }


# Payments: the order's ``payment`` sub-document and its events (docs/payments.md).


def new_payment() -> dict[str, Any]:
    return {
        "method": None,  # "online" or "cash", once the resident chooses
        "status": "unpaid",
        "cash_allowed": None,  # the shop's choice, learnt from stock_reserved
        "provider": None,
        "reference": None,  # the provider's reference of the current payment
        "pay_url": None,
        "amount_fen": None,  # asked for
        "paid_fen": 0,
        "refunded_fen": 0,
        "refund_id": None,
        "refund_attempts": 0,
        "refund_due_at": None,  # indexed: the refund timer's next look
        "last_error": None,
        "callbacks": [],  # provider notification ids already handled (replay guard)
        "history": [],
    }


def payment_entry(status: str, now: datetime, by: str | None,
                  note: str | None = None) -> dict[str, Any]:
    return {"status": status, "at": now, "by": by, "note": note}


def payment_event(order: dict[str, Any], to_status: str, payment: dict[str, Any],
                  reason: str | None = None,
                  causation_id: str | None = None) -> dict[str, Any]:
    """The event for the order's payment moving to ``to_status``; ``payment`` is the payment
    sub-document after the move (amounts, reference)."""
    return make_event(
        EVENT_FOR_PAYMENT_STATUS[to_status],
        {"order_id": order["_id"], "resident_id": order["resident_id"],
         "merchant_id": order["merchant_id"], "merchant_owner_id": order["merchant_owner_id"],
         "merchant_name": order["merchant_name"], "items": order["items"],
         "total_fen": order["total_fen"], "method": payment["method"],
         "status": to_status, "previous_status": order["payment"]["status"],
         "provider": payment["provider"], "reference": payment["reference"],
         "amount_fen": payment["amount_fen"], "paid_fen": payment["paid_fen"],
         "refunded_fen": payment["refunded_fen"], "reason": reason},
        source=SOURCE, correlation_id=order["_id"], causation_id=causation_id,
    )


def public_payment(payment: dict[str, Any]) -> dict[str, Any]:
    return {
        "method": payment["method"],
        "status": payment["status"],
        "cash_allowed": payment["cash_allowed"],
        "provider": payment["provider"],
        "reference": payment["reference"],
        "pay_url": payment["pay_url"] if payment["status"] == "pending" else None,
        "amount_fen": payment["amount_fen"],
        "paid_fen": payment["paid_fen"],
        "refunded_fen": payment["refunded_fen"],
        "history": [{**h, "at": iso(h["at"])} for h in payment["history"]],
    }
