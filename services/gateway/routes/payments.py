"""Paying for orders: the resident starts a payment, the provider calls back (docs/payments.md)."""

from __future__ import annotations

import re

from flask import current_app, g, request

from services.gateway.api import ApiBlueprint
from services.gateway.errors import ApiError
from services.gateway.rpc import service
from services.gateway.security import BEARER, actor, requires
from services.orders import schemas

blp = ApiBlueprint("payments", __name__, url_prefix="/api/v1", description="Payments")

rpc = service("orders")

PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Only the headers a provider signs with travel to the orders service; never credentials.
NOT_FORWARDED = {"authorization", "cookie", "proxy-authorization"}


@blp.route("/orders/<id:order_id>/payment", methods=["POST"])
@requires("resident", admin=False)  # the person who placed the order pays for it
@blp.doc(security=BEARER)
@blp.arguments(schemas.PaymentStartSchema)
@blp.response(200, schemas.OrderSchema)
def start_payment(body, order_id):
    """Pay for a confirmed order: "online" starts a payment at the provider (pay at
    ``payment.pay_url``; the order shows ``pending`` until the provider confirms), "cash" pays
    at the door if the shop takes cash. Asking for "online" again while one is pending answers
    with the same payment."""
    g.correlation_id = order_id
    return rpc("start_payment", actor=actor(), order_id=order_id, payment=body)


@blp.route("/payments/callback/<provider>", methods=["POST"])
@blp.doc(requestBody={"required": True, "description": "the provider's signed notification, "
                      "as the provider defines it (the sandbox: docs/payments.md)",
                      "content": {"application/json": {"schema": {"type": "object"}}}})
@blp.response(200, schemas.CallbackReceiptSchema)
def payment_callback(provider):
    """The payment provider's notification that a payment or refund succeeded or failed. No
    bearer token: the provider's signature and timestamp are checked by the orders service
    (403 ``bad_signature`` otherwise), and a notification handled before changes nothing."""
    current_app.config["RATE_LIMITER"].check(f"ip:{request.remote_addr}")
    if not PROVIDER_NAME.match(provider):
        raise ApiError(404, "not_found", "no such payment provider")
    try:
        body = request.get_data(cache=False).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_request", "the body is not UTF-8 text") from None
    headers = {k: v for k, v in request.headers.items() if k.lower() not in NOT_FORWARDED}
    return rpc("payment_callback", provider=provider, headers=headers, body=body)


@blp.route("/payments/sandbox/<id:order_id>", methods=["POST"])
@requires("resident")
@blp.doc(security=BEARER)
@blp.arguments(schemas.SandboxPaySchema, required=False)
@blp.response(200, schemas.OrderSchema)
def sandbox_pay(body, order_id):
    """The sandbox provider's payment page (only when PAYMENT_PROVIDER is "sandbox"; 404
    otherwise): the payment is made (``paid``) or fails, and the sandbox sends its signed
    callback like a real provider would."""
    g.correlation_id = order_id
    return rpc("sandbox_pay", actor=actor(), order_id=order_id,
               outcome=(body or {}).get("outcome", "paid"))
