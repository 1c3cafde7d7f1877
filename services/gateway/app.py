"""The HTTP gateway: the only way in. Stateless: auth, validation, OpenAPI, limits, RPC."""

from __future__ import annotations

import time
import uuid

from flask import Flask, g, request

from services.common.logs import configure, get_logger
from services.gateway import errors, metrics
from services.gateway.api import make_api
from services.gateway.routes import ROUTES
from services.gateway.rpc import RpcClient
from services.gateway.security import RateLimiter
from services.gateway.settings import GatewaySettings
from services.gateway.streams import StreamRegistry, StreamSettings


def create_app(settings: GatewaySettings | None = None) -> Flask:
    settings = settings or GatewaySettings.from_env()
    settings.tokens.check()
    stream_settings = StreamSettings.from_env()
    configure("gateway")
    log = get_logger()

    app = Flask("lifecircle.gateway")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        TOKENS=settings.tokens,
        RPC=RpcClient(settings.amqp_uri, settings.rpc_timeout, settings.max_in_flight),
        RATE_LIMITER=RateLimiter(settings.rate_per_second, settings.rate_burst),
        AMQP_URI=settings.amqp_uri,
        STREAMS=StreamRegistry(stream_settings.max_streams, stream_settings.max_per_user),
        STREAM_SETTINGS=stream_settings,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    api = make_api(app)
    for blueprint in ROUTES:
        api.register_blueprint(blueprint)
    errors.register(app)
    metrics.install(app)

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex

    @app.after_request
    def _log(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        principal = g.get("principal")
        log.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - g.get("started", time.perf_counter()))
                              * 1000, 2),
            request_id=g.get("request_id"),
            sub=principal.sub if principal else None,
            correlation_id=g.get("correlation_id"),
        )
        return response

    return app
