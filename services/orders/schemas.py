"""Order payloads: validated at the gateway and again by the orders service."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from services.common.schemas import Id, LocationSchema, PageArgs, Strict, Text, page_of
from services.orders.domain import ORDER_STATUSES
from services.orders.payment_rules import METHODS, PAYMENT_STATUSES


class OrderItemSchema(Strict):
    product_id = Id(required=True)
    quantity = fields.Integer(
        strict=True, required=True, validate=validate.Range(1, 100_000),
        metadata={"description": "pieces, or grams for goods sold by weight"},
    )


class DeliverySchema(Strict):
    address = Text(200, required=True, metadata={"example": "江汉区民意街12号3单元502"})
    location = fields.Nested(LocationSchema, required=True)


class OrderCreateSchema(Strict):
    merchant_id = Id(required=True)
    items = fields.List(fields.Nested(OrderItemSchema), required=True,
                        validate=validate.Length(1, 50))
    delivery = fields.Nested(DeliverySchema, required=True)
    note = Text(200, min_length=0, load_default=None, allow_none=True)

    @validates_schema  # runs only when every field is valid
    def _distinct(self, data, **_kw):
        ids = [item["product_id"] for item in data["items"]]
        if len(ids) != len(set(ids)):
            raise ValidationError("each product may appear once; add up the quantities",
                                  "items")


class ReasonSchema(Strict):
    reason = Text(200, load_default=None, allow_none=True)


class LineSchema(Strict):
    product_id = fields.String(required=True)
    name = fields.String(required=True)
    quantity = fields.Integer(required=True)
    sale_mode = fields.String(required=True)
    unit = fields.String(required=True)
    unit_price_fen = fields.Integer(required=True)
    price_per = fields.String(allow_none=True)
    line_total_fen = fields.Integer(required=True)


class HistoryEntrySchema(Strict):
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    at = fields.String(required=True)
    by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class PaymentStartSchema(Strict):
    method = fields.String(required=True, validate=validate.OneOf(METHODS),
                           metadata={"description": "online (through the payment provider) or "
                                                    "cash on delivery, if the shop takes it"})


class SandboxPaySchema(Strict):
    outcome = fields.String(load_default="paid", validate=validate.OneOf(("paid", "failed")))


class PaymentHistoryEntrySchema(Strict):
    status = fields.String(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    at = fields.String(required=True)
    by = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class PaymentSchema(Strict):
    method = fields.String(allow_none=True, validate=validate.OneOf(METHODS))
    status = fields.String(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    cash_allowed = fields.Boolean(allow_none=True, metadata={
        "description": "whether the shop takes cash on delivery (known once confirmed)"})
    provider = fields.String(allow_none=True)
    reference = fields.String(allow_none=True, metadata={"description": "the provider's"})
    pay_url = fields.String(allow_none=True, metadata={
        "description": "where the resident pays, while the payment is pending"})
    amount_fen = fields.Integer(allow_none=True)
    paid_fen = fields.Integer(required=True)
    refunded_fen = fields.Integer(required=True)
    history = fields.List(fields.Nested(PaymentHistoryEntrySchema), required=True)


class CallbackReceiptSchema(Strict):
    received = fields.Boolean(required=True)
    changed = fields.Boolean(required=True, metadata={
        "description": "false for a callback already handled (a replay) or out of date"})


class OrderSchema(Strict):
    id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    resident_id = fields.String(required=True)
    merchant_id = fields.String(required=True)
    merchant_name = fields.String(allow_none=True)
    items = fields.List(fields.Nested(OrderItemSchema), required=True)
    lines = fields.List(fields.Nested(LineSchema), required=True)
    items_total_fen = fields.Integer(allow_none=True)
    delivery_fee_fen = fields.Integer(allow_none=True)
    total_fen = fields.Integer(allow_none=True)
    delivery = fields.Nested(DeliverySchema, required=True)
    note = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "why it was rejected, "
                                                                     "declined or cancelled"})
    accept_by = fields.String(allow_none=True)
    payment = fields.Nested(PaymentSchema, required=True)
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True)
    created_at = fields.String(required=True)
    updated_at = fields.String(required=True)


class OrderListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))


OrderPageSchema = page_of(OrderSchema)
