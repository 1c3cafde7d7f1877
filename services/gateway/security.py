"""Who is calling (bearer JWT) and how often (a per-client token bucket)."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import current_app, g, request

from services.common.auth import AuthError, Principal
from services.gateway.errors import ApiError
from services.gateway.verified import VERIFIED

BEARER = [{"bearerAuth": []}]
SESSION_COOKIE = "lc_session"  # the web app's session (services/web/session.py)


def principal() -> Principal:
    return g.principal


def actor() -> dict[str, str]:
    """The caller, as passed to services."""
    return {"sub": g.principal.sub, "role": g.principal.role}


def authenticate(cookie: bool = False) -> Principal:
    """The bearer token; with ``cookie``, a browser's web session cookie when there is no
    Authorization header (an EventSource cannot send one). Reads only: no CSRF concern."""
    header = request.headers.get("Authorization", "")
    if cookie and not header and request.cookies.get(SESSION_COOKIE):
        header = "Bearer " + request.cookies[SESSION_COOKIE]
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "sign in first: send Authorization: Bearer <token>",
                       headers={"WWW-Authenticate": "Bearer"})
    try:
        return VERIFIED.principal(current_app.config["TOKENS"], token.strip())
    except AuthError as exc:
        raise ApiError(401, "unauthorized", str(exc),
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


def requires(*roles: str, admin: bool = True, cookie: bool = False) -> Callable:
    """Only these roles (and admins, unless ``admin=False``) may call the view; ``cookie``
    also accepts the web session cookie (GET-only views)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = authenticate(cookie)
            g.principal = who
            current_app.config["RATE_LIMITER"].check(f"sub:{who.sub}")
            if roles and who.role not in roles and not (admin and who.role == "admin"):
                raise ApiError(403, "forbidden", f"this needs the role: {' or '.join(roles)}")
            return view(*args, **kwargs)

        return wrapper

    return decorate


class RateLimiter:
    """Token bucket per client key, in this gateway process (see docs/operations.md)."""

    def __init__(self, rate_per_second: float, burst: int, max_clients: int = 100_000):
        self.rate, self.burst, self.max_clients = rate_per_second, burst, max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                wait = (1 - tokens) / self.rate
                raise ApiError(429, "rate_limited", "too many requests; slow down",
                               {"retry_after_seconds": [round(wait, 2)]},
                               headers={"Retry-After": str(max(1, round(wait)))})
            if len(self._buckets) >= self.max_clients and key not in self._buckets:
                self._buckets.clear()  # crude bound on memory; buckets refill anyway
            self._buckets[key] = (tokens - 1, now)
