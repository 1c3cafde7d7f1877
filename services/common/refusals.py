"""How a domain says no. Pure: domain modules raise these and import no infrastructure.

Each refusal carries the HTTP status and the error code it means; services/common/errors.py
registers them with nameko so they cross RPC as themselves, and the gateway maps every one to
the one error shape. That is the single place a refusal is translated.
"""

from __future__ import annotations


class Refusal(Exception):
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


class BadRequest(Refusal):
    status = 400
    code = "bad_request"


class InvalidInput(Refusal):
    status = 422
    code = "validation_error"


class Forbidden(Refusal):
    status = 403
    code = "forbidden"


class NotFound(Refusal):
    status = 404
    code = "not_found"


class Conflict(Refusal):
    status = 409
    code = "conflict"


class Unauthorized(Refusal):
    """A credential the owner does not accept (an unknown or revoked device token)."""

    status = 401
    code = "unauthorized"
