"""The 15-minute circle: business types, near me, coverage."""

from __future__ import annotations

from services.catalog import schemas, taxonomy
from services.gateway.api import ApiBlueprint
from services.gateway.rpc import service
from services.gateway.security import BEARER, actor, requires

blp = ApiBlueprint("circle", __name__, url_prefix="/api/v1",
                   description="The 15-minute circle: business types, near me, coverage")


rpc = service("catalog")


@blp.route("/business-types")
@blp.response(200, schemas.BusinessTypeListSchema)
def business_types():
    """The MOFCOM 15-minute-circle taxonomy: basic-guarantee and quality-improvement types,
    each with its target walk. Public; static data shipped with the catalog code."""
    return {"items": taxonomy.BUSINESS_TYPES}


# GET only: POST /merchants (register a shop) lives in routes/catalog.py.
@blp.route("/merchants", endpoint="near_merchants")
@requires()
@blp.doc(security=BEARER)
@blp.arguments(schemas.NearMerchantsArgs, location="query")
@blp.response(200, schemas.NearMerchantPageSchema)
def near_merchants(args):
    """Merchants within a walk of a point, nearest first, with distance, walking minutes and
    whether each is open now. business_type matches primary or secondary types."""
    return rpc("near_merchants", query=args)


@blp.route("/products", endpoint="near_products")
@requires()
@blp.doc(security=BEARER)
@blp.arguments(schemas.NearProductsArgs, location="query")
@blp.response(200, schemas.NearProductPageSchema)
def near_products(args):
    """Goods on sale within a walk whose name matches q (鸡蛋 finds 土鸡蛋 and 鸡蛋 10枚):
    most relevant first, then nearest."""
    return rpc("near_products", query=args)


@blp.route("/coverage")
@requires("planner")
@blp.doc(security=BEARER)
@blp.arguments(schemas.CoverageArgs, location="query")
@blp.response(200, schemas.CoverageSchema)
def coverage(args):
    """What the circle around a point has and lacks: per business type, covered within its
    target walk and the nearest one; missing types, basic-guarantee gaps first."""
    return rpc("coverage", actor=actor(), query=args)


@blp.route("/coverage/area")
@requires("planner")
@blp.doc(security=BEARER)
@blp.arguments(schemas.CoverageAreaArgs, location="query")
@blp.response(200, schemas.CoverageAreaSchema)
def coverage_area(args):
    """A GeoJSON map for planners: per H3 cell (res 7-9) of a box or of community points, how
    many basic-guarantee types are covered at the cell's centre."""
    return rpc("coverage_area", actor=actor(), query=args, timeout=30)
