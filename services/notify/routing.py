"""Who hears about which event: the audiences of each event type, their category and urgency.

An audience names a kind of recipient; ``recipient_of`` finds the person in the event data.
Dispatchers are a role, not named people: their messages go to the shared inbox
``role:dispatcher`` (see docs/notifications.md). Event types nobody needs to hear about are
listed in SILENT, so a new contract forces a decision here (a unit test checks it). Each
routed type has its subscription, naming its source service, in service.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A prefix no person's subject can have (services/common/subjects.py: no ":").
DISPATCHER_INBOX = "role:dispatcher"
ROLE_INBOXES = {"dispatcher": DISPATCHER_INBOX}

CATEGORIES = ("orders", "repairs", "notices", "marketing")


@dataclass(frozen=True)
class Audience:
    name: str  # resident, merchant, technician, dispatcher, manager (of a market)
    category: str
    urgent: bool = False


def _a(name: str, category: str, urgent: bool = False) -> Audience:
    return Audience(name, category, urgent)


ROUTES: dict[str, tuple[Audience, ...]] = {
    "order_confirmed": (_a("resident", "orders"), _a("merchant", "orders")),
    "order_rejected": (_a("resident", "orders"),),
    "order_accepted": (_a("resident", "orders"),),
    "order_declined": (_a("resident", "orders"),),
    "order_out_for_delivery": (_a("resident", "orders"),),
    "order_delivered": (_a("resident", "orders"),),
    "order_cancelled": (_a("resident", "orders"), _a("merchant", "orders")),
    "payment_succeeded": (_a("resident", "orders"), _a("merchant", "orders")),
    "payment_failed": (_a("resident", "orders"),),
    "payment_refunded": (_a("resident", "orders"),),
    "repair_requested": (_a("resident", "repairs"), _a("dispatcher", "repairs")),
    "repair_assigned": (_a("resident", "repairs"), _a("technician", "repairs")),
    "repair_accepted": (_a("resident", "repairs"),),
    "repair_declined": (_a("dispatcher", "repairs"),),
    # The resident is waiting at home for exactly this: it goes through quiet hours.
    "technician_arrived": (_a("resident", "repairs", urgent=True),),
    "repair_completed": (_a("resident", "repairs"),),
    "repair_cancelled": (_a("resident", "repairs"), _a("technician", "repairs")),
    "repair_rated": (_a("technician", "repairs"),),
    "repair_reopened": (_a("resident", "repairs"), _a("dispatcher", "repairs")),
    # A warning held until morning is useless: dispatchers get both at once.
    "sla_at_risk": (_a("dispatcher", "repairs", urgent=True),),
    "sla_breached": (_a("dispatcher", "repairs", urgent=True), _a("resident", "repairs")),
    # Someone is guessing the completion code, most likely at the resident's door: now.
    "completion_code_locked": (_a("dispatcher", "repairs", urgent=True),
                               _a("resident", "repairs", urgent=True)),
    # A resident says a scale's receipt was short-weighed: the market's manager follows it
    # up; the stall's owner hears of it too. Trade, like orders.
    "receipt_flagged": (_a("manager", "orders"), _a("merchant", "orders")),
}

# Known events that concern no person directly (saga steps between services).
SILENT = frozenset({"order_placed", "stock_reserved", "stock_rejected", "product_changed",
                    "merchant_changed",
                    # the resident started it; the refund's outcome is what they hear
                    "payment_started", "payment_refund_requested"})


def recipient_of(audience: str, data: dict[str, Any]) -> str | None:
    """The inbox an audience's message goes to, or None when the event names nobody."""
    if audience == "resident":
        return data.get("resident_id") or None
    if audience == "merchant":
        return data.get("merchant_owner_id") or None
    if audience == "technician":
        # The dispatch contract carries technician_id (a dispatch record id). If it grows a
        # technician_sub (the person's user id), that is the inbox to use.
        return data.get("technician_sub") or data.get("technician_id") or None
    if audience == "manager":
        return data.get("manager_id") or None
    if audience in ROLE_INBOXES:
        return ROLE_INBOXES[audience]
    raise KeyError(f"unknown audience {audience!r}")
