"""Errors a service raises on purpose. They cross RPC as themselves (not as RemoteError), and
the gateway maps each to its HTTP status and the one error shape."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError
from nameko.exceptions import deserialize_to_instance

from services.common.refusals import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Refusal,
    Unauthorized,
)

# The refusals are defined in a pure module so domain code can raise them; registering them
# here makes them cross RPC as themselves. AppError stays the name infrastructure code uses.
AppError = Refusal
for _cls in (BadRequest, InvalidInput, Forbidden, NotFound, Conflict, Unauthorized):
    deserialize_to_instance(_cls)


def load_or_raise(schema: Schema, data: Any, **kwargs: Any) -> Any:
    """Validate at the owner with the same schema the gateway used at the edge."""
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise InvalidInput("the request has invalid fields", messages) from None
