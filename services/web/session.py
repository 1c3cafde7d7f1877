"""Browser sessions: the bearer token in an HttpOnly cookie, and CSRF tokens.

The session cookie holds the same JWT the API accepts (a dev token or one from the identity
provider), so the gateway stays stateless: any worker verifies it with the token settings.
CSRF: a random seed in its own HttpOnly cookie; the token is an HMAC of that seed, put in
every form and in a meta tag for htmx (signed double submit). A cross-site page can neither
read the seed nor forge the HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

import jwt
from flask import current_app, g, request

from services.common.auth import AuthError, Principal, verify_token
from services.common.config import setting
from services.gateway.security import SESSION_COOKIE  # one name for the API and pages

CSRF_COOKIE = "lc_csrf"
LANG_COOKIE = "lc_lang"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
YEAR = 365 * 24 * 3600


class SessionMissing(Exception):
    """No session: the page needs a signed-in person."""


class SessionExpired(Exception):
    """The session's token expired or is no longer valid."""


class CsrfRefused(Exception):
    """A state-changing request without a valid CSRF token."""


def csrf_key() -> bytes:
    """WEB_SECRET_KEY, else derived from the JWT secret; refuse to run with neither."""
    key = setting(None, "WEB_SECRET_KEY")
    if not key:
        secret = current_app.config["TOKENS"].secret
        if not secret:
            raise RuntimeError("set WEB_SECRET_KEY (no LIFECIRCLE_JWT_SECRET to derive it from)")
        key = "lifecircle-web-csrf:" + secret
    return hashlib.sha256(key.encode()).digest()


def token_from_cookie() -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def principal_from(token: str) -> Principal:
    """Verify a session token; SessionExpired when it is no longer good."""
    try:
        return verify_token(current_app.config["TOKENS"], token)
    except AuthError as exc:
        raise SessionExpired(str(exc)) from None


def current() -> Principal | None:
    """Who is signed in on this request, or None. An expired cookie raises SessionExpired."""
    if "web_principal" not in g:
        token = token_from_cookie()
        g.web_principal = principal_from(token) if token else None
    return g.web_principal


def require() -> Principal:
    who = current()
    if who is None:
        raise SessionMissing()
    g.principal = who  # the gateway's request log names the caller
    return who


def token_lifetime(token: str) -> int:
    """Seconds until the token expires (the cookie should not outlive it)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return max(0, int(claims.get("exp", 0) - time.time()))


def set_session(response: Any, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=token_lifetime(token), httponly=True,
                        samesite="Lax", secure=request.is_secure, path="/")


def clear_session(response: Any) -> None:
    # A new CSRF seed too: nothing from the old session stays usable.
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="Lax",
                               secure=request.is_secure)


def _seed() -> str:
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or len(seed) > 100:
        seed = g.get("new_csrf_seed") or secrets.token_urlsafe(24)
        g.new_csrf_seed = seed
    return seed


def csrf_token() -> str:
    return hmac.new(csrf_key(), _seed().encode(), hashlib.sha256).hexdigest()


def check_csrf() -> None:
    """State-changing requests carry the token in the X-CSRF-Token header (htmx) or the
    csrf_token form field, and it matches this browser's seed."""
    if request.method in SAFE_METHODS:
        return
    seed = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    if not seed:
        raise CsrfRefused()
    expected = hmac.new(csrf_key(), seed.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused()


def store_new_seed(response: Any) -> Any:
    """after_request: a browser that had no seed gets the one its page's token was made from."""
    seed = g.get("new_csrf_seed")
    if seed:
        response.set_cookie(CSRF_COOKIE, seed, max_age=YEAR, httponly=True, samesite="Lax",
                            secure=request.is_secure, path="/")
    return response
