"""A smart scale's receipt, public: the QR on the paper slip opens /receipt/<code> (the URL a
weighing's answer gives). Anyone, signed in or not, sees the stall, the goods, weight, unit
price, total, time and the batch's origin, supplier and arrival — the same RPC and view as
GET /api/v1/receipts/{code}, so nothing about the buyer. A signed-in resident may flag it
as short-weighed (docs/market.md, "Flags")."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.catalog import codes
from services.catalog import schemas as catalog_schemas
from services.web import forms, session
from services.web.calls import actor, call, page

bp = Blueprint("receipt", __name__, url_prefix="/receipt")

# Who is offered the flag form (the catalog decides who may flag: residents, and admins).
FLAGGERS = ("resident",)


def _viewer() -> Any:
    """Who is looking, if anyone: an expired session only hides the flag form here (the
    receipt itself is public, so it does not send anyone to sign in)."""
    try:
        return session.current()
    except session.SessionExpired:
        return None


def _show(code: str, errors: dict[str, list[str]], form: Any) -> Any:
    receipt = call("catalog", "get_receipt", code=code)
    who = _viewer()
    return render_template("receipt/show.html", receipt=receipt, errors=errors, form=form,
                           may_flag=who is not None and who.role in FLAGGERS,
                           signed_in=who is not None), 422 if errors else 200


@bp.route("")
def lookup():
    """Type the code printed under the QR."""
    errors: dict[str, list[str]] = {}
    code = (request.args.get("code") or "").strip().upper()
    if "code" in request.args:
        if codes.is_receipt_code(code):
            return redirect(url_for("web.receipt.show", code=code))
        errors["code"] = [_("A receipt code is the 10 letters and digits printed under "
                            "the QR.")]
    return render_template("receipt/lookup.html", errors=errors, code=code), \
        422 if errors else 200


@bp.route("/<receipt:code>")
def show(code: str):
    # As the API route: lookups by code are rate-limited per client address.
    current_app.config["RATE_LIMITER"].check(f"ip:{request.remote_addr}")
    return _show(code, {}, {})


@bp.route("/<receipt:code>/flag", methods=["POST"])
@page("resident")
def flag(code: str):
    errors: dict[str, list[str]] = {}
    with forms.field_errors(errors):
        body = forms.load(catalog_schemas.ReceiptFlagSchema(),
                          {"reason": forms.text(request.form, "reason")})
        call("catalog", "flag_receipt", actor=actor(), code=code, flag=body)
        return redirect(url_for("web.receipt.show", code=code, done="flagged"))
    return _show(code, errors, request.form)
