"""Reads served by the gateway without a round trip.

Public catalog reads (a shop, a product, a shop's goods, near-me, business types) are the same
for every caller; a resident polling her order or her inbox asks the same question again and
again. Each gateway worker keeps the answers it gave (the finished HTTP bytes) in memory and
serves them again, in front of Flask, for at most ``GATEWAY_READ_CACHE_SECONDS``; per-person
answers are kept per caller. What keeps a copy honest:

- invalidation: each entry carries tags (``product:<id>``, ``merchant:<id>``, ``goods:<id>``,
  ``near``, ``order:<id>``, ``inbox:<sub>``). The catalog's change events (catalog_events.py)
  and the orders' status events (orders_events.py) bump those tags' generations, so a copy
  read before the change is never served after the event arrived. A write through this
  worker bumps what it touched at once (the writer reads its own write).
- a short lifetime: what no event announces (stock given back or sold, "open now", a new
  notification) and events missed while a subscription reconnects (which outdates everything)
  are bounded by it.

Auth is unchanged: a copy is served only to a caller whose bearer token verifies and who is
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
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern
    tags: Callable[[re.Match, str], tuple[str, ...]]  # (path match, caller's sub) -> tags
    needs_auth: bool = True
    per_caller: bool = False  # the answer depends on who asks: one copy per caller


ROUTES = [
    Route(re.compile(r"^/api/v1/business-types$"), lambda m, _: (), needs_auth=False),
    Route(re.compile(rf"^/api/v1/products/{_ID}$"), lambda m, _: (f"product:{m[1]}",)),
    Route(re.compile(rf"^/api/v1/merchants/{_ID}$"), lambda m, _: (f"merchant:{m[1]}",)),
    Route(re.compile(rf"^/api/v1/merchants/{_ID}/products$"),
          lambda m, _: (f"merchant:{m[1]}", f"goods:{m[1]}")),
    Route(re.compile(r"^/api/v1/(merchants|products)$"), lambda m, _: ("near",)),
    # Per person: a resident polling her order, an inbox. Order events and the person's own
    # writes outdate them; the lifetime bounds the rest (new notifications).
    Route(re.compile(rf"^/api/v1/orders/{_ID}$"), lambda m, _: (f"order:{m[1]}",),
          per_caller=True),
    Route(re.compile(r"^/api/v1/notifications$"), lambda m, sub: (f"inbox:{sub}",),
          per_caller=True),
]
_ORDER_WRITE = re.compile(rf"^/api/v1/orders/{_ID}/")


# What a change to each kind of thing makes stale.
def product_tags(product_id: str, merchant_id: str) -> tuple[str, ...]:
    return (f"product:{product_id}", f"goods:{merchant_id}", "near")


def merchant_tags(merchant_id: str) -> tuple[str, ...]:
    return (f"merchant:{merchant_id}", f"goods:{merchant_id}", "near")


def order_tags(order_id: str) -> tuple[str, ...]:
    return (f"order:{order_id}",)


def route_of(path: str) -> tuple[Route, re.Match] | None:
    """The route of a cacheable read, or None."""
    for route in ROUTES:
        match = route.pattern.match(path)
        if match:
            return route, match
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

    def ageing(self, entry: Entry) -> bool:
        """In the last quarter of its life: time for one reader to refresh it."""
        return entry.expires - self.clock() < self.seconds / 4

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


class ReadCacheMiddleware:
    """WSGI middleware in front of the Flask app (see the module's docstring)."""

    FOLLOW_SECONDS = 2.0  # longest wait for another thread's fill of the same key

    def __init__(self, app: Any, cache: ReadCache, tokens: Any, limiter: Any):
        self.app, self.cache, self.tokens, self.limiter = app, cache, tokens, limiter

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if method not in SAFE_METHODS:
            return self._write(environ, start_response, path)
        found = route_of(path) if method == "GET" and self.cache.enabled else None
        if found is None:
            return self.app(environ, start_response)
        route, match = found
        who = self._caller(environ) if route.needs_auth else None
        if route.needs_auth and who is None:
            return self.app(environ, start_response)  # the view refuses it
        tags = route.tags(match, who.sub if who else "")
        key = f"{path}?{environ.get('QUERY_STRING', '')}"
        if route.per_caller:
            key += f"#{who.sub}:{who.role}"
        entry = self.cache.get(key)
        if entry is not None and self.cache.ageing(entry) and self.cache.lead(key) is None:
            # Refresh ahead: this request reads anew while the others keep the copy.
            try:
                return self._fill(key, tags, environ, start_response)
            finally:
                self.cache.done(key)
        if entry is None:
            filling = self.cache.lead(key)
            if filling is None:
                try:
                    return self._fill(key, tags, environ, start_response)
                finally:
                    self.cache.done(key)
            filling.wait(self.FOLLOW_SECONDS)
            entry = self.cache.get(key)
        if entry is not None and self._within_limit(who):
            return self._serve(entry, environ, start_response, path)
        return self.app(environ, start_response)  # errors, refusals: Flask answers

    def _caller(self, environ: dict) -> Any:
        """The verified caller, or None (Flask then answers 401 as the view would)."""
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return VERIFIED.principal(self.tokens, token.strip())
        except AuthError:
            return None

    def _within_limit(self, who: Any) -> bool:
        if who is None:
            return True
        try:
            self.limiter.check(f"sub:{who.sub}")
        except ApiError:
            return False  # Flask answers the 429
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

    def _write(self, environ: dict, start_response: Callable, path: str) -> Iterable[bytes]:
        try:
            return self.app(environ, start_response)
        finally:
            # The writer reads its own write here at once; other workers when the event comes.
            if path.startswith(("/api/v1/merchants", "/api/v1/products")):
                self.cache.invalidate_all()
            elif match := _ORDER_WRITE.match(path):
                self.cache.invalidate(order_tags(match[1]))
            elif path.startswith(("/api/v1/notifications", "/api/v1/me/")):
                who = self._caller(environ)
                if who is not None:
                    self.cache.invalidate([f"inbox:{who.sub}"])
