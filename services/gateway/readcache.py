"""Public catalog reads served by the gateway without a round trip.

A shop, a product, a shop's goods, near-me and business types are the same for every caller,
so each gateway worker keeps the answers it gave (the finished HTTP bytes) in memory and serves
them again, in front of Flask, for at most ``GATEWAY_READ_CACHE_SECONDS``. Two things keep a
copy honest:

- invalidation: each entry carries tags (``product:<id>``, ``merchant:<id>``, ``near``), and
  the catalog's change events (``product_changed``, ``merchant_changed``, ``stock_reserved``;
  see catalog_events.py) bump those tags' generations, so a copy made before the change is
  never served after the event arrived. A write through this gateway bumps everything at once
  (the writer reads its own write even before the event arrives).
- a short lifetime: stock counts also move with every order the catalog reserves, releases or
  sells, and only reservations announce themselves, so no copy outlives its lifetime; nor
  does one outlive a lost subscription (the subscriber bumps everything when it reconnects).

Auth is unchanged: a hit is served only to a caller whose bearer token verifies and who is
within the rate limit; anyone else falls through to Flask, which answers exactly as before.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from services.common.auth import AuthError
from services.common.logs import get_logger
from services.gateway.errors import ApiError
from services.gateway.verified import VERIFIED

log = get_logger()

_ID = r"([a-z]{2,5}_[0-9a-f]{32})"

# (path pattern, tags of the answer given the match, whether a bearer token is needed)
ROUTES: list[tuple[re.Pattern, Callable[[re.Match], tuple[str, ...]], bool]] = [
    (re.compile(r"^/api/v1/business-types$"), lambda m: (), False),
    (re.compile(rf"^/api/v1/products/{_ID}$"), lambda m: (f"product:{m[1]}",), True),
    (re.compile(rf"^/api/v1/merchants/{_ID}$"), lambda m: (f"merchant:{m[1]}",), True),
    (re.compile(rf"^/api/v1/merchants/{_ID}/products$"),
     lambda m: (f"merchant:{m[1]}", f"goods:{m[1]}"), True),
    (re.compile(r"^/api/v1/(merchants|products)$"), lambda m: ("near",), True),
]

# What a change to each kind of thing makes stale.
def product_tags(product_id: str, merchant_id: str) -> tuple[str, ...]:
    return (f"product:{product_id}", f"goods:{merchant_id}", "near")


def merchant_tags(merchant_id: str) -> tuple[str, ...]:
    return (f"merchant:{merchant_id}", f"goods:{merchant_id}", "near")


def route_of(path: str) -> tuple[tuple[str, ...], bool] | None:
    """The tags and auth need of a cacheable public read, or None."""
    for pattern, tags, needs_auth in ROUTES:
        match = pattern.match(path)
        if match:
            return tags(match), needs_auth
    return None


@dataclass(frozen=True)
class Entry:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    stamp: tuple[int, ...]  # the generations of (everything, *tags) when it was read
    tags: tuple[str, ...]
    expires: float


class Generations:
    """A counter per tag; bumping one makes every copy read before it stale."""

    def __init__(self) -> None:
        self._all = 0
        self._tags: dict[str, int] = {}
        self._lock = threading.Lock()

    def stamp(self, tags: tuple[str, ...]) -> tuple[int, ...]:
        with self._lock:  # never half before and half after a bump
            return (self._all, *(self._tags.get(t, 0) for t in tags))

    def bump(self, tags: Iterable[str], max_tags: int = 100_000) -> None:
        with self._lock:
            if len(self._tags) >= max_tags:  # bounded memory: outdate everything instead
                self._all += 1
                self._tags.clear()
            for tag in tags:
                self._tags[tag] = self._tags.get(tag, 0) + 1

    def bump_all(self) -> None:
        with self._lock:
            self._all += 1
            self._tags.clear()  # every older stamp has an older _all: tags may restart


class ReadCache:
    def __init__(self, seconds: float, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self.generations = Generations()
        self._entries: dict[str, Entry] = {}
        self._filling: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self.clock() or entry.stamp != self.generations.stamp(entry.tags):
            self._entries.pop(key, None)
            return None
        return entry

    def put(self, key: str, entry: Entry) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries and key not in self._entries:
                self._entries.pop(next(iter(self._entries)), None)  # the oldest
            self._entries[key] = entry

    def lead(self, key: str) -> threading.Event | None:
        """None: the caller fills ``key`` and must call ``done``. Else an event set when the
        thread already filling it is done (one RPC per expired key, not one per thread)."""
        with self._lock:
            filling = self._filling.get(key)
            if filling is None:
                self._filling[key] = threading.Event()
            return filling

    def done(self, key: str) -> None:
        with self._lock:
            filling = self._filling.pop(key, None)
        if filling is not None:
            filling.set()

    def invalidate(self, tags: Iterable[str]) -> None:
        self.generations.bump(tags)

    def invalidate_all(self) -> None:
        self.generations.bump_all()


def _is_catalog_write(method: str, path: str) -> bool:
    return method not in ("GET", "HEAD", "OPTIONS") and path.startswith(
        ("/api/v1/merchants", "/api/v1/products"))


class ReadCacheMiddleware:
    """WSGI middleware in front of the Flask app (see the module's docstring)."""

    FOLLOW_SECONDS = 2.0  # longest wait for another thread's fill of the same key

    def __init__(self, app: Any, cache: ReadCache, tokens: Any, limiter: Any):
        self.app, self.cache, self.tokens, self.limiter = app, cache, tokens, limiter

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if _is_catalog_write(method, path):
            return self._write(environ, start_response)
        route = route_of(path) if method == "GET" and self.cache.enabled else None
        if route is None:
            return self.app(environ, start_response)
        tags, needs_auth = route
        key = f"{path}?{environ.get('QUERY_STRING', '')}"
        entry = self.cache.get(key)
        if entry is None:
            filling = self.cache.lead(key)
            if filling is None:
                try:
                    return self._fill(key, tags, environ, start_response)
                finally:
                    self.cache.done(key)
            filling.wait(self.FOLLOW_SECONDS)
            entry = self.cache.get(key)
        if entry is not None and self._may_serve(environ, needs_auth):
            return self._serve(entry, environ, start_response, path)
        return self.app(environ, start_response)  # errors, refusals: Flask answers

    def _may_serve(self, environ: dict, needs_auth: bool) -> bool:
        """As the view's own checks would decide; anything else is left to Flask."""
        if not needs_auth:
            return True
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        try:
            who = VERIFIED.principal(self.tokens, token.strip())
            self.limiter.check(f"sub:{who.sub}")
        except (AuthError, ApiError):
            return False
        return True

    def _serve(self, entry: Entry, environ: dict, start_response: Callable,
               path: str) -> Iterable[bytes]:
        request_id = environ.get("HTTP_X_REQUEST_ID", "")[:64] or uuid.uuid4().hex
        start_response(entry.status, [*entry.headers, ("X-Request-Id", request_id),
                                      ("X-Cache", "hit")])
        log.info("request", method="GET", path=path, status=int(entry.status[:3]),
                 request_id=request_id, cache="hit")
        return [entry.body]

    def _fill(self, key: str, tags: tuple[str, ...], environ: dict,
              start_response: Callable) -> Iterable[bytes]:
        # Stamped before the read: a change that lands while we read makes this copy stale.
        stamp = self.cache.generations.stamp(tags)
        expires = self.cache.clock() + self.cache.seconds
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return start_response(status, [*headers, ("X-Cache", "miss")], exc_info)

        body = b"".join(self.app(environ, capture))
        if captured.get("status", "").startswith("200"):
            headers = [(k, v) for k, v in captured["headers"] if k.lower() != "x-request-id"]
            self.cache.put(key, Entry(captured["status"], headers, body, stamp, tags, expires))
        return [body]

    def _write(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            return self.app(environ, start_response)
        finally:
            # The writer reads its own write here at once; other workers when the event comes.
            self.cache.invalidate_all()
