"""Community notices."""

from __future__ import annotations

from flask import request

from services.gateway.api import ApiBlueprint, IdempotencyHeaderSchema
from services.gateway.rpc import service
from services.gateway.security import BEARER, actor, requires
from services.notify import schemas

blp = ApiBlueprint("notices", __name__, url_prefix="/api/v1", description="Community notices")


rpc = service("notify")


@blp.route("/notices", methods=["POST"])
@requires("planner")
@blp.doc(security=BEARER)
@blp.arguments(IdempotencyHeaderSchema, location="headers")
@blp.arguments(schemas.NoticeCreateSchema)
@blp.response(201, schemas.NoticeSchema)
def create_notice(headers, _body):
    """Post a notice to residents whose home is within a walk of a point, or in the listed
    communities. Each of them finds it in their inbox; a retry with the same Idempotency-Key
    sends nothing twice."""
    # The raw JSON travels (the service validates it again); the loaded form has datetimes.
    return rpc("create_notice", actor=actor(), notice=request.get_json(),
               idempotency_key=headers["key"])


@blp.route("/notices/audience-size", methods=["POST"])
@requires("planner")
@blp.doc(security=BEARER)
@blp.arguments(schemas.NoticeAudienceArgs)
@blp.response(200, schemas.AudienceSizeSchema)
def audience_size(body):
    """How many residents a notice to this audience would reach if posted now (nothing is
    sent): the same walk or community rule as POST /notices."""
    return rpc("notice_audience_size", actor=actor(), audience=body["audience"])


@blp.route("/notices")
@requires()
@blp.doc(security=BEARER)
@blp.arguments(schemas.NoticeQueryArgs, location="query")
@blp.response(200, schemas.NoticeListSchema)
def list_notices(args):
    """Current notices for a place (a point inside their walk) or a community."""
    return rpc("list_notices", **args)
