"""Recycling drop-off (智能回收箱) pages: a resident's credit (total earned, their drop-offs)
and a drop-off code to show the box; a recycling point's owner sees the day's intake by
category and posts the point's rates. Same RPCs and schemas as /api/v1/recycling/... and
/api/v1/merchants/{id}/recycling-rates|intake (docs/market.md, "Recycling drop-off")."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.catalog import recycling_rules
from services.catalog import schemas as catalog_schemas
from services.common.refusals import NotFound
from services.web import forms
from services.web.calls import actor, call, page
from services.web.messages import N_
from services.web.pages.market import chosen, chosen_day, day_links, nothing_here

bp = Blueprint("recycling", __name__)

RECYCLING = "recycling"  # the business type of a recycling point
# What each category is called on the page (recycling_rules.CATEGORIES).
CATEGORY_NAMES = {"paper": N_("Paper"), "plastic": N_("Plastic"), "metal": N_("Metal"),
                  "textile": N_("Textile")}


def _point_names(drop_offs: list[dict[str, Any]]) -> dict[str, str]:
    # A household drops off at one or two points: one lookup each.
    names = {}
    for merchant_id in {d["merchant_id"] for d in drop_offs}:
        try:
            names[merchant_id] = call("catalog", "get_merchant", merchant_id=merchant_id)["name"]
        except NotFound:
            names[merchant_id] = ""
    return names


def _credits_page(code: dict[str, Any] | None = None) -> Any:
    credit = call("catalog", "recycling_credits", actor=actor())
    return render_template("recycling/credits.html", credit=credit, code=code,
                           points=_point_names(credit["recent"]), names=CATEGORY_NAMES)


@bp.route("/r/recycling")
@page("resident")
def credits():
    return _credits_page()


@bp.route("/r/recycling/code", methods=["POST"])
@page("resident")
def drop_off_code():
    """A fresh one-time code for the box to scan (valid for minutes, good for one drop-off)."""
    return _credits_page(call("catalog", "issue_drop_off_code", actor=actor()))


def my_point() -> dict[str, Any]:
    shops = call("catalog", "my_merchants", actor=actor())["items"]
    return chosen([s for s in shops if s["business_type"] == RECYCLING],
                  "you have no recycling point")


def _rates(point_id: str) -> dict[str, int] | None:
    try:
        return call("catalog", "get_recycling_rates", merchant_id=point_id)["rates"]
    except NotFound:  # none posted yet
        return None


def rates_payload(form: Any) -> dict[str, Any]:
    """Rates typed in 元 per kg, as fen per kg exactly (the schema refuses the rest)."""
    return {c: forms.yuan_to_fen(form, c) for c in recycling_rules.CATEGORIES}


@bp.route("/shop/recycling", methods=["GET", "POST"])
@page("merchant")
def point():
    try:
        shop = my_point()
    except NotFound:
        return nothing_here(_("Recycling"), _(
            "None of your shops is a recycling point. A shop of the business type recycling "
            "posts its rates and sees its boxes' intake here."))
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        with forms.field_errors(errors):
            body = forms.load(catalog_schemas.RecyclingRatesSchema(), rates_payload(form))
            call("catalog", "post_recycling_rates", actor=actor(), merchant_id=shop["id"],
                 rates=body)
            return redirect(url_for("web.recycling.point", m=shop["id"], done="saved"))
    day = chosen_day()
    intake = call("catalog", "recycling_intake", actor=actor(), merchant_id=shop["id"],
                  day=day.isoformat())
    return render_template("recycling/point.html", shop=shop, intake=intake,
                           rates=_rates(shop["id"]), days=day_links(day), errors=errors,
                           form=form, categories=recycling_rules.CATEGORIES,
                           names=CATEGORY_NAMES), 422 if errors else 200
