"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the webhook's secret.

Headers sent with every webhook delivery:
  X-Lifecircle-Timestamp  Unix seconds when the request was signed
  X-Lifecircle-Signature  "v1=" + hex HMAC-SHA256(secret, f"{timestamp}.".encode() + body)
  X-Lifecircle-Delivery   the delivery id (the same on every retry of one delivery)

A receiver verifies with ``verify`` (constant-time compare; a timestamp outside the tolerance
is refused, so a captured request cannot be replayed later) and drops a delivery id it has
already processed (``ReplayGuard``), which also absorbs our retries after a lost response.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Lifecircle-Timestamp"
SIGNATURE_HEADER = "X-Lifecircle-Signature"
DELIVERY_HEADER = "X-Lifecircle-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The request is not signed by us, was altered, or is too old (a replay)."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def sign(secret: str, body: bytes, delivery_id: str, now: float | None = None) -> dict[str, str]:
    """The headers to send with ``body``."""
    timestamp = int(now if now is not None else time.time())
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        DELIVERY_HEADER: delivery_id,
        "Content-Type": "application/json",
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None,
           tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS) -> str:
    """Check a received webhook; returns its delivery id or raises SignatureError."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ts = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not raw_ts.isdigit() or not given:
        raise SignatureError("missing timestamp or signature")
    timestamp = int(raw_ts)
    current = now if now is not None else time.time()
    if abs(current - timestamp) > tolerance_seconds:
        raise SignatureError("timestamp outside the tolerance (replayed or clock skew)")
    if not hmac.compare_digest(signature(secret, timestamp, body), given):
        raise SignatureError("signature does not match")
    return lowered.get(DELIVERY_HEADER.lower(), "")


class ReplayGuard:
    """Remembers delivery ids seen within the tolerance window (bounded memory)."""

    def __init__(self, max_entries: int = 100_000,
                 window_seconds: int = DEFAULT_TOLERANCE_SECONDS):
        self.max_entries, self.window = max_entries, window_seconds
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, delivery_id: str, now: float | None = None) -> bool:
        current = now if now is not None else time.time()
        while self._seen and (len(self._seen) >= self.max_entries
                              or next(iter(self._seen.values())) < current - 2 * self.window):
            self._seen.popitem(last=False)
        if delivery_id in self._seen:
            return False
        self._seen[delivery_id] = current
        return True
