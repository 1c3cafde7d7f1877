"""Webhook signatures: receivers can check that a call is ours, unaltered and fresh."""

from __future__ import annotations

import pytest

from services.notify import signing

SECRET = "s3cret-for-tests"
BODY = b'{"id":"dlv_1","title":"\xe6\x96\xb0\xe8\xae\xa2\xe5\x8d\x95"}'


def test_a_signed_body_verifies_and_names_its_delivery():
    headers = signing.sign(SECRET, BODY, "dlv_1", now=1_700_000_000)
    assert signing.verify(SECRET, headers, BODY, now=1_700_000_010) == "dlv_1"


def test_a_tampered_body_fails():
    headers = signing.sign(SECRET, BODY, "dlv_1", now=1_700_000_000)
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(SECRET, headers, BODY.replace(b"dlv_1", b"dlv_2"), now=1_700_000_000)


def test_a_changed_timestamp_or_another_secret_fails():
    headers = signing.sign(SECRET, BODY, "dlv_1", now=1_700_000_000)
    moved = {**headers, signing.TIMESTAMP_HEADER: "1700000001"}
    with pytest.raises(signing.SignatureError):
        signing.verify(SECRET, moved, BODY, now=1_700_000_000)
    with pytest.raises(signing.SignatureError):
        signing.verify("another-secret", headers, BODY, now=1_700_000_000)


def test_an_old_request_is_refused_as_a_replay():
    headers = signing.sign(SECRET, BODY, "dlv_1", now=1_700_000_000)
    with pytest.raises(signing.SignatureError, match="tolerance"):
        signing.verify(SECRET, headers, BODY, now=1_700_000_000 + 301)


def test_the_replay_guard_accepts_a_delivery_id_once():
    guard = signing.ReplayGuard()
    assert guard.first_time("dlv_1", now=100)
    assert not guard.first_time("dlv_1", now=101)
    assert guard.first_time("dlv_2", now=101)


def test_headers_are_matched_case_insensitively_and_missing_ones_fail():
    headers = {k.lower(): v for k, v in signing.sign(SECRET, BODY, "dlv_1", now=5).items()}
    assert signing.verify(SECRET, headers, BODY, now=5) == "dlv_1"
    with pytest.raises(signing.SignatureError, match="missing"):
        signing.verify(SECRET, {}, BODY, now=5)
