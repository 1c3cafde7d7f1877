"""A merchant's own shops (the web app's shopkeeper pages start here)."""

from __future__ import annotations

from marshmallow import fields

from services.catalog import schemas
from services.common.schemas import Strict
from services.gateway.api import ApiBlueprint
from services.gateway.rpc import service
from services.gateway.security import BEARER, actor, requires

blp = ApiBlueprint("my_shops", __name__, url_prefix="/api/v1", description="Shops and goods")

rpc = service("catalog")


class MerchantListSchema(Strict):
    items = fields.List(fields.Nested(schemas.MerchantSchema), required=True)


@blp.route("/me/merchants")
@requires("merchant")
@blp.doc(security=BEARER)
@blp.response(200, MerchantListSchema)
def my_merchants():
    """The shops you own, oldest first."""
    return rpc("my_merchants", actor=actor())
