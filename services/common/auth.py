"""Bearer tokens: who is calling and in which role.

Tokens are JWTs with ``sub``, ``role`` and ``exp``. The gateway verifies them with a shared
secret (HS256) or, in production behind an identity provider, a public key (RS256/ES256). The
accepted algorithms are fixed by configuration, never taken from the token, so ``alg: none``
and algorithm-confusion tokens are refused. When an audience is configured, a token must name
it in ``aud``.

A subject must look like one (services/common/subjects.py): never a ``:``, so names that
services build with a prefix (``role:dispatcher`` for a shared inbox) can never be a person's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from services.common.config import setting
from services.common.subjects import SUBJECT_PATTERN, valid_subject

__all__ = ["SUBJECT_PATTERN", "AuthError", "Principal", "TokenSettings", "issue_token",
           "valid_subject", "verify_token"]

ROLES = ("resident", "merchant", "technician", "dispatcher", "planner", "admin")


class AuthError(Exception):
    """The token is missing, malformed, expired or not ours."""


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class TokenSettings:
    secret: str | None
    public_key: str | None
    algorithm: str
    issuer: str
    dev_tokens: bool
    ttl_seconds: int
    audience: str | None = None

    @classmethod
    def from_env(cls) -> TokenSettings:
        public_key = setting(None, "LIFECIRCLE_JWT_PUBLIC_KEY") or None
        key_file = setting(None, "LIFECIRCLE_JWT_PUBLIC_KEY_FILE")
        if key_file and not public_key:
            with open(key_file, encoding="utf-8") as fh:
                public_key = fh.read()
        return cls(
            secret=setting(None, "LIFECIRCLE_JWT_SECRET") or None,
            public_key=public_key,
            algorithm=(setting(None, "LIFECIRCLE_JWT_ALGORITHM")
                       or ("RS256" if public_key else "HS256")),
            issuer=setting(None, "LIFECIRCLE_JWT_ISSUER"),
            dev_tokens=setting(None, "LIFECIRCLE_DEV_TOKENS"),
            ttl_seconds=setting(None, "LIFECIRCLE_TOKEN_TTL_SECONDS"),
            audience=setting(None, "LIFECIRCLE_JWT_AUDIENCE") or None,
        )

    def check(self) -> None:
        """Refuse to start with settings that would accept anything or nothing."""
        if self.algorithm.startswith("HS"):
            if not self.secret or len(self.secret) < 32:
                raise RuntimeError(
                    "LIFECIRCLE_JWT_SECRET must be set to at least 32 characters "
                    "(or configure LIFECIRCLE_JWT_PUBLIC_KEY)"
                )
        elif not self.public_key:
            raise RuntimeError(f"{self.algorithm} needs LIFECIRCLE_JWT_PUBLIC_KEY")
        if self.dev_tokens and not self.algorithm.startswith("HS"):
            raise RuntimeError("dev tokens need a shared secret (HS256)")


def issue_token(settings: TokenSettings, sub: str, role: str, now: float | None = None) -> str:
    """Sign a token; only for dev tokens and tests (production tokens come from the IdP)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if not valid_subject(sub):
        raise ValueError(f"not a valid subject: {sub!r}")
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": sub,
        "role": role,
        "iat": issued,
        "exp": issued + settings.ttl_seconds,
        "iss": settings.issuer,
    }
    if settings.audience:
        claims["aud"] = settings.audience
    return jwt.encode(claims, settings.secret, algorithm=settings.algorithm)


def verify_token(settings: TokenSettings, token: str) -> Principal:
    key = settings.public_key if not settings.algorithm.startswith("HS") else settings.secret
    required = ["exp", "sub", "role", "iss"] + (["aud"] if settings.audience else [])
    try:
        # Without a configured audience PyJWT refuses any token that carries "aud" — right:
        # such a token was meant for some other service.
        claims = jwt.decode(
            token,
            key,
            algorithms=[settings.algorithm],
            issuer=settings.issuer,
            audience=settings.audience,
            options={"require": required},
            leeway=30,
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"the token is not valid: {exc}") from None
    sub, role = claims.get("sub"), claims.get("role")
    if not valid_subject(sub):
        raise AuthError("the token has no valid subject")
    if role not in ROLES:
        raise AuthError("the token has an unknown role")
    return Principal(sub=sub, role=role)
