"""Catalog payloads: used by the gateway at the edge and by the catalog service again."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates, validates_schema

from services.catalog import recycling_rules, taxonomy
from services.catalog.pricing import (
    BY_PIECE,
    MAX_WEIGHT_G,
    MIN_WEIGHT_G,
    PRICE_PER_GRAMS,
    SALE_MODES,
)
from services.common import hours as opening_hours
from services.common.schemas import (
    Day,
    Id,
    Instant,
    LocationSchema,
    Money,
    Strict,
    Text,
    page_of,
)

PRICE_PER = tuple(PRICE_PER_GRAMS)


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
    cash_on_delivery = fields.Boolean(
        load_default=True,
        metadata={"description": "residents may choose to pay at the door (docs/payments.md)"},
    )

    @validates("opening_hours")
    def _check_hours(self, value, **_kw):
        if value is not None:
            try:
                opening_hours.validate_hours(value)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None


class MerchantUpdateSchema(MerchantCreateSchema):
    """Any of the fields of a new shop; those not sent stay as they are."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)

    @validates_schema
    def _not_empty(self, data, **_kw):
        if not data:
            raise ValidationError("nothing to change")


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
    cash_on_delivery = fields.Boolean(required=True)
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
    sale_mode = fields.String(load_default=BY_PIECE, validate=validate.OneOf(SALE_MODES))
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
    min_quantity = fields.Integer(required=True, metadata={
        "description": "the least quantity an order line may ask for: 1 piece, or the grams "
                       "that cost at least 1 fen at this price (an order below it is rejected)"})
    unit = fields.String(required=True)
    stock = fields.Integer(required=True)
    reserved = fields.Integer(required=True)
    sold = fields.Integer(required=True)
    origin = fields.Nested(OriginSchema, allow_none=True)
    available = fields.Boolean(required=True)
    updated_at = fields.String(required=True)


MerchantIdArg = Id
ProductPageSchema = page_of(ProductSchema)


# --- the 15-minute circle: query arguments (validated at the gateway and again here) ----------

MAX_WALK_MINUTES = 60  # beyond an hour it is not a walk; also bounds the H3 disk size
AREA_RESOLUTIONS = (7, 8, 9)
MAX_AREA_POINTS = 200


def _lat(**kw) -> fields.Float:
    return fields.Float(allow_nan=False, validate=validate.Range(-90, 90),
                        metadata={"description": "WGS84 latitude", "example": 30.5801}, **kw)


def _lng(**kw) -> fields.Float:
    return fields.Float(allow_nan=False, validate=validate.Range(-180, 180),
                        metadata={"description": "WGS84 longitude", "example": 114.2701}, **kw)


def _walk_minutes() -> fields.Integer:
    return fields.Integer(
        load_default=15, validate=validate.Range(1, MAX_WALK_MINUTES),
        metadata={"description": "how far the resident will walk, in minutes (1-60)"},
    )


class NearMerchantsArgs(Strict):
    lat = _lat(required=True)
    lng = _lng(required=True)
    walk_minutes = _walk_minutes()
    business_type = fields.String(
        load_default=None, validate=_known_type,
        metadata={"description": "primary or secondary type, e.g. breakfast"},
    )
    open_now = fields.Boolean(
        load_default=False,
        metadata={"description": "true: only merchants open right now (city time zone)"},
    )
    q = Text(50, load_default=None, metadata={"description": "words in the shop's name"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class NearProductsArgs(Strict):
    lat = _lat(required=True)
    lng = _lng(required=True)
    walk_minutes = _walk_minutes()
    q = Text(50, required=True, metadata={"description": "product name, e.g. 鸡蛋",
                                          "example": "鸡蛋"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(1, 100))

    @validates("q")
    def _has_text(self, value, **_kw):
        if not value.strip():
            raise ValidationError("must contain a word to search for")


class CoverageArgs(Strict):
    lat = _lat(required=True)
    lng = _lng(required=True)


def _parse_points(text: str) -> list[dict[str, float]]:
    """'lat,lng;lat,lng' -> [{"lat", "lng"}]; ValidationError on anything else."""
    points = []
    for i, part in enumerate(p for p in text.split(";") if p.strip()):
        pieces = part.split(",")
        if len(pieces) != 2:
            raise ValidationError(f"point {i}: expected 'lat,lng'")
        try:
            point = LocationSchema().load({"lat": pieces[0].strip(), "lng": pieces[1].strip()})
        except ValidationError as exc:
            raise ValidationError(f"point {i}: {exc.messages}") from None
        points.append(point)
    if not points:
        raise ValidationError("give at least one 'lat,lng' point")
    if len(points) > MAX_AREA_POINTS:
        raise ValidationError(f"at most {MAX_AREA_POINTS} points")
    return points


class PointList(fields.String):
    """Community points as 'lat,lng;lat,lng' (a query string cannot carry a JSON list)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list):  # already parsed once, at the gateway
            if not 1 <= len(value) <= MAX_AREA_POINTS:
                raise ValidationError(f"give 1 to {MAX_AREA_POINTS} points")
            return LocationSchema(many=True).load(value)
        return _parse_points(super()._deserialize(value, attr, data, **kwargs))


class CoverageAreaArgs(Strict):
    south = _lat(load_default=None)
    west = _lng(load_default=None)
    north = _lat(load_default=None)
    east = _lng(load_default=None)
    points = PointList(
        load_default=None,
        metadata={"description": "instead of a box: community points 'lat,lng;lat,lng' "
                                 f"(at most {MAX_AREA_POINTS}); each gives the cell it lies in",
                  "example": "30.5801,114.2701;30.5850,114.2750"},
    )
    res = fields.Integer(
        load_default=8, validate=validate.OneOf(AREA_RESOLUTIONS),
        metadata={"description": "H3 resolution of the map cells: 7 (~5 km²), 8 (~0.7 km²) "
                                 "or 9 (~0.1 km²)"},
    )

    @validates_schema
    def _box_or_points(self, data, **_kw):
        box = [data.get(k) for k in ("south", "west", "north", "east")]
        given = [v is not None for v in box]
        if data.get("points") is not None:
            if any(given):
                raise ValidationError("give either a bounding box or points, not both")
            return
        if not all(given):
            raise ValidationError("give south, west, north and east (or points)")
        south, west, north, east = box
        if not (south < north and west < east):
            raise ValidationError("the box needs south < north and west < east")


# --- the 15-minute circle: answers ----------------------------------------------------------


class BusinessTypeSchema(Strict):
    code = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    category = fields.String(required=True, metadata={"description": "basic or quality"})
    group = fields.String(required=True)
    target_walk_minutes = fields.Integer(required=True)


class BusinessTypeListSchema(Strict):
    items = fields.List(fields.Nested(BusinessTypeSchema), required=True)


class NearMerchantSchema(Strict):
    id = fields.String(required=True)
    name = fields.String(required=True)
    business_type = fields.String(required=True)
    secondary_types = fields.List(fields.String(), required=True)
    location = fields.Nested(LocationSchema, required=True)
    address = fields.String(required=True)
    phone = fields.String(allow_none=True)
    opening_hours = fields.Dict(allow_none=True)
    distance_m = fields.Float(required=True, metadata={"description": "straight line"})
    walk_minutes = fields.Float(required=True, metadata={"description": "estimated walk"})
    open_now = fields.Boolean(required=True)


class NearProductSchema(Strict):
    id = fields.String(required=True)
    name = fields.String(required=True)
    merchant_id = fields.String(required=True)
    merchant_name = fields.String(required=True)
    sale_mode = fields.String(required=True)
    price_fen = fields.Integer(required=True)
    price_per = fields.String(allow_none=True)
    unit = fields.String(required=True)
    stock = fields.Integer(required=True)
    origin = fields.Nested(OriginSchema, allow_none=True)
    relevance = fields.Float(required=True)
    distance_m = fields.Float(required=True)
    walk_minutes = fields.Float(required=True)


def _near_page(item: type, name: str) -> type:
    return type(name, (Strict,), {
        "items": fields.List(fields.Nested(item), required=True),
        "page": fields.Integer(required=True),
        "page_size": fields.Integer(required=True),
        "total": fields.Integer(required=True),
        "walk_minutes": fields.Integer(required=True),
        "max_distance_m": fields.Float(required=True, metadata={
            "description": "straight-line radius that the walk allows"}),
    })


NearMerchantPageSchema = _near_page(NearMerchantSchema, "NearMerchantPageSchema")
NearProductPageSchema = _near_page(NearProductSchema, "NearProductPageSchema")


class NearestSchema(Strict):
    merchant_id = fields.String(required=True)
    name = fields.String(required=True)
    walk_minutes = fields.Float(required=True)
    distance_m = fields.Float(required=True)


class TypeCoverageSchema(BusinessTypeSchema):
    covered = fields.Boolean(required=True)
    nearest = fields.Nested(NearestSchema, allow_none=True, metadata={
        "description": "nearest merchant of this type within the search radius, or null"})


class CategoryCountSchema(Strict):
    covered = fields.Integer(required=True)
    total = fields.Integer(required=True)


class CoverageSchema(Strict):
    origin = fields.Nested(LocationSchema, required=True)
    types = fields.List(fields.Nested(TypeCoverageSchema), required=True)
    missing = fields.List(fields.String(), required=True,
                          metadata={"description": "uncovered types, basic-guarantee first"})
    summary = fields.Dict(keys=fields.String(), values=fields.Nested(CategoryCountSchema),
                          required=True)
    search_walk_minutes = fields.Integer(required=True, metadata={
        "description": "merchants farther than this walk are not looked at"})


# "from" is a Python keyword, hence from_dict.
StockChangeSchema = Strict.from_dict({
    "by": fields.String(required=True, metadata={"description": "who changed it"}),
    "at": fields.String(required=True, metadata={"description": "when (UTC, ISO 8601)"}),
    "from": fields.Integer(required=True),
    "to": fields.Integer(required=True),
}, name="StockChangeSchema")


class StockHistorySchema(Strict):
    product_id = fields.String(required=True)
    items = fields.List(fields.Nested(StockChangeSchema), required=True,
                        metadata={"description": "newest last (at most the last 200)"})


class CoverageAreaSchema(Strict):
    """A GeoJSON FeatureCollection: one Polygon feature per H3 cell."""

    type = fields.String(required=True, metadata={"example": "FeatureCollection"})
    features = fields.List(fields.Dict(), required=True, metadata={
        "description": "properties: cell, res, centre, basic_covered, basic_total, "
                       "basic_missing"})
    properties = fields.Dict(required=True)


# the wet market (docs/market.md)

class MarketCreateSchema(Strict):
    name = Text(100, required=True, metadata={"example": "新湾菜场"})


class MarketSchema(Strict):
    id = fields.String(required=True)
    name = fields.String(required=True)
    manager_id = fields.String(required=True)
    stall_ids = fields.List(fields.String(), required=True)
    created_at = fields.String(required=True)


class MarketListSchema(Strict):
    items = fields.List(fields.Nested(MarketSchema), required=True)


class StallJoinSchema(Strict):
    merchant_id = Id(required=True)


class DeviceCreateSchema(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(("scale", "recycling_box")))
    name = Text(60, required=True, metadata={"example": "3号摊位电子秤"})


class DeviceSchema(Strict):
    id = fields.String(required=True)
    merchant_id = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    created_at = fields.String(required=True)
    revoked_at = fields.String(required=True, allow_none=True)
    token = fields.String(metadata={"description": "the device's credential, shown only at "
                                                   "registration: send it as X-Device-Token"})


class BatchCreateSchema(Strict):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.-]{1,64}$", error="1 to 64 letters, digits, or _ . -"),
        metadata={"example": "B20261201-01"})
    origin = Text(100, required=True, metadata={"example": "湖北洪湖"})
    supplier = Text(100, required=True, metadata={"example": "洪湖蔬菜合作社"})
    arrived_on = Day(required=True)


class BatchSchema(Strict):
    id = fields.String(required=True)
    product_id = fields.String(required=True)
    code = fields.String(required=True)
    origin = fields.String(required=True)
    supplier = fields.String(required=True)
    arrived_on = fields.String(required=True)


class WeighingCreateSchema(Strict):
    sequence = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.-]{1,64}$", error="1 to 64 letters, digits, or _ . -"),
        metadata={"description": "the scale's own id for this weighing: a retried post with "
                                 "the same sequence is recorded once"})
    product_id = Id(required=True)
    grams = fields.Integer(required=True, strict=True,
                           validate=validate.Range(MIN_WEIGHT_G, MAX_WEIGHT_G))
    unit_price_fen = Money(required=True, metadata={"description": "per the product's "
                                                                   "price_per unit"})
    total_fen = Money(required=True)
    weighed_at = Instant(required=True)
    batch = fields.String(load_default=None, allow_none=True,
                          validate=validate.Length(1, 64),
                          metadata={"description": "the batch code of the goods on the scale"})


class ReceiptStallSchema(Strict):
    id = fields.String(required=True)
    name = fields.String(required=True)


class ReceiptBatchSchema(Strict):
    code = fields.String(required=True, allow_none=True)
    origin = fields.String(required=True, allow_none=True)
    supplier = fields.String(required=True, allow_none=True)
    arrived_on = fields.String(required=True, allow_none=True)


class ReceiptSchema(Strict):
    code = fields.String(required=True)
    stall = fields.Nested(ReceiptStallSchema, required=True)
    product = fields.Nested(ReceiptStallSchema, required=True)
    grams = fields.Integer(required=True)
    unit_price_fen = fields.Integer(required=True)
    price_per = fields.String(required=True, allow_none=True)
    total_fen = fields.Integer(required=True)
    weighed_at = fields.String(required=True)
    batch = fields.Nested(ReceiptBatchSchema, required=True)


class WeighingReceiptSchema(ReceiptSchema):
    url = fields.String(required=True, metadata={"description": "the receipt's public page "
                                                                "(for the QR on the slip)"})


class MismatchSchema(Strict):
    kind = fields.String(required=True)
    posted = fields.Raw(required=True, allow_none=True)
    catalog = fields.Raw(required=True, allow_none=True)


class ManagerWeighingSchema(ReceiptSchema):
    device_id = fields.String(required=True)
    mismatches = fields.List(fields.Nested(MismatchSchema), required=True)
    flags = fields.Integer(required=True)
    stock_taken = fields.Boolean(required=True)


class MarketDayArgs(Strict):
    day = Day(required=True, metadata={"example": "2026-12-01"})


class StallDaySchema(Strict):
    merchant_id = fields.String(required=True)
    name = fields.String(required=True)
    weighings = fields.Integer(required=True)
    grams = fields.Integer(required=True)
    total_fen = fields.Integer(required=True)
    mismatched = fields.Integer(required=True)
    flagged = fields.Integer(required=True)


class MarketDaySchema(Strict):
    market_id = fields.String(required=True)
    day = fields.String(required=True)
    stalls = fields.List(fields.Nested(StallDaySchema), required=True)


class MismatchListSchema(Strict):
    market_id = fields.String(required=True)
    day = fields.String(required=True)
    items = fields.List(fields.Nested(ManagerWeighingSchema), required=True)


class ReceiptFlagSchema(Strict):
    reason = Text(500, required=True, metadata={"example": "到家称了只有400克"})


class ReceiptFlaggedSchema(Strict):
    code = fields.String(required=True)
    flagged = fields.Boolean(required=True)


# recycling points (docs/market.md)

def _rate(**kw) -> fields.Integer:
    return fields.Integer(strict=True, required=True, validate=validate.Range(0, 100_000),
                          metadata={"description": "fen per kg"}, **kw)


class RecyclingRatesSchema(Strict):
    paper = _rate()
    plastic = _rate()
    metal = _rate()
    textile = _rate()


class RecyclingRatesViewSchema(Strict):
    merchant_id = fields.String(required=True)
    rates = fields.Nested(RecyclingRatesSchema, required=True)
    updated_at = fields.String(required=True)


class DropOffCodeSchema(Strict):
    code = fields.String(required=True, metadata={"description": "show it to the box (as a "
                                                                 "QR); good for one drop-off"})
    expires_at = fields.String(required=True)


class DropOffItemSchema(Strict):
    category = fields.String(required=True,
                             validate=validate.OneOf(recycling_rules.CATEGORIES))
    grams = fields.Integer(required=True, strict=True, validate=validate.Range(1, 500_000))


class DropOffCreateSchema(Strict):
    sequence = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.-]{1,64}$", error="1 to 64 letters, digits, or _ . -"),
        metadata={"description": "the box's own id for this drop-off: a retry is counted once"})
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9A-HJKMNP-TV-Z]{8}$", error="the 8-letter code the resident's app shows"))
    items = fields.List(fields.Nested(DropOffItemSchema), required=True,
                        validate=validate.Length(1, 4))
    amount_fen = Money(required=True, metadata={"description": "what the box computed at the "
                                                              "point's posted rates"})
    weighed_at = Instant(required=True)


class DropOffSchema(Strict):
    id = fields.String(required=True)
    merchant_id = fields.String(required=True)
    items = fields.List(fields.Nested(DropOffItemSchema), required=True)
    credited_fen = fields.Integer(required=True)
    box_amount_fen = fields.Integer(required=True)
    amount_differs = fields.Boolean(required=True)
    weighed_at = fields.String(required=True)


class RecyclingCreditSchema(Strict):
    resident_id = fields.String(required=True)
    credit_fen = fields.Integer(required=True)
    drop_offs = fields.Integer(required=True)
    recent = fields.List(fields.Nested(DropOffSchema), required=True)


class IntakeGramsSchema(Strict):
    paper = fields.Integer(required=True)
    plastic = fields.Integer(required=True)
    metal = fields.Integer(required=True)
    textile = fields.Integer(required=True)


class RecyclingIntakeSchema(Strict):
    merchant_id = fields.String(required=True)
    day = fields.String(required=True)
    drop_offs = fields.Integer(required=True)
    grams = fields.Nested(IntakeGramsSchema, required=True)
    credited_fen = fields.Integer(required=True)
    amount_differs = fields.Integer(required=True)
