"""Errors a service raises on purpose. They cross RPC as themselves (not as RemoteError), and
the gateway maps each to its HTTP status and the one error shape."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError
from nameko.exceptions import deserialize_to_instance


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: dict | None = None, code: str | None = None):
        super().__init__(message, details or {}, code or self.code)

    @property
    def message(self) -> str:
        return self.args[0]

    @property
    def details(self) -> dict:
        return self.args[1]

    @property
    def error_code(self) -> str:
        return self.args[2]


@deserialize_to_instance
class BadRequest(AppError):
    status = 400
    code = "bad_request"


@deserialize_to_instance
class InvalidInput(AppError):
    status = 422
    code = "validation_error"


@deserialize_to_instance
class Forbidden(AppError):
    status = 403
    code = "forbidden"


@deserialize_to_instance
class NotFound(AppError):
    status = 404
    code = "not_found"


@deserialize_to_instance
class Conflict(AppError):
    status = 409
    code = "conflict"


def load_or_raise(schema: Schema, data: Any, **kwargs: Any) -> Any:
    """Validate at the owner with the same schema the gateway used at the edge."""
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise InvalidInput("the request has invalid fields", messages) from None
