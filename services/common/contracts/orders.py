"""Events published by the orders service."""

from marshmallow import fields, validate

from services.common.contracts.base import Contract, LocationSchema
from services.common.events import contract
from services.orders.domain import ORDER_STATUSES
from services.orders.payment_rules import METHODS, PAYMENT_STATUSES


class OrderItemRef(Contract):
    product_id = fields.String(required=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class DeliverySchema(Contract):
    address = fields.String(required=True)
    location = fields.Nested(LocationSchema, required=True)


@contract("order_placed")
class OrderPlaced(Contract):
    order_id = fields.String(required=True)
    resident_id = fields.String(required=True)
    merchant_id = fields.String(required=True)
    items = fields.List(fields.Nested(OrderItemRef), required=True, validate=validate.Length(1))
    delivery = fields.Nested(DeliverySchema, required=True)


class OrderStatusChanged(Contract):
    """Every later order event: enough for a consumer to act without asking orders."""

    order_id = fields.String(required=True)
    resident_id = fields.String(required=True)
    merchant_id = fields.String(required=True)
    merchant_owner_id = fields.String(required=True, allow_none=True)
    merchant_name = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    previous_status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    items = fields.List(fields.Nested(OrderItemRef), required=True)
    total_fen = fields.Integer(required=True, allow_none=True, strict=True)
    reason = fields.String(required=True, allow_none=True)
    by = fields.String(required=True, allow_none=True)


# One class per event type, spelled out so that grepping an event's name finds its contract.


@contract("order_confirmed")
class OrderConfirmed(OrderStatusChanged):
    pass


@contract("order_rejected")
class OrderRejected(OrderStatusChanged):
    pass


@contract("order_accepted")
class OrderAccepted(OrderStatusChanged):
    pass


@contract("order_declined")
class OrderDeclined(OrderStatusChanged):
    pass


@contract("order_out_for_delivery")
class OrderOutForDelivery(OrderStatusChanged):
    pass


@contract("order_delivered")
class OrderDelivered(OrderStatusChanged):
    pass


@contract("order_cancelled")
class OrderCancelled(OrderStatusChanged):
    pass


# Payments (docs/payments.md): every payment event carries the order's people and amounts, so
# notify can tell the resident (and the shop) without asking orders.


class PaymentChanged(Contract):
    order_id = fields.String(required=True)
    resident_id = fields.String(required=True)
    merchant_id = fields.String(required=True)
    merchant_owner_id = fields.String(required=True, allow_none=True)
    merchant_name = fields.String(required=True, allow_none=True)
    items = fields.List(fields.Nested(OrderItemRef), required=True)
    total_fen = fields.Integer(required=True, allow_none=True, strict=True)
    method = fields.String(required=True, allow_none=True, validate=validate.OneOf(METHODS))
    status = fields.String(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    previous_status = fields.String(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    provider = fields.String(required=True, allow_none=True)
    reference = fields.String(required=True, allow_none=True)
    amount_fen = fields.Integer(required=True, allow_none=True, strict=True)
    paid_fen = fields.Integer(required=True, strict=True)
    refunded_fen = fields.Integer(required=True, strict=True)
    reason = fields.String(required=True, allow_none=True)


@contract("payment_started")
class PaymentStarted(PaymentChanged):
    pass


@contract("payment_succeeded")
class PaymentSucceeded(PaymentChanged):
    pass


@contract("payment_failed")
class PaymentFailed(PaymentChanged):
    pass


@contract("payment_refund_requested")
class PaymentRefundRequested(PaymentChanged):
    pass


@contract("payment_refunded")
class PaymentRefunded(PaymentChanged):
    pass
