"""The one way a page calls a service: the gateway process's RPC client, exactly as the API
routes use it. Refusals (AppError) and unavailability (ApiError 503) propagate to the page
error handlers in services/web/errors.py."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, g

from services.gateway.errors import ApiError
from services.web import session


def call(service: str, method: str, **kwargs: Any) -> Any:
    return current_app.config["RPC"].call(service, method, **kwargs)


def actor() -> dict[str, str]:
    """The signed-in person, as the API routes pass the caller to services."""
    who = session.require()
    return {"sub": who.sub, "role": who.role}


def page(*roles: str) -> Callable:
    """A page for a signed-in person in one of these roles (any role when none are given).
    The same per-person rate limit as the API applies."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = session.require()
            current_app.config["RATE_LIMITER"].check(f"sub:{who.sub}")
            if roles and who.role not in roles:
                raise ApiError(403, "forbidden", "this page is for another role")
            g.web_role = who.role
            return view(*args, **kwargs)

        return wrapper

    return decorate
