"""The live notification streams this gateway process holds open, and how each one is served.

Limits are per gateway process (gunicorn worker): each open stream holds one of its threads.
A person holds at most ``NOTIFY_SSE_MAX_PER_USER`` streams in a process — opening one more
ends their oldest (``event: bye``, reason ``replaced``) — and a process holds at most
``NOTIFY_SSE_MAX_STREAMS`` in all (503 ``too_many_streams`` beyond). The total must exceed the
per-person cap, so while one person holds their maximum another can still open a stream.
A client that hangs up is noticed at the next poll (about a second), by peeking at its socket,
not at the next heartbeat; at shutdown every stream ends at once (reason ``shutdown``), so a
worker stops in seconds instead of waiting out its graceful timeout.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Response

from services.common.config import setting
from services.gateway.errors import ApiError
from services.notify import stream


@dataclass(frozen=True)
class StreamSettings:
    max_streams: int
    max_per_user: int
    lifetime_s: float
    poll_s: float
    heartbeat_s: float

    @classmethod
    def from_env(cls) -> StreamSettings:
        return cls(
            max_streams=setting(None, "NOTIFY_SSE_MAX_STREAMS"),
            max_per_user=setting(None, "NOTIFY_SSE_MAX_PER_USER"),
            lifetime_s=setting(None, "NOTIFY_SSE_LIFETIME_SECONDS"),
            poll_s=setting(None, "NOTIFY_SSE_POLL_SECONDS"),
            heartbeat_s=setting(None, "NOTIFY_SSE_HEARTBEAT_SECONDS"),
        )


class StreamEnded(Exception):
    """Raised inside a stream's wait when it must end now; ``reason`` goes to the client."""

    def __init__(self, reason: str | None):
        super().__init__(reason)
        self.reason = reason


class Slot:
    """One open stream: its owner and the signal that ends it."""

    def __init__(self, registry: StreamRegistry, sub: str):
        self.registry, self.sub = registry, sub
        self.reason: str | None = None
        self._ending = threading.Event()

    def end(self, reason: str) -> None:
        self.reason = reason
        self._ending.set()

    def wait(self, seconds: float, client_gone: Callable[[], bool]) -> None:
        """The stream's pause between polls; raises StreamEnded when it must stop."""
        if self._ending.wait(seconds):
            raise StreamEnded(self.reason)
        if client_gone():
            raise StreamEnded(None)  # nobody to say goodbye to

    def release(self) -> None:
        self.registry.release(self)


class StreamRegistry:
    """Slots per person and in all, in this process (thread-safe)."""

    def __init__(self, max_streams: int, max_per_user: int):
        if max_per_user < 1 or max_streams <= max_per_user:
            raise RuntimeError("NOTIFY_SSE_MAX_STREAMS must be greater than "
                               "NOTIFY_SSE_MAX_PER_USER (>= 1), or one person could take "
                               "every stream")
        self.max_streams, self.max_per_user = max_streams, max_per_user
        self._lock = threading.Lock()
        self._by_user: dict[str, list[Slot]] = {}
        self._count = 0
        self._closed = False

    def open(self, sub: str) -> Slot:
        with self._lock:
            if self._closed:
                raise ApiError(503, "shutting_down", "this server is stopping; retry shortly",
                               headers={"Retry-After": "2"})
            mine = self._by_user.setdefault(sub, [])
            while len(mine) >= self.max_per_user:
                mine.pop(0).end("replaced")  # counted free now: it ends within a moment
                self._count -= 1
            if self._count >= self.max_streams:
                if not mine:
                    del self._by_user[sub]
                raise ApiError(503, "too_many_streams", "too many live streams on this "
                               "server; retry shortly", headers={"Retry-After": "5"})
            slot = Slot(self, sub)
            mine.append(slot)
            self._count += 1
            return slot

    def release(self, slot: Slot) -> None:
        with self._lock:
            mine = self._by_user.get(slot.sub, [])
            if slot in mine:
                mine.remove(slot)
                self._count -= 1
            if not mine:
                self._by_user.pop(slot.sub, None)

    def close_all(self, reason: str = "shutdown") -> None:
        """End every stream and refuse new ones (the process is stopping)."""
        with self._lock:
            self._closed = True
            slots = [slot for mine in self._by_user.values() for slot in mine]
        for slot in slots:
            slot.end(reason)

    def count(self, sub: str | None = None) -> int:
        with self._lock:
            return self._count if sub is None else len(self._by_user.get(sub, []))


def hung_up(sock: socket.socket | None) -> bool:
    """True when the client closed its side: a peek reads end-of-file (or the connection was
    reset). A request is complete before a stream starts, so nothing else should arrive."""
    if sock is None:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False  # nothing to read: still connected
    except ValueError:
        return False  # a TLS socket cannot peek; the heartbeat finds a vanished client
    except OSError:
        return True


def serve(registry: StreamRegistry, settings: StreamSettings, sub: str,
          last_event_id: int | None, fetch: Callable[[int | None], dict[str, Any]],
          sock: socket.socket | None) -> Response:
    """The streaming response for one person; takes a slot (or refuses with 503)."""
    slot = registry.open(sub)

    def body() -> Iterator[str]:
        try:
            yield from stream.events(
                fetch, last_event_id, lifetime_s=settings.lifetime_s, poll_s=settings.poll_s,
                heartbeat_s=settings.heartbeat_s,
                sleep=lambda seconds: slot.wait(seconds, lambda: hung_up(sock)),
                on_error=lambda exc: getattr(exc, "message", "the service is unavailable"))
        except StreamEnded as ended:
            if ended.reason:
                # Replaced: the person opened a newer stream, do not come back here.
                # Shutdown: come back (to another worker or after the restart).
                yield stream.frame({"reason": ended.reason,
                                    "reconnect": ended.reason != "replaced"}, event="bye")
        finally:
            slot.release()

    try:
        response = Response(body(), mimetype="text/event-stream")
    except Exception:
        slot.release()
        raise
    response.call_on_close(slot.release)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # proxies must not buffer the stream
    return response
