"""Catalog payloads: used by the gateway at the edge and by the catalog service again."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates, validates_schema

from services.catalog import hours as opening_hours
from services.catalog import taxonomy
from services.common.schemas import Id, LocationSchema, Money, Strict, Text, page_of

SALE_MODES = ("by_piece", "by_weight")
PRICE_PER = ("500g", "kg")


def _known_type(code: str) -> None:
    if not taxonomy.is_known(code):
        raise ValidationError("unknown business type; see GET /api/v1/business-types")


class DeliverySettingsSchema(Strict):
    max_walk_minutes = fields.Integer(
        load_default=15, validate=validate.Range(1, 30),
        metadata={"description": "deliver to addresses within this walk of the shop"},
    )
    fee_fen = Money(load_default=0)
    min_order_fen = Money(load_default=0)


class MerchantCreateSchema(Strict):
    name = Text(100, required=True, metadata={"example": "惠民便利店"})
    business_type = fields.String(required=True, validate=_known_type,
                                  metadata={"example": "convenience_store"})
    secondary_types = fields.List(
        fields.String(validate=_known_type), load_default=list,
        validate=validate.Length(max=10),
        metadata={"description": "other services offered, e.g. photo_print, repair_point"},
    )
    location = fields.Nested(LocationSchema, required=True)
    address = Text(200, required=True)
    phone = Text(32, load_default=None, allow_none=True)
    opening_hours = fields.Dict(
        load_default=None, allow_none=True,
        metadata={"description": 'per weekday, e.g. {"mon": [["07:00", "21:00"]]}; '
                                 "a close time before the open time runs past midnight"},
    )
    delivery = fields.Nested(DeliverySettingsSchema, load_default=lambda: {})

    @validates("opening_hours")
    def _check_hours(self, value, **_kw):
        if value is not None:
            try:
                opening_hours.validate_hours(value)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None


class MerchantSchema(Strict):
    id = fields.String(required=True)
    owner_id = fields.String(required=True)
    name = fields.String(required=True)
    business_type = fields.String(required=True)
    secondary_types = fields.List(fields.String(), required=True)
    location = fields.Nested(LocationSchema, required=True)
    h3_cell = fields.String(required=True)
    address = fields.String(required=True)
    phone = fields.String(allow_none=True)
    opening_hours = fields.Dict(allow_none=True)
    delivery = fields.Nested(DeliverySettingsSchema, required=True)
    created_at = fields.String(required=True)


class OriginSchema(Strict):
    """Traceability, as the market's smart scales print it."""

    supplier = Text(100, load_default=None, allow_none=True)
    place = Text(100, load_default=None, allow_none=True, metadata={"example": "湖北恩施"})
    batch = Text(64, load_default=None, allow_none=True)
    arrival_date = fields.String(
        load_default=None, allow_none=True,
        validate=validate.Regexp(r"^\d{4}-\d{2}-\d{2}$", error="use YYYY-MM-DD"),
    )


class ProductCreateSchema(Strict):
    name = Text(100, required=True, metadata={"example": "土鸡蛋"})
    sale_mode = fields.String(load_default="by_piece", validate=validate.OneOf(SALE_MODES))
    price_fen = fields.Integer(
        strict=True, required=True, validate=validate.Range(1, 10_000_000),
        metadata={"description": "per piece, or per price_per when sold by weight"},
    )
    price_per = fields.String(load_default=None, allow_none=True,
                              validate=validate.OneOf(PRICE_PER))
    unit = Text(16, load_default=None, allow_none=True,
                metadata={"description": "display unit: 盒, 瓶, 份, box…", "example": "份"})
    stock = fields.Integer(
        strict=True, required=True, validate=validate.Range(0, 1_000_000_000),
        metadata={"description": "pieces, or grams when sold by weight"},
    )
    origin = fields.Nested(OriginSchema, load_default=None, allow_none=True)
    available = fields.Boolean(load_default=True)

    @validates_schema
    def _check_mode(self, data, **_kw):
        if data["sale_mode"] == "by_weight":
            if data.get("price_per") is None:
                raise ValidationError("required when sold by weight", "price_per")
        else:
            if data.get("price_per") is not None:
                raise ValidationError("only for goods sold by weight", "price_per")
            if not data.get("unit"):
                raise ValidationError("required when sold by piece", "unit")


class ProductUpdateSchema(Strict):
    name = Text(100)
    price_fen = fields.Integer(strict=True, validate=validate.Range(1, 10_000_000))
    stock = fields.Integer(strict=True, validate=validate.Range(0, 1_000_000_000),
                           metadata={"description": "available stock, not counting reserved"})
    available = fields.Boolean()
    origin = fields.Nested(OriginSchema, allow_none=True)

    @validates_schema
    def _not_empty(self, data, **_kw):
        if not data:
            raise ValidationError("nothing to change")


class ProductSchema(Strict):
    id = fields.String(required=True)
    merchant_id = fields.String(required=True)
    name = fields.String(required=True)
    sale_mode = fields.String(required=True)
    price_fen = fields.Integer(required=True)
    price_per = fields.String(allow_none=True)
    unit = fields.String(required=True)
    stock = fields.Integer(required=True)
    reserved = fields.Integer(required=True)
    sold = fields.Integer(required=True)
    origin = fields.Nested(OriginSchema, allow_none=True)
    available = fields.Boolean(required=True)
    updated_at = fields.String(required=True)


MerchantIdArg = Id
ProductPageSchema = page_of(ProductSchema)
