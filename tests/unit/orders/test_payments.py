"""The sandbox provider's signed callbacks: what is accepted and what is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.orders.payments import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CallbackRefused,
    SandboxProvider,
    build_provider,
    sandbox_signature,
)

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
CONFIG = {"PAYMENT_SANDBOX_SECRET": "s3cret", "PAYMENT_CALLBACK_TOLERANCE_SECONDS": 300}


@pytest.fixture
def sandbox():
    return SandboxProvider(CONFIG)


def test_a_signed_callback_is_read_as_the_providers_outcome(sandbox):
    headers, body = sandbox.callback("payment", "sbx_1", True, 1600, NOW, event_id="e1")
    outcome = sandbox.verify_callback(headers, body, NOW + timedelta(seconds=5))
    assert (outcome.event_id, outcome.kind, outcome.reference, outcome.succeeded,
            outcome.amount_fen) == ("e1", "payment", "sbx_1", True, 1600)


def test_an_altered_body_is_refused(sandbox):
    headers, body = sandbox.callback("payment", "sbx_1", False, 1600, NOW)
    forged = body.replace(b'"succeeded":false', b'"succeeded":true')
    with pytest.raises(CallbackRefused, match="signature"):
        sandbox.verify_callback(headers, forged, NOW)


def test_a_callback_signed_with_another_secret_is_refused(sandbox):
    other = SandboxProvider({**CONFIG, "PAYMENT_SANDBOX_SECRET": "guess"})
    headers, body = other.callback("payment", "sbx_1", True, 1600, NOW)
    with pytest.raises(CallbackRefused):
        sandbox.verify_callback(headers, body, NOW)


@pytest.mark.parametrize("skew", [timedelta(seconds=301), timedelta(seconds=-301)])
def test_a_callback_outside_the_time_window_is_refused_as_a_replay(sandbox, skew):
    headers, body = sandbox.callback("payment", "sbx_1", True, 1600, NOW)
    with pytest.raises(CallbackRefused, match="tolerance"):
        sandbox.verify_callback(headers, body, NOW + skew)


@pytest.mark.parametrize("headers", [{}, {TIMESTAMP_HEADER: "abc", SIGNATURE_HEADER: "v1=0"},
                                     {TIMESTAMP_HEADER: "1" * 40, SIGNATURE_HEADER: "v1=0"}])
def test_missing_or_malformed_signature_headers_are_refused(sandbox, headers):
    with pytest.raises(CallbackRefused):
        sandbox.verify_callback(headers, b"{}", NOW)


@pytest.mark.parametrize("data", [
    [], {"id": "e1"}, {"id": "e1", "kind": "bribe", "reference": "r", "succeeded": True,
                       "amount_fen": 1},
    {"id": "e1", "kind": "payment", "reference": "r", "succeeded": "yes", "amount_fen": 1},
    {"id": "e1", "kind": "payment", "reference": "r", "succeeded": True, "amount_fen": -1},
])
def test_a_signed_but_malformed_body_is_refused(sandbox, data):
    body = json.dumps(data).encode()
    ts = int(NOW.timestamp())
    headers = {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sandbox_signature("s3cret", ts, body)}
    with pytest.raises(CallbackRefused, match="malformed"):
        sandbox.verify_callback(headers, body, NOW)


def test_header_names_are_matched_without_regard_to_case(sandbox):
    headers, body = sandbox.callback("refund", "sbx_1", True, 1600, NOW)
    lowered = {k.lower(): v for k, v in headers.items()}
    assert sandbox.verify_callback(lowered, body, NOW).kind == "refund"


def test_the_provider_is_chosen_by_setting():
    assert build_provider({"PAYMENT_PROVIDER": "sandbox"}).name == "sandbox"
    custom = build_provider({"PAYMENT_PROVIDER": "services.orders.payments:SandboxProvider"})
    assert isinstance(custom, SandboxProvider)
