"""Payment providers behind one interface, chosen by configuration (like notify's channels).

    class PaymentProvider(Protocol):
        name: str
        def create(self, order_id, amount_fen, payment_id) -> dict: ...
        def verify_callback(self, headers, body, now) -> CallbackOutcome: ...
        def refund(self, reference, amount_fen, refund_id) -> str: ...

``create`` registers a payment with the provider and returns {"reference", "pay_url"}: the
reference identifies it in callbacks, the pay_url is where the resident pays. Each call gets a
new ``payment_id`` (our merchant order number at the provider).
``verify_callback`` checks the provider's signed notification (signature, timestamp) and
translates it to a CallbackOutcome; it raises CallbackRefused when the request is not the
provider's or is too old. ``refund`` asks for the money back, idempotent by ``refund_id`` (the
same id never refunds twice at the provider), and answers "refunded" (done now) or "pending"
(a refund callback will confirm it); it raises ProviderError when it did not get through.

PAYMENT_PROVIDER names the provider: "sandbox" (the default, for `make run` and tests) or
"package.module:ClassName" for a real one, built with the service config. docs/payments.md
describes the shape of a real provider.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from services.common.config import setting
from services.common.events import new_id
from services.orders.payment_rules import CallbackOutcome


class CallbackRefused(Exception):
    """Not signed by the provider, altered, malformed, or outside the time window."""


class ProviderError(Exception):
    """The provider did not answer or refused the request; try again later."""


class PaymentProvider(Protocol):
    name: str

    def create(self, order_id: str, amount_fen: int, payment_id: str) -> dict[str, str]: ...

    def verify_callback(self, headers: Mapping[str, str], body: bytes,
                        now: datetime) -> CallbackOutcome: ...

    def refund(self, reference: str, amount_fen: int, refund_id: str) -> str: ...


TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
SIGNATURE_HEADER = "X-Sandbox-Signature"


def sandbox_signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", the scheme notify's webhooks use."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


class SandboxProvider:
    """A provider that pays when told: through the sandbox endpoint (POST
    /api/v1/payments/sandbox/{order_id}) or, with PAYMENT_SANDBOX_AUTOPAY, at once. Its
    callbacks are signed like a real provider's, with PAYMENT_SANDBOX_SECRET, and go through
    the same verification. Refunds succeed at once."""

    name = "sandbox"

    def __init__(self, config: dict | None = None):
        self.secret = setting(config, "PAYMENT_SANDBOX_SECRET")
        self.tolerance = setting(config, "PAYMENT_CALLBACK_TOLERANCE_SECONDS")
        self.autopay = setting(config, "PAYMENT_SANDBOX_AUTOPAY")

    def create(self, order_id: str, amount_fen: int, payment_id: str) -> dict[str, str]:
        return {"reference": "sbx_" + payment_id.rsplit("_", 1)[-1],
                "pay_url": f"/api/v1/payments/sandbox/{order_id}"}

    def refund(self, reference: str, amount_fen: int, refund_id: str) -> str:
        return "refunded"

    def callback(self, kind: str, reference: str, succeeded: bool, amount_fen: int,
                 now: datetime, event_id: str | None = None,
                 reason: str | None = None) -> tuple[dict[str, str], bytes]:
        """The headers and body the sandbox sends to /api/v1/payments/callback/sandbox."""
        body = json.dumps({"id": event_id or new_id("sbe"), "kind": kind,
                           "reference": reference, "succeeded": succeeded,
                           "amount_fen": amount_fen, "reason": reason},
                          separators=(",", ":")).encode()
        timestamp = int(now.timestamp())
        return ({TIMESTAMP_HEADER: str(timestamp),
                 SIGNATURE_HEADER: sandbox_signature(self.secret, timestamp, body)}, body)

    def verify_callback(self, headers: Mapping[str, str], body: bytes,
                        now: datetime) -> CallbackOutcome:
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        raw_ts = lowered.get(TIMESTAMP_HEADER.lower(), "")
        given = lowered.get(SIGNATURE_HEADER.lower(), "")
        if not raw_ts.isdigit() or len(raw_ts) > 12 or not given:
            raise CallbackRefused("missing timestamp or signature")
        timestamp = int(raw_ts)
        if abs(now.timestamp() - timestamp) > self.tolerance:
            raise CallbackRefused("timestamp outside the tolerance (replayed or clock skew)")
        if not hmac.compare_digest(sandbox_signature(self.secret, timestamp, body), given):
            raise CallbackRefused("signature does not match")
        return parse_sandbox_body(body)


def parse_sandbox_body(body: bytes) -> CallbackOutcome:
    """A signed body is ours, but it is still checked: it becomes stored data."""
    try:
        data = json.loads(body)
        outcome = CallbackOutcome(
            event_id=data["id"], kind=data["kind"], reference=data["reference"],
            succeeded=data["succeeded"], amount_fen=data["amount_fen"],
            reason=data.get("reason"))
    except (ValueError, KeyError, TypeError):
        raise CallbackRefused("malformed callback body") from None
    if (not all(isinstance(v, str) and 0 < len(v) <= 64
                for v in (outcome.event_id, outcome.reference))
            or outcome.kind not in ("payment", "refund")
            or not isinstance(outcome.succeeded, bool)
            or not isinstance(outcome.amount_fen, int) or isinstance(outcome.amount_fen, bool)
            or not 0 <= outcome.amount_fen <= 10**10
            or not (outcome.reason is None or isinstance(outcome.reason, str))):
        raise CallbackRefused("malformed callback body")
    return outcome._replace(reason=outcome.reason[:200] if outcome.reason else None)


def build_provider(config: dict | None) -> PaymentProvider:
    spec = setting(config, "PAYMENT_PROVIDER")
    if spec == "sandbox":
        return SandboxProvider(config)
    module, _, cls = spec.partition(":")
    return getattr(importlib.import_module(module), cls)(config)
