"""What each gunicorn worker of the gateway does beyond serving the app (installed by
gunicorn_conf.post_worker_init): answer gunicorn's own refusals in the JSON error shape, and
end every live stream the moment the worker is told to stop."""

from __future__ import annotations

import json
import signal
from typing import Any

from gunicorn import util

# gunicorn refuses these before the app sees the request (its limits protect its memory).
REFUSALS = {
    400: ("bad_request", "the request could not be parsed"),
    403: ("forbidden", "the request is not allowed"),
    414: ("uri_too_long", "the request line is too long (at most 8190 bytes)"),
    417: ("expectation_failed", "the Expect header cannot be met"),
    431: ("header_fields_too_large", "too many headers, or a header too large"),
    501: ("not_implemented", "this transfer coding is not supported"),
}


def refusal_bytes(status: int, reason: str) -> bytes:
    code, message = REFUSALS.get(status, ("internal_error",
                                          "something went wrong on our side; please try again"))
    body = json.dumps({"error": {"code": code, "message": message, "details": {}}}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def write_json_error(sock: Any, status_int: int, reason: str, _mesg: str) -> None:
    """Drop-in for gunicorn.util.write_error, which writes an HTML page. gunicorn's own
    message is not echoed: it quotes the client's bytes."""
    util.write_nonblock(sock, refusal_bytes(status_int, reason))


def answer_refusals_in_json() -> None:
    util.write_error = write_json_error


def end_streams_on_stop(worker: Any) -> None:
    """gunicorn's stop signals set the worker draining; open streams would hold it until the
    graceful timeout kills it. End them first, then let gunicorn's own handler run."""
    registry = worker.wsgi.config["STREAMS"]
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: Any, previous: Any = previous) -> None:
            registry.close_all("shutdown")
            if callable(previous):
                previous(signum, frame)

        signal.signal(sig, handler)


def post_worker_init(worker: Any) -> None:
    answer_refusals_in_json()
    end_streams_on_stop(worker)
