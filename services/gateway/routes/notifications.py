"""Each person's in-app inbox."""

from __future__ import annotations

from flask import current_app

from services.common.schemas import PageArgs
from services.gateway.api import ApiBlueprint
from services.gateway.security import BEARER, actor, requires
from services.notify import schemas

blp = ApiBlueprint("notifications", __name__, url_prefix="/api/v1/notifications",
                   description="Notifications")


def rpc(method: str, **kwargs):
    return current_app.config["RPC"].call("notify", method, **kwargs)


@blp.route("")
@requires()
@blp.doc(security=BEARER)
@blp.arguments(PageArgs, location="query")
@blp.response(200, schemas.NotificationPageSchema)
def list_notifications(args):
    """Your notifications, newest first, with the unread count."""
    return rpc("list_notifications", actor=actor(), **args)


@blp.route("/<id:notification_id>/read", methods=["POST"])
@requires()
@blp.doc(security=BEARER)
@blp.response(200, schemas.NotificationSchema)
def mark_read(notification_id):
    return rpc("mark_read", actor=actor(), notification_id=notification_id)
