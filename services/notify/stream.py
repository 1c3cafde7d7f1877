"""Server-sent events for the live inbox, as a plain generator the gateway serves.

The gateway keeps no state: each poll asks the notify service (``notifications_since``) for
what is newer than the stream's cursor, which is the ``seq`` of the last notification sent and
the SSE event id. A stream lives a bounded time, then ends; the browser's EventSource
reconnects by itself and sends Last-Event-ID, so nothing is lost and no gunicorn thread is
held forever by an idle client.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

Fetch = Callable[[int | None], dict[str, Any]]


def frame(data: Any, event: str | None = None, event_id: int | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event:
        lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def events(fetch: Fetch, last_event_id: int | None, *, lifetime_s: float, poll_s: float,
           heartbeat_s: float, retry_ms: int = 2000,
           monotonic: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep,
           on_error: Callable[[Exception], str] | None = None) -> Iterator[str]:
    """Yield SSE frames until ``lifetime_s`` has passed (then the client reconnects)."""
    yield f"retry: {retry_ms}\n\n"
    cursor = last_event_id
    if cursor is None:
        cursor = fetch(None)["cursor"]  # a new stream starts from now
    # "ready" carries the cursor as its id, so a reconnect resumes from here.
    yield frame({"cursor": cursor}, event="ready", event_id=cursor)
    started = last_beat = monotonic()
    while monotonic() - started < lifetime_s:
        try:
            answer = fetch(cursor)
        except Exception as exc:  # the service is unreachable: end; the client retries
            yield frame({"message": on_error(exc) if on_error else str(exc)}, event="error")
            return
        for item in answer["items"]:
            cursor = item["seq"]
            yield frame(item, event="notification", event_id=cursor)
            last_beat = monotonic()
        if monotonic() - last_beat >= heartbeat_s:
            yield ": keep-alive\n\n"  # also how a vanished client is noticed
            last_beat = monotonic()
        sleep(poll_s)
    yield frame({"cursor": cursor, "reconnect": True}, event="bye", event_id=cursor)
