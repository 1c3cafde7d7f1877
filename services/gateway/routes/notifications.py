"""Each person's inbox, its live stream, notification preferences, webhooks, and the admin
view of channel deliveries."""

from __future__ import annotations

from flask import current_app, request

from services.common.schemas import PageArgs
from services.gateway import streams
from services.gateway.api import ApiBlueprint
from services.gateway.errors import ApiError
from services.gateway.rpc import service
from services.gateway.security import BEARER, actor, requires
from services.notify import schemas

blp = ApiBlueprint("notifications", __name__, url_prefix="/api/v1",
                   description="Notifications")

rpc = service("notify")


@blp.route("/notifications")
@requires()
@blp.doc(security=BEARER)
@blp.arguments(PageArgs, location="query")
@blp.response(200, schemas.NotificationPageSchema)
def list_notifications(args):
    """Your notifications, newest first, with the unread count (dispatchers: with the
    dispatchers' shared inbox)."""
    return rpc("list_notifications", actor=actor(), **args)


@blp.route("/notifications/<id:notification_id>/read", methods=["POST"])
@requires()
@blp.doc(security=BEARER)
@blp.response(200, schemas.NotificationSchema)
def mark_read(notification_id):
    return rpc("mark_read", actor=actor(), notification_id=notification_id)


@blp.route("/notifications/read-all", methods=["POST"])
@requires()
@blp.doc(security=BEARER)
@blp.response(200, schemas.ReadAllSchema)
def mark_all_read():
    """Mark everything in your inbox read."""
    return rpc("mark_all_read", actor=actor())


@blp.route("/notifications/stream")
@requires(cookie=True)  # the web app's EventSource sends its session cookie
@blp.doc(security=BEARER, responses={200: {
    "description": "events `ready`, `notification` (id = seq) and `bye`; `: keep-alive` "
                   "comments",
    "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
@blp.arguments(schemas.StreamArgs, location="headers")
def notification_stream(headers):
    """Server-sent events: your new notifications as they happen. Send
    Accept: text/event-stream (EventSource does), and Last-Event-ID to resume; the stream
    ends after about a minute and the client reconnects."""
    if "text/event-stream" not in request.headers.get("Accept", ""):
        raise ApiError(406, "not_acceptable", "this is a server-sent event stream; send "
                       "Accept: text/event-stream")
    who = actor()
    client = current_app.config["RPC"]

    def fetch(after):
        return client.call("notify", "notifications_since", actor=who, after=after)

    # Limits, hang-up detection and shutdown: services/gateway/streams.py.
    last = headers.get("last_event_id")
    return streams.serve(current_app.config["STREAMS"], current_app.config["STREAM_SETTINGS"],
                         who["sub"], int(last) if last is not None else None, fetch,
                         request.environ.get("gunicorn.socket"))


@blp.route("/me/notification-preferences")
@requires()
@blp.doc(security=BEARER)
@blp.response(200, schemas.PreferencesSchema)
def get_preferences():
    """Your language, time zone, channels per category, quiet hours (and home, residents)."""
    return rpc("get_preferences", actor=actor())


@blp.route("/me/notification-preferences", methods=["PUT"])
@requires()
@blp.doc(security=BEARER)
@blp.arguments(schemas.PreferencesUpdateSchema)
@blp.response(200, schemas.PreferencesSchema)
def put_preferences(_body):
    """Change your preferences; fields left out keep their value."""
    return rpc("put_preferences", actor=actor(), preferences=request.get_json())


@blp.route("/me/webhooks", methods=["POST"])
@requires("merchant", "planner", "dispatcher")
@blp.doc(security=BEARER)
@blp.arguments(schemas.WebhookCreateSchema)
@blp.response(201, schemas.WebhookSchema)
def create_webhook(_body):
    """Register an HTTPS endpoint for your notifications. The answer carries the signing
    secret once; requests are signed as described in docs/notifications.md."""
    return rpc("create_webhook", actor=actor(), webhook=request.get_json())


@blp.route("/me/webhooks")
@requires()
@blp.doc(security=BEARER)
@blp.response(200, schemas.WebhookListSchema)
def list_webhooks():
    return rpc("list_webhooks", actor=actor())


@blp.route("/me/webhooks/<id:webhook_id>", methods=["DELETE"])
@requires()
@blp.doc(security=BEARER)
@blp.response(204)
def delete_webhook(webhook_id):
    rpc("delete_webhook", actor=actor(), webhook_id=webhook_id)


@blp.route("/admin/deliveries")
@requires("admin")
@blp.doc(security=BEARER)
@blp.arguments(schemas.DeliveryListArgs, location="query")
@blp.response(200, schemas.ChannelDeliveryPageSchema)
def list_deliveries(args):
    """Channel deliveries by status (default: failed ones, which need attention)."""
    return rpc("list_deliveries", actor=actor(), **args)


@blp.route("/admin/deliveries/<id:delivery_id>")
@requires("admin")
@blp.doc(security=BEARER)
@blp.response(200, schemas.ChannelDeliverySchema)
def get_delivery(delivery_id):
    return rpc("get_delivery", actor=actor(), delivery_id=delivery_id)


@blp.route("/admin/deliveries/<id:delivery_id>/retry", methods=["POST"])
@requires("admin")
@blp.doc(security=BEARER)
@blp.response(200, schemas.ChannelDeliverySchema)
def retry_delivery(delivery_id):
    """Send a failed delivery again (attempts start over)."""
    return rpc("retry_delivery", actor=actor(), delivery_id=delivery_id)
