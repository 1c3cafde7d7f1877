"""A market manager's pages (desktop or phone): the market's stalls with each one's weighings,
grams and takings for a day, and the day's weighings that need them — the scale disagreed
with the catalog (price, total, batch, stock) or a resident flagged the receipt. Same RPCs
and schemas as GET /api/v1/markets/{id}/weighings and .../mismatches; the market is found
with GET /api/v1/me/markets (catalog RPC ``my_markets``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from services.catalog import scale_rules
from services.catalog import schemas as catalog_schemas
from services.common.config import setting
from services.common.refusals import NotFound
from services.web.calls import actor, call, page
from services.web.messages import N_

bp = Blueprint("market", __name__, url_prefix="/m")

# Texts that reach pages from data (see services/web/messages.py): the role, the nav labels.
WORDS = [N_("market_manager"), N_("Stalls"), N_("Mismatches"), N_("Receipts"),
         N_("Recycling"), N_("you manage no market yet")]
# What each mismatch kind is called on the page.
KINDS = {scale_rules.UNIT_PRICE: N_("Unit price differs"), scale_rules.TOTAL: N_("Total differs"),
         scale_rules.NO_BATCH: N_("No batch named"),
         scale_rules.UNKNOWN_BATCH: N_("Batch unknown to the catalog"),
         scale_rules.STOCK_SHORT: N_("The shelf had less")}


def chosen_day() -> date:
    """?day=YYYY-MM-DD (checked by the API's own MarketDayArgs), else today in the city: the
    day a weighing or drop-off counts on (scale_rules.local_day)."""
    raw = request.args.get("day")
    if raw:
        return catalog_schemas.MarketDayArgs().load({"day": raw})["day"]
    return date.fromisoformat(scale_rules.local_day(datetime.now(UTC),
                                                    setting(None, "CITY_TZ")))


def day_links(day: date) -> dict[str, str]:
    return {"day": day.isoformat(), "before": (day - timedelta(days=1)).isoformat(),
            "after": (day + timedelta(days=1)).isoformat()}


def chosen(items: list[dict[str, Any]], nothing: str) -> dict[str, Any]:
    """The one of the person's markets (or shops) named by ?m=, else the first."""
    if not items:
        raise NotFound(nothing)
    wanted = request.args.get("m")
    return next((x for x in items if x["id"] == wanted), items[0])


def my_market() -> dict[str, Any]:
    return chosen(call("catalog", "my_markets", actor=actor())["items"],
                  "you manage no market yet")


def nothing_here(title: str, text: str) -> str:
    return render_template("market/nothing.html", title=title, text=text)


@bp.route("/")
@page("market_manager")
def home():
    try:
        market = my_market()
    except NotFound:
        return nothing_here(_("Market"), _("You manage no market yet. Open one with POST "
                                           "/api/v1/markets; stall owners then put their "
                                           "stalls in it."))
    day = chosen_day()
    stalls = call("catalog", "market_day", actor=actor(), market_id=market["id"],
                  day=day.isoformat())["stalls"]
    return render_template("market/home.html", market=market, stalls=stalls,
                           days=day_links(day))


def _attention(market: dict[str, Any], day: date) -> dict[str, Any]:
    items = call("catalog", "market_mismatches", actor=actor(), market_id=market["id"],
                 day=day.isoformat())["items"]
    return {"market": market, "days": day_links(day), "kinds": KINDS,
            "flagged": [w for w in items if w["flags"]],
            "mismatched": [w for w in items if w["mismatches"]]}


@bp.route("/mismatches")
@page("market_manager")
def mismatches():
    return render_template("market/mismatches.html", **_attention(my_market(), chosen_day()))


@bp.route("/mismatches/live")
@page("market_manager")
def mismatches_live():
    """The lists alone, re-fetched when a flag's notification arrives (or by the poll)."""
    return render_template("market/attention.html", **_attention(my_market(), chosen_day()))
