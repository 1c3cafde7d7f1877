"""flask-smorest pieces the routes share: the Api with our error shape, a Blueprint whose
parser survives hostile JSON, the id converter, and the OpenAPI security scheme."""

from __future__ import annotations

import json
from typing import Any

from flask_smorest import Api, Blueprint
from marshmallow import EXCLUDE, fields, validate
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter

from services.common.schemas import ID_PATTERN, Strict
from services.gateway import errors


class SafeParser(FlaskParser):
    """JSON nested deep enough to exhaust the recursion limit is a 400, not a 500."""

    def load_json(self, req: Any, schema: Any) -> Any:
        try:
            return super().load_json(req, schema)
        except RecursionError:
            self._handle_invalid_json_error(json.JSONDecodeError("nested too deeply", "", 0),
                                            req)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = SafeParser()


class IdempotencyHeaderSchema(Strict):
    """``Idempotency-Key`` for requests that create something: a retry with the same key
    (after a timeout or a 503) can never create it twice."""

    class Meta:
        unknown = EXCLUDE  # every other header

    key = fields.String(
        data_key="Idempotency-Key", required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{8,100}$",
                                 error="8 to 100 letters, digits, or _ . : -"),
        metadata={"description": "a new random key per request (e.g. a UUID); retry with the "
                                 "same key"},
    )


class LifecircleApi(Api):
    ERROR_SCHEMA = errors.ErrorSchema

    def handle_http_exception(self, error: Any) -> Any:
        return errors.handle_http_exception(error)


class IdConverter(BaseConverter):
    """Ids look like ``ord_<32 hex>``; anything else (``../``, ``{"$gt": ""}``) is a 404
    before it reaches a service."""

    regex = ID_PATTERN.strip("^$")


def make_api(app: Any) -> LifecircleApi:
    app.config.update(
        API_TITLE="Lifecircle",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="v1/openapi.json",
        # /api/docs is served by services/web/swagger.py from local files (no CDN)
    )
    api = LifecircleApi(app, spec_kwargs={
        "info": {"description": "15-minute convenient life circles: shops within a short "
                                "walk, home delivery, repairs and notifications."},
    })
    app.url_map.converters["id"] = IdConverter
    api.register_converter(IdConverter, lambda _c: {"type": "string", "pattern": ID_PATTERN})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    return api
