"""Kind pages for everything that can go wrong on a page: no session, an expired one, a form
whose CSRF token is missing, someone else's order (404), a lost race (409), a service that is
down (503), and anything unexpected (500, logged, never a traceback). An htmx request gets the
same message in the page's message area instead of a whole page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from services.common.errors import AppError
from services.common.logs import get_logger
from services.gateway.errors import ApiError
from services.web import session

log = get_logger()


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (_("That did not work"), _("Something in the request was not right.")),
        401: (_("Please sign in again"), _("Your session has ended.")),
        403: (_("Not for you"), _("This page or action is not available to you.")),
        404: (_("Not found"), _("We could not find this page. It may belong to someone else "
                                "or no longer exist.")),
        409: (_("Someone was faster"), _("This changed while you were looking at it. "
                                         "The page now shows how things stand.")),
        413: (_("Too large"), _("What you sent is too large.")),
        422: (_("Please check your input"), _("Some fields need another look.")),
        429: (_("Slow down a little"), _("Too many requests in a short time. Wait a moment "
                                         "and try again.")),
        500: (_("Sorry, something went wrong"), _("It was our fault. Please try again.")),
        503: (_("Busy right now"), _("A part of the service is busy or restarting. Please try "
                                     "again in a moment.")),
    }


def kind_page(status: int, detail: str | None = None, headers: dict | None = None) -> Any:
    title, text = _titles().get(status, _titles()[400 if status < 500 else 500])
    detail_text = _(detail) if detail else None
    if request.headers.get("HX-Request"):
        body = render_template("errors/message.html", status=status, title=title, text=text,
                               detail=detail_text)
        # shown in the page's message area; htmx is configured to swap error answers
        return body, status, {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML",
                              **(headers or {})}
    body = render_template("errors/page.html", status=status, title=title, text=text,
                           detail=detail_text)
    return body, status, headers or {}


def _to_sign_in(expired: bool) -> Any:
    target = url_for("web.auth.sign_in", expired=1 if expired else None,
                     next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if request.headers.get("HX-Request"):
        response = redirect(target)
        response.status_code = 200
        response.headers["HX-Redirect"] = target
    else:
        response = redirect(target)
    if expired:
        session.clear_session(response)
    return response


def register(bp: Blueprint) -> None:
    @bp.errorhandler(session.SessionMissing)
    def _missing(_exc):
        return _to_sign_in(expired=False)

    @bp.errorhandler(session.SessionExpired)
    def _expired(_exc):
        return _to_sign_in(expired=True)

    @bp.errorhandler(session.CsrfRefused)
    def _csrf(_exc):
        return kind_page(403, "This form has expired. Reload the page and try again.")

    @bp.errorhandler(AppError)
    def _refusal(exc: AppError):
        return kind_page(exc.status, exc.message)

    @bp.errorhandler(ApiError)
    def _api(exc: ApiError):
        if exc.status == 401:
            return _to_sign_in(expired=True)
        return kind_page(exc.status, None if exc.status >= 500 else exc.message, exc.headers)

    @bp.errorhandler(ValidationError)
    def _invalid(_exc: ValidationError):
        # a form's errors are shown by forms.field_errors; this is a tampered button or link
        return kind_page(422)

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return kind_page(exc.code or 500)

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("web_unhandled_error", error=f"{type(exc).__name__}: {exc}")
        return kind_page(500)
