"""Events published by the catalog service."""

from marshmallow import fields, validate

from services.catalog.pricing import SALE_MODES
from services.common.contracts.base import Contract
from services.common.events import contract


class PricedLine(Contract):
    product_id = fields.String(required=True)
    name = fields.String(required=True)
    quantity = fields.Integer(required=True, strict=True)
    sale_mode = fields.String(required=True, validate=validate.OneOf(SALE_MODES))
    unit = fields.String(required=True)
    unit_price_fen = fields.Integer(required=True, strict=True)
    price_per = fields.String(required=True, allow_none=True)
    line_total_fen = fields.Integer(required=True, strict=True)


@contract("stock_reserved")
class StockReserved(Contract):
    order_id = fields.String(required=True)
    merchant_id = fields.String(required=True)
    merchant_owner_id = fields.String(required=True)
    merchant_name = fields.String(required=True)
    # Whether the shop takes cash at the door; absent in events from before it (then yes).
    cash_on_delivery = fields.Boolean(load_default=True)
    lines = fields.List(fields.Nested(PricedLine), required=True)
    items_total_fen = fields.Integer(required=True, strict=True)
    delivery_fee_fen = fields.Integer(required=True, strict=True)
    total_fen = fields.Integer(required=True, strict=True)


@contract("stock_rejected")
class StockRejected(Contract):
    order_id = fields.String(required=True)
    merchant_id = fields.String(required=True)
    reason = fields.String(required=True)
    message = fields.String(required=True)
    product_id = fields.String(required=True, allow_none=True)


# Changes to what the catalog shows the public, so that copies elsewhere (the gateway's read
# cache) can be refreshed. They say what changed, not the new state: a reader asks again.
@contract("product_changed")
class ProductChanged(Contract):
    product_id = fields.String(required=True)
    merchant_id = fields.String(required=True)
    change = fields.String(required=True,
                           validate=validate.OneOf(["created", "updated", "deleted"]))


@contract("merchant_changed")
class MerchantChanged(Contract):
    merchant_id = fields.String(required=True)
    change = fields.String(required=True, validate=validate.OneOf(["created", "updated"]))


@contract("receipt_flagged")
class ReceiptFlagged(Contract):
    """A resident says a scale's receipt is short-weighed: for the market's manager (and the
    stall's owner)."""

    receipt_code = fields.String(required=True)
    merchant_id = fields.String(required=True)
    merchant_owner_id = fields.String(required=True)
    stall_name = fields.String(required=True)
    market_id = fields.String(required=True, allow_none=True)
    manager_id = fields.String(required=True, allow_none=True)
    product_name = fields.String(required=True)
    grams = fields.Integer(required=True, strict=True)
    total_fen = fields.Integer(required=True, strict=True)
    reason = fields.String(required=True)
    flagged_at = fields.String(required=True)
