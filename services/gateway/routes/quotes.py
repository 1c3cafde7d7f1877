"""Price quotes: what a quantity of goods costs, by the catalog's own pricing function, so the
price a page shows while the resident picks a weight is the price the order is charged."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from services.catalog import pricing
from services.common.refusals import InvalidInput
from services.common.schemas import Strict
from services.gateway.api import ApiBlueprint
from services.gateway.rpc import service
from services.gateway.security import BEARER, requires

blp = ApiBlueprint("quotes", __name__, url_prefix="/api/v1", description="Shops and goods")

rpc = service("catalog")


class QuoteArgs(Strict):
    quantity = fields.Integer(required=True, validate=validate.Range(1, pricing.MAX_WEIGHT_G),
                              metadata={"description": "pieces, or grams when sold by weight",
                                        "example": 350})


class QuoteSchema(Strict):
    product_id = fields.String(required=True)
    quantity = fields.Integer(required=True)
    sale_mode = fields.String(required=True)
    unit_price_fen = fields.Integer(required=True)
    price_per = fields.String(allow_none=True)
    line_total_fen = fields.Integer(required=True)


def quote(product: dict[str, Any], quantity: int) -> dict[str, Any]:
    """The line price of ``quantity`` of ``product`` (as the catalog prices an order line)."""
    try:
        total = pricing.line_price_fen(product["sale_mode"], product["price_fen"], quantity,
                                       product.get("price_per"))
    except ValueError as exc:
        raise InvalidInput("the request has invalid fields", {"quantity": [str(exc)]}) from None
    return {"product_id": product["id"], "quantity": quantity, "sale_mode": product["sale_mode"],
            "unit_price_fen": product["price_fen"], "price_per": product.get("price_per"),
            "line_total_fen": total}


@blp.route("/products/<id:product_id>/quote")
@requires()
@blp.doc(security=BEARER)
@blp.arguments(QuoteArgs, location="query")
@blp.response(200, QuoteSchema)
def product_quote(args, product_id):
    """The price of a quantity (pieces, or grams by weight) at today's price, rounded as an
    order line is."""
    return quote(rpc("get_product", product_id=product_id), args["quantity"])
