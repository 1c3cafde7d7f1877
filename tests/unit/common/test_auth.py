"""Tokens: only well-formed, signed, unexpired tokens with a known role get in."""

from __future__ import annotations

import time

import jwt
import pytest

from services.common.auth import AuthError, TokenSettings, issue_token, verify_token

SETTINGS = TokenSettings(secret="s" * 40, public_key=None, algorithm="HS256",
                         issuer="lifecircle", dev_tokens=True, ttl_seconds=600)


def claims(**kw):
    return {"sub": "li", "role": "resident", "iss": "lifecircle",
            "exp": int(time.time()) + 600, **kw}


def test_a_token_we_issued_is_accepted():
    who = verify_token(SETTINGS, issue_token(SETTINGS, "li", "resident"))
    assert (who.sub, who.role) == ("li", "resident")


@pytest.mark.parametrize("token", [
    jwt.encode(claims(exp=int(time.time()) - 3600), "s" * 40, algorithm="HS256"),
    jwt.encode(claims(), "another-secret-of-enough-length-xxxxxx", algorithm="HS256"),
    jwt.encode(claims(), None, algorithm="none"),
    jwt.encode({k: v for k, v in claims().items() if k != "role"}, "s" * 40, algorithm="HS256"),
    jwt.encode({k: v for k, v in claims().items() if k != "exp"}, "s" * 40, algorithm="HS256"),
    jwt.encode(claims(role="superuser"), "s" * 40, algorithm="HS256"),
    jwt.encode(claims(iss="someone-else"), "s" * 40, algorithm="HS256"),
    jwt.encode(claims(sub=""), "s" * 40, algorithm="HS256"),
    "not-a-token",
])
def test_bad_tokens_are_refused(token):
    with pytest.raises(AuthError):
        verify_token(SETTINGS, token)


def test_a_weak_secret_refuses_to_start():
    with pytest.raises(RuntimeError, match="32 characters"):
        TokenSettings(secret="short", public_key=None, algorithm="HS256", issuer="x",
                      dev_tokens=False, ttl_seconds=60).check()


def test_production_tokens_are_verified_with_the_identity_providers_public_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    settings = TokenSettings(secret=None, public_key=public_pem, algorithm="RS256",
                             issuer="lifecircle", dev_tokens=False, ttl_seconds=600)
    settings.check()
    token = jwt.encode(claims(role="dispatcher"), key, algorithm="RS256")
    assert verify_token(settings, token).role == "dispatcher"
    # A token signed with the public key as an HMAC secret (algorithm confusion) is refused.
    forged = jwt.api_jws.PyJWS().encode(
        b'{"sub":"x","role":"admin","iss":"lifecircle","exp":9999999999}',
        "not-the-key-" * 4, algorithm="HS256")
    with pytest.raises(AuthError):
        verify_token(settings, forged)


@pytest.mark.parametrize("sub", ["role:dispatcher", "role:admin", "a:b", "li li", "李", "x\n",
                                 "x" * 129])
def test_a_subject_outside_the_allowed_characters_is_refused(sub):
    # ":" would let a person's subject spell a name services build (the "role:" inboxes).
    with pytest.raises(AuthError, match="subject"):
        verify_token(SETTINGS, jwt.encode(claims(sub=sub), "s" * 40, algorithm="HS256"))
    with pytest.raises(ValueError):
        issue_token(SETTINGS, sub, "resident")


@pytest.mark.parametrize("sub", ["li", "auth0|5f1e", "li.wei@example.com", "u_1-2+3"])
def test_identity_provider_subjects_are_accepted(sub):
    token = jwt.encode(claims(sub=sub), "s" * 40, algorithm="HS256")
    assert verify_token(SETTINGS, token).sub == sub


AUDIENCE = TokenSettings(secret="s" * 40, public_key=None, algorithm="HS256",
                         issuer="lifecircle", dev_tokens=True, ttl_seconds=600,
                         audience="lifecircle-api")


def test_with_an_audience_configured_a_token_must_name_it():
    good = jwt.encode(claims(aud="lifecircle-api"), "s" * 40, algorithm="HS256")
    assert verify_token(AUDIENCE, good).sub == "li"
    assert verify_token(AUDIENCE, issue_token(AUDIENCE, "li", "resident")).sub == "li"
    for token in (jwt.encode(claims(aud="billing-api"), "s" * 40, algorithm="HS256"),
                  jwt.encode(claims(), "s" * 40, algorithm="HS256")):
        with pytest.raises(AuthError):
            verify_token(AUDIENCE, token)


def test_the_audience_is_a_setting(monkeypatch):
    monkeypatch.setenv("LIFECIRCLE_JWT_SECRET", "s" * 40)
    monkeypatch.setenv("LIFECIRCLE_JWT_AUDIENCE", "lifecircle-api")
    assert TokenSettings.from_env().audience == "lifecircle-api"
    monkeypatch.delenv("LIFECIRCLE_JWT_AUDIENCE")
    assert TokenSettings.from_env().audience is None
