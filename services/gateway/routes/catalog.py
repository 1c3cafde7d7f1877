"""Merchants and their goods."""

from __future__ import annotations

from services.catalog import schemas
from services.common.schemas import PageArgs
from services.gateway.api import ApiBlueprint
from services.gateway.rpc import service
from services.gateway.security import BEARER, actor, requires

blp = ApiBlueprint("catalog", __name__, url_prefix="/api/v1", description="Shops and goods")


rpc = service("catalog")


@blp.route("/merchants", methods=["POST"])
@requires("merchant")
@blp.doc(security=BEARER)
@blp.arguments(schemas.MerchantCreateSchema)
@blp.response(201, schemas.MerchantSchema)
def create_merchant(body):
    """Register a shop; the caller becomes its owner."""
    return rpc("create_merchant", actor=actor(), merchant=body)


@blp.route("/merchants/<id:merchant_id>")
@requires()
@blp.doc(security=BEARER)
@blp.response(200, schemas.MerchantSchema)
def get_merchant(merchant_id):
    return rpc("get_merchant", merchant_id=merchant_id)


@blp.route("/merchants/<id:merchant_id>", methods=["PATCH"])
@requires("merchant")
@blp.doc(security=BEARER)
@blp.arguments(schemas.MerchantUpdateSchema)
@blp.response(200, schemas.MerchantSchema)
def update_merchant(body, merchant_id):
    """Change your shop's hours, delivery settings, services, address or place (owner only)."""
    return rpc("update_merchant", actor=actor(), merchant_id=merchant_id, changes=body)


@blp.route("/merchants/<id:merchant_id>/products", methods=["POST"])
@requires("merchant")
@blp.doc(security=BEARER)
@blp.arguments(schemas.ProductCreateSchema)
@blp.response(201, schemas.ProductSchema)
def create_product(body, merchant_id):
    """Add goods to your shop (owner only)."""
    return rpc("create_product", actor=actor(), merchant_id=merchant_id, product=body)


@blp.route("/merchants/<id:merchant_id>/products")
@requires()
@blp.doc(security=BEARER)
@blp.arguments(PageArgs, location="query")
@blp.response(200, schemas.ProductPageSchema)
def list_products(args, merchant_id):
    return rpc("list_products", merchant_id=merchant_id, **args)


@blp.route("/products/<id:product_id>")
@requires()
@blp.doc(security=BEARER)
@blp.response(200, schemas.ProductSchema)
def get_product(product_id):
    return rpc("get_product", product_id=product_id)


@blp.route("/products/<id:product_id>", methods=["PATCH"])
@requires("merchant")
@blp.doc(security=BEARER)
@blp.arguments(schemas.ProductUpdateSchema)
@blp.response(200, schemas.ProductSchema)
def update_product(body, product_id):
    """Change price, stock, availability or origin (owner only; stock changes are audited)."""
    return rpc("update_product", actor=actor(), product_id=product_id, changes=body)


@blp.route("/products/<id:product_id>", methods=["DELETE"])
@requires("merchant")
@blp.doc(security=BEARER)
@blp.response(204)
def delete_product(product_id):
    """Remove goods from your shop (owner only). Past orders keep their own copies."""
    rpc("delete_product", actor=actor(), product_id=product_id)


@blp.route("/products/<id:product_id>/stock-history")
@requires("merchant")
@blp.doc(security=BEARER)
@blp.response(200, schemas.StockHistorySchema)
def stock_history(product_id):
    """Every stock change of your goods: who, when, from, to (owner only)."""
    return rpc("stock_history", actor=actor(), product_id=product_id)
