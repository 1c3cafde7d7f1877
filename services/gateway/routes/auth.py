"""Development tokens (only when LIFECIRCLE_DEV_TOKENS=1 at start-up)."""

from __future__ import annotations

from flask import current_app
from marshmallow import fields, validate

from services.common.auth import ROLES, SUBJECT_PATTERN, issue_token
from services.common.schemas import Strict
from services.gateway.api import ApiBlueprint
from services.gateway.errors import ApiError

blp = ApiBlueprint("auth", __name__, url_prefix="/api/v1/auth", description="Tokens")


class DevTokenRequestSchema(Strict):
    sub = fields.String(required=True,
                        validate=[validate.Regexp(SUBJECT_PATTERN), validate.Length(max=64)],
                        metadata={"example": "resident-li"})
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class TokenSchema(Strict):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)


@blp.route("/dev-token", methods=["POST"])
@blp.arguments(DevTokenRequestSchema)
@blp.response(200, TokenSchema)
def dev_token(body):
    """Issue a token for any subject and role. Exists only on development set-ups."""
    settings = current_app.config["TOKENS"]
    if not settings.dev_tokens:
        raise ApiError(404, "not_found", "dev tokens are disabled on this server")
    return {"access_token": issue_token(settings, body["sub"], body["role"]),
            "token_type": "Bearer", "expires_in": settings.ttl_seconds}
