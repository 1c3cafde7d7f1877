"""Signing in and out, and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.common.auth import issue_token
from services.web import people, session
from services.web.session import LANG_COOKIE

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never //host or a scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def landing(role: str) -> str:
    from services.web.pages import HOME

    return url_for(HOME.get(role, "web.common.welcome"))


@bp.route("/")
def home():
    try:
        who = session.current()
    except session.SessionExpired:
        return redirect(url_for("web.auth.sign_in", expired=1))
    return redirect(landing(who.role) if who else url_for("web.auth.sign_in"))


@bp.route("/signin", methods=["GET", "POST"])
def sign_in():
    tokens = current_app.config["TOKENS"]
    error = None
    if request.method == "POST":
        sub, role = request.form.get("sub"), request.form.get("role")
        if sub and role and tokens.dev_tokens and people.may_sign_in_as(sub, role):
            token = issue_token(tokens, sub, role)
        else:
            token = (request.form.get("token") or "").strip()
        if token:
            try:
                who = session.principal_from(token)
            except session.SessionExpired as exc:
                error = str(exc)
            else:
                target = _safe_next(request.form.get("next")) or landing(who.role)
                response = redirect(target)
                session.set_session(response, token)
                return response
        else:
            error = _("Paste the token from your identity provider.")
    return render_template(
        "auth/sign_in.html", demo=people.DEMO_PEOPLE if tokens.dev_tokens else [],
        error=error, expired=request.args.get("expired"),
        next=_safe_next(request.args.get("next") or request.form.get("next")),
    ), (401 if error else 200)


@bp.route("/signout", methods=["POST"])
def sign_out():
    response = redirect(url_for("web.auth.sign_in"))
    session.clear_session(response)
    return response


@bp.route("/lang", methods=["POST"])
def switch_language():
    from services.web.i18n import LANGUAGES

    lang = request.form.get("lang")
    response = redirect(_safe_next(request.form.get("next")) or url_for("web.auth.home"))
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=session.YEAR, httponly=True,
                            samesite="Lax", secure=request.is_secure, path="/")
    return response
