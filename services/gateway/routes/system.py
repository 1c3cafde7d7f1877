"""Liveness and readiness."""

from __future__ import annotations

from flask import current_app
from kombu import Connection

from services.gateway.api import ApiBlueprint
from services.gateway.errors import ApiError, error_response

blp = ApiBlueprint("system", __name__, description="Health of the system")

SERVICES = ("catalog", "orders", "dispatch", "notify")
READY_TIMEOUT = 2.0


@blp.route("/healthz")
@blp.response(200)
def healthz():
    """The gateway process is alive."""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200)
def readyz():
    """The broker is reachable and every service answers a ping; 503 says which is not."""
    down: dict[str, list[str]] = {}
    try:
        with Connection(current_app.config["AMQP_URI"], connect_timeout=READY_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, timeout=READY_TIMEOUT)
    except Exception as exc:  # any failure to connect means not ready
        down["broker"] = [f"unreachable: {type(exc).__name__}"]
    if not down:
        rpc = current_app.config["RPC"]
        for service in SERVICES:
            try:
                rpc.call(service, "ping", timeout=READY_TIMEOUT)
            except ApiError as exc:
                down[service] = [exc.message]
    if down:
        return error_response(503, "not_ready", "some parts are not ready", down)
    return {"status": "ready", "services": list(SERVICES)}
