"""The wet market: markets and their stalls, stall devices, goods batches, scale weighings,
public receipts and residents' flags (docs/market.md)."""

from __future__ import annotations

from flask import current_app, request

from services.catalog import schemas
from services.gateway.api import ApiBlueprint
from services.gateway.rpc import service
from services.gateway.security import (
    BEARER,
    DEVICE,
    actor,
    device_token,
    requires,
    requires_device,
)

blp = ApiBlueprint("market", __name__, url_prefix="/api/v1",
                   description="Wet markets: smart scales, receipts, recycling boxes")


rpc = service("catalog")


@blp.route("/markets", methods=["POST"])
@requires("market_manager")
@blp.doc(security=BEARER)
@blp.arguments(schemas.MarketCreateSchema)
@blp.response(201, schemas.MarketSchema)
def open_market(body):
    """Open a market; the caller becomes its manager."""
    return rpc("open_market", actor=actor(), market=body)


@blp.route("/me/markets")
@requires("market_manager")
@blp.doc(security=BEARER)
@blp.response(200, schemas.MarketListSchema)
def my_markets():
    """The markets you manage, oldest first."""
    return rpc("my_markets", actor=actor())


@blp.route("/markets/<id:market_id>")
@requires("market_manager")
@blp.doc(security=BEARER)
@blp.response(200, schemas.MarketSchema)
def get_market(market_id):
    """A market and its stalls (its manager only)."""
    return rpc("get_market", actor=actor(), market_id=market_id)


@blp.route("/markets/<id:market_id>/stalls", methods=["POST"])
@requires("merchant")
@blp.doc(security=BEARER)
@blp.arguments(schemas.StallJoinSchema)
@blp.response(200, schemas.MarketSchema)
def join_market(body, market_id):
    """Put your stall in a market: its manager then sees its weighings (stall owner only)."""
    return rpc("join_market", actor=actor(), market_id=market_id, stall=body)


@blp.route("/markets/<id:market_id>/weighings")
@requires("market_manager")
@blp.doc(security=BEARER)
@blp.arguments(schemas.MarketDayArgs, location="query")
@blp.response(200, schemas.MarketDaySchema)
def market_day(args, market_id):
    """One day of the market: each stall's weighings, grams, takings, mismatches, flags."""
    return rpc("market_day", actor=actor(), market_id=market_id,
               day=args["day"].isoformat())


@blp.route("/markets/<id:market_id>/mismatches")
@requires("market_manager")
@blp.doc(security=BEARER)
@blp.arguments(schemas.MarketDayArgs, location="query")
@blp.response(200, schemas.MismatchListSchema)
def market_mismatches(args, market_id):
    """The day's weighings whose price, total, batch or stock disagreed with the catalog, or
    that a resident flagged. Recorded as weighed: never corrected."""
    return rpc("market_mismatches", actor=actor(), market_id=market_id,
               day=args["day"].isoformat())


@blp.route("/merchants/<id:merchant_id>/devices", methods=["POST"])
@requires("merchant", "market_manager")
@blp.doc(security=BEARER)
@blp.arguments(schemas.DeviceCreateSchema)
@blp.response(201, schemas.DeviceSchema)
def register_device(body, merchant_id):
    """Register a stall's scale (or a recycling point's box). The answer carries the device's
    token, once: configure the device with it (stall owner or market manager)."""
    return rpc("register_device", actor=actor(), merchant_id=merchant_id, device=body)


@blp.route("/devices/<id:device_id>/revoke", methods=["POST"])
@requires("merchant", "market_manager")
@blp.doc(security=BEARER)
@blp.response(200, schemas.DeviceSchema)
def revoke_device(device_id):
    """Revoke a device: its token is refused from now on (stall owner or market manager)."""
    return rpc("revoke_device", actor=actor(), device_id=device_id)


@blp.route("/products/<id:product_id>/batches", methods=["POST"])
@requires("merchant")
@blp.doc(security=BEARER)
@blp.arguments(schemas.BatchCreateSchema)
@blp.response(201, schemas.BatchSchema)
def add_batch(body, product_id):
    """Record a batch of goods: its code, origin, supplier and arrival (owner only)."""
    return rpc("add_batch", actor=actor(), product_id=product_id,
               batch={**body, "arrived_on": body["arrived_on"].isoformat()})


@blp.route("/scales/weighings", methods=["POST"])
@requires_device
@blp.doc(security=DEVICE)
@blp.arguments(schemas.WeighingCreateSchema)
@blp.response(201, schemas.WeighingReceiptSchema)
def post_weighing(_body):
    """A scale posts a weighing (device token, not a person). A retry with the same
    ``sequence`` returns the first receipt; nothing is sold twice. A retry that arrives while
    the first is still being recorded is 409 ``in_progress``: post it again shortly."""
    # The raw JSON travels (the catalog validates it again); the loaded form has datetimes.
    answer = rpc("record_weighing", device_token=device_token(), weighing=request.get_json())
    # The QR opens the receipt's public page (the web app); the JSON is at /api/v1/receipts/.
    return {**answer, "url": f"{request.url_root}receipt/{answer['code']}"}


@blp.route("/receipts/<receipt:code>")
@blp.doc(security=[])
@blp.response(200, schemas.ReceiptSchema)
def get_receipt(code):
    """A receipt, for anyone holding its code (the QR on the slip): stall, goods, weight,
    price, total, time, and the batch's origin, supplier and arrival. Nothing about the
    buyer."""
    current_app.config["RATE_LIMITER"].check(f"ip:{request.remote_addr}")
    return rpc("get_receipt", code=code)


@blp.route("/receipts/<receipt:code>/flag", methods=["POST"])
@requires("resident")
@blp.doc(security=BEARER)
@blp.arguments(schemas.ReceiptFlagSchema)
@blp.response(200, schemas.ReceiptFlaggedSchema)
def flag_receipt(body, code):
    """Say the goods weighed less than the receipt: the market's manager hears of it."""
    return rpc("flag_receipt", actor=actor(), code=code, flag=body)


# recycling points

@blp.route("/merchants/<id:merchant_id>/recycling-rates", methods=["PUT"])
@requires("merchant")
@blp.doc(security=BEARER)
@blp.arguments(schemas.RecyclingRatesSchema)
@blp.response(200, schemas.RecyclingRatesViewSchema)
def post_recycling_rates(body, merchant_id):
    """Post the point's rates per category, fen per kg (the recycling point's owner)."""
    return rpc("post_recycling_rates", actor=actor(), merchant_id=merchant_id, rates=body)


@blp.route("/merchants/<id:merchant_id>/recycling-rates")
@requires()
@blp.doc(security=BEARER)
@blp.response(200, schemas.RecyclingRatesViewSchema)
def get_recycling_rates(merchant_id):
    """A recycling point's current rates, fen per kg."""
    return rpc("get_recycling_rates", merchant_id=merchant_id)


@blp.route("/merchants/<id:merchant_id>/recycling-intake")
@requires("merchant")
@blp.doc(security=BEARER)
@blp.arguments(schemas.MarketDayArgs, location="query")
@blp.response(200, schemas.RecyclingIntakeSchema)
def recycling_intake(args, merchant_id):
    """One day's intake at a recycling point: drop-offs, grams per category, fen credited
    (the point's owner)."""
    return rpc("recycling_intake", actor=actor(), merchant_id=merchant_id,
               day=args["day"].isoformat())


@blp.route("/recycling/drop-off-codes", methods=["POST"])
@requires("resident", admin=False)
@blp.doc(security=BEARER)
@blp.response(201, schemas.DropOffCodeSchema)
def issue_drop_off_code():
    """A short-lived code for your app to show the box: the box posts it, and you are credited
    (residents; good for one drop-off, for a few minutes)."""
    return rpc("issue_drop_off_code", actor=actor())


@blp.route("/recycling/drop-offs", methods=["POST"])
@requires_device
@blp.doc(security=DEVICE)
@blp.arguments(schemas.DropOffCreateSchema)
@blp.response(201, schemas.DropOffSchema)
def post_drop_off(_body):
    """A recycling box posts a drop-off against the resident's code (device token). A retry
    with the same ``sequence`` is counted once."""
    return rpc("record_drop_off", device_token=device_token(), drop_off=request.get_json())


@blp.route("/recycling/credits/me")
@requires("resident", admin=False)
@blp.doc(security=BEARER)
@blp.response(200, schemas.RecyclingCreditSchema)
def my_recycling_credits():
    """Your recycling credit: the total, how many drop-offs, the latest ones."""
    return rpc("recycling_credits", actor=actor())
