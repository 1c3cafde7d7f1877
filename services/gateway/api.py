"""flask-smorest pieces the routes share: the Api with our error shape, a Blueprint whose
parser survives hostile JSON, the id converter, and the OpenAPI security scheme."""

from __future__ import annotations

import json
from typing import Any

from flask_smorest import Api, Blueprint
from marshmallow import EXCLUDE, fields, validate
from webargs.flaskparser import FlaskParser, abort
from werkzeug.routing import BaseConverter

from services.common.schemas import ID_PATTERN, Strict
from services.common.text import unencodable_path
from services.gateway import errors


class SafeParser(FlaskParser):
    """JSON the standard parser turns into a crash is a 400 like any other bad JSON: nesting
    deep enough to exhaust the recursion limit, an integer past Python's digit limit (a
    ValueError, not a JSONDecodeError), and a lone UTF-16 surrogate ("\\ud800"), which decodes
    but can never be encoded again (by BSON, SQLite or our own responses)."""

    def load_json(self, req: Any, schema: Any) -> Any:
        try:
            data = super().load_json(req, schema)
        except RecursionError:
            self._handle_invalid_json_error(json.JSONDecodeError("nested too deeply", "", 0),
                                            req)
        except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string"
            self._handle_invalid_json_error(json.JSONDecodeError(str(exc), "", 0), req)
        where = unencodable_path(data)
        if where is not None:
            abort(400, messages={"json": {where: ["not valid Unicode text (a lone UTF-16 "
                                                  "surrogate)"]}})
        return data


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
