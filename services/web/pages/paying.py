"""Paying for an order from the resident's order page (docs/payments.md): online through the
provider, or cash at the door where the shop takes cash; and the sandbox provider's own
"payment page", a local stand-in for WeChat Pay or Alipay under `make run`.

Which ways to pay are offered comes from the orders service's own rule
(``payment_rules.check_start``); the service still decides when asked."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.common.refusals import Conflict, NotFound
from services.orders import payment_rules
from services.orders import schemas as order_schemas
from services.web.calls import actor, call, page

bp = Blueprint("pay", __name__, url_prefix="/r/orders")

SANDBOX = "sandbox"  # the provider whose payment page is ours (orders/payments.py)


def choices(order: dict[str, Any]) -> list[str]:
    """The ways the resident may pay for this order now: "online" and/or "cash". An online
    payment under way is continued, not started again, so it is not offered as a choice."""
    if order["payment"]["status"] == "pending":
        return []
    offered = []
    for method in payment_rules.METHODS:
        if method == order["payment"]["method"] == "cash":
            continue  # chosen already: only the other way is a choice
        try:
            payment_rules.check_start(order, method)
        except Conflict:
            continue
        offered.append(method)
    return offered


def label(payment: dict[str, Any]) -> str:
    """The payment's state in the page's words (the resident's and the shop's)."""
    if payment["status"] == "unpaid":
        return _("Cash on delivery") if payment["method"] == "cash" else _("Not paid")
    return {"pending": _("Payment under way"), "paid": _("Paid"),
            "refund_pending": _("Refund under way"), "refunded": _("Refunded")}.get(
        payment["status"], payment["status"])


def continue_url(order: dict[str, Any]) -> str | None:
    """Where a pending online payment is finished: the sandbox's page here, or the
    provider's own page."""
    payment = order["payment"]
    if payment["status"] != "pending":
        return None
    if payment["provider"] == SANDBOX:
        return url_for("web.pay.sandbox", order_id=order["id"])
    return payment["pay_url"]


@bp.app_template_global("payment_view")
def _payment_view(order: dict[str, Any]) -> dict[str, Any]:
    return {"label": label(order["payment"]), "choices": choices(order),
            "continue_url": continue_url(order)}


@bp.route("/<id:order_id>/pay", methods=["POST"])
@page("resident")
def start(order_id: str):
    body = order_schemas.PaymentStartSchema().load({"method": request.form.get("method")})
    order = call("orders", "start_payment", actor=actor(), order_id=order_id, payment=body)
    target = continue_url(order)
    if target:
        return redirect(target)
    return redirect(url_for("web.resident.order", order_id=order_id, done="cash_chosen"))


def _sandbox_order(order_id: str) -> dict[str, Any]:
    order = call("orders", "get_order", actor=actor(), order_id=order_id)
    payment = order["payment"]
    if payment["provider"] != SANDBOX or payment["status"] != "pending":
        raise NotFound("no sandbox payment is waiting for this order")
    return order


@bp.route("/<id:order_id>/pay/sandbox", methods=["GET", "POST"])
@page("resident")
def sandbox(order_id: str):
    """The sandbox provider's payment page: no money moves. Paying (or failing) sends the
    provider's signed callback through the same code a real provider's takes (the orders
    service's ``sandbox_pay``, as POST /api/v1/payments/sandbox/{id})."""
    order = _sandbox_order(order_id)
    if request.method == "GET":
        return render_template("pay/sandbox.html", order=order)
    body = order_schemas.SandboxPaySchema().load({"outcome": request.form.get("outcome", "paid")})
    call("orders", "sandbox_pay", actor=actor(), order_id=order_id, outcome=body["outcome"])
    done = "paid" if body["outcome"] == "paid" else "payment_failed"
    return redirect(url_for("web.resident.order", order_id=order_id, done=done))
