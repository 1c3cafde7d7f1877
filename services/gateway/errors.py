"""One error shape for every HTTP error:
``{"error": {"code": "...", "message": "...", "details": {...}}}``.
Nothing a client sends may produce a traceback; unexpected failures are logged, not shown."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from services.common.errors import AppError
from services.common.logs import get_logger

log = get_logger()

# Codes for the HTTP statuses werkzeug raises on its own.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "per field, a list of "
                                                                  "problems"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class ApiError(Exception):
    """Raised in the gateway itself (auth, limits, unavailable services)."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, details: dict | None = None,
                   headers: dict | None = None) -> Any:
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _validation_details(data: dict[str, Any]) -> dict[str, Any]:
    """webargs reports {"json": {field: [msgs]}}; flatten the location away."""
    messages = data.get("messages") or data.get("errors") or {}
    details: dict[str, Any] = {}
    if isinstance(messages, dict):
        for location, fields_ in messages.items():
            if isinstance(fields_, dict):
                details.update(fields_)
            else:
                details[location] = fields_
    return details


MAX_DRAIN_BYTES = 1024 * 1024


def _drain_unread_body() -> None:
    """Read and drop a body we refused unread. Left on the socket, it would be parsed as the
    next request on this keep-alive connection, which then fails for the client."""
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return
    left = MAX_DRAIN_BYTES
    while left > 0:
        chunk = stream.read(min(65536, left))
        if not chunk:
            return
        left -= len(chunk)


def handle_http_exception(error: HTTPException) -> Any:
    status = error.code or 500
    if status == 413:
        _drain_unread_body()
    data = getattr(error, "data", None) or {}
    details = _validation_details(data)
    if status == 422:
        message = "the request has invalid fields"
    elif status == 400 and details:
        message = "the request could not be read"
    else:
        message = data.get("message") or error.description or error.name
    headers = data.get("headers") or {}
    if status >= 500:
        log.error("http_error", status=status, error=str(error))
        message = "something went wrong on our side; please try again"
    return error_response(status, HTTP_CODES.get(status, "error"), message, details, headers)


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.code, error.message, error.details,
                              error.headers)

    @app.errorhandler(AppError)
    def _app_error(error: AppError):
        return error_response(error.status, error.error_code, error.message, error.details)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return handle_http_exception(error)
        log.exception("unhandled_error", error=f"{type(error).__name__}: {error}")
        return error_response(500, "internal_error",
                              "something went wrong on our side; please try again")
