"""A shopkeeper's pages (phone and desktop): incoming orders live with a visible and audible
cue, accept / decline / out for delivery / delivered, today's orders and takings, the shop's
profile, goods and stock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from services.catalog import schemas as catalog_schemas
from services.common.config import setting
from services.common.refusals import NotFound
from services.orders import domain as order_domain
from services.orders import schemas as order_schemas
from services.web import forms, summaries
from services.web.calls import actor, call, page

bp = Blueprint("shop", __name__, url_prefix="/shop")

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Which buttons an order in each status offers: the merchant's moves in the orders domain's
# transition table (the orders service still decides what is allowed).
_MERCHANT_MOVES = {action: move for action, move in order_domain.TRANSITIONS.items()
                   if move.party == "merchant"}
NEXT_ACTIONS = {status: tuple(a for a, move in _MERCHANT_MOVES.items()
                              if status in move.allowed_from)
                for status in order_domain.ORDER_STATUSES
                if any(status in move.allowed_from for move in _MERCHANT_MOVES.values())}
ORDERS_SHOWN = 100


def my_shop() -> dict[str, Any]:
    shops = call("catalog", "my_merchants", actor=actor())["items"]
    if not shops:
        raise NotFound("you have no shop yet")
    wanted = request.args.get("m")
    return next((s for s in shops if s["id"] == wanted), shops[0])


def _orders(shop_id: str) -> list[dict[str, Any]]:
    data = call("orders", "list_orders", actor=actor(), page=1, page_size=ORDERS_SHOWN)
    return [o for o in data["items"] if o["merchant_id"] == shop_id]


def _board(shop: dict[str, Any]) -> dict[str, Any]:
    orders = _orders(shop["id"])
    return {"shop": shop, "open": [o for o in orders if o["status"] in NEXT_ACTIONS],
            "today": summaries.today(orders, datetime.now().astimezone(),
                                     setting(None, "CITY_TZ")),
            "next_actions": NEXT_ACTIONS}


@bp.route("/")
@page("merchant")
def home():
    try:
        shop = my_shop()
    except NotFound:
        return render_template("shop/no_shop.html")
    return render_template("shop/home.html", **_board(shop))


@bp.route("/incoming")
@page("merchant")
def incoming():
    return render_template("shop/incoming.html", **_board(my_shop()))


@bp.route("/orders/<id:order_id>/<any(accept, decline, dispatch, deliver):action>",
          methods=["POST"])
@page("merchant")
def act(order_id: str, action: str):
    reason = order_schemas.ReasonSchema().load({"reason": forms.text(request.form, "reason")})
    call("orders", "act", actor=actor(), order_id=order_id, action=action,
         reason=reason.get("reason"))
    if request.headers.get("HX-Request"):
        return render_template("shop/incoming.html", **_board(my_shop()))
    return redirect(url_for("web.shop.home", m=request.args.get("m")))


# --- the shop's profile ----------------------------------------------------------------------


def hours_text(hours: dict[str, Any] | None, day: str) -> str:
    return ", ".join(f"{a}-{b}" for a, b in (hours or {}).get(day, []))


def parse_hours(form: Any) -> dict[str, Any]:
    """'07:00-11:00, 17:00-02:00' per weekday -> {"mon": [["07:00", "11:00"], ...]}; the
    catalog's schema judges the times (a close before the open runs past midnight)."""
    hours: dict[str, Any] = {}
    for day in DAYS:
        text = (form.get(f"opening_hours.{day}") or "").strip()
        pairs = [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]
        hours[day] = [[t.strip() for t in p.replace("–", "-").split("-", 1)] for p in pairs]
    return hours


@bp.route("/profile", methods=["GET", "POST"])
@page("merchant")
def profile():
    shop = my_shop()
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        changes = {
            "name": forms.text(form, "name"),
            "address": forms.text(form, "address"),
            "phone": forms.text(form, "phone"),
            "location": forms.location(form, "location"),
            "opening_hours": parse_hours(form),
            "delivery": {"max_walk_minutes": forms.number(form, "delivery.max_walk_minutes"),
                         "fee_fen": forms.yuan_to_fen(form, "delivery.fee_fen"),
                         "min_order_fen": forms.yuan_to_fen(form, "delivery.min_order_fen")},
        }
        changes = {k: v for k, v in changes.items() if v is not None or k == "phone"}
        with forms.field_errors(errors):
            body = forms.load(catalog_schemas.MerchantUpdateSchema(), changes)
            call("catalog", "update_merchant", actor=actor(), merchant_id=shop["id"],
                 changes=catalog_schemas.MerchantUpdateSchema().dump(body))
            return redirect(url_for("web.shop.profile", done="saved"))
    map_data = {"points": [{**shop["location"], "name": shop["name"]}]}
    return render_template("shop/profile.html", shop=shop, errors=errors, form=form,
                           days=DAYS, hours_text=hours_text, map_data=map_data), \
        422 if errors else 200


# --- goods and stock -------------------------------------------------------------------------


def product_payload(form: Any) -> dict[str, Any]:
    origin = {k: forms.text(form, f"origin.{k}")
              for k in ("supplier", "place", "batch", "arrival_date")}
    sale_mode = forms.text(form, "sale_mode") or "by_piece"
    return forms.drop_none({
        "name": forms.text(form, "name"),
        "sale_mode": sale_mode,
        "price_fen": forms.yuan_to_fen(form, "price_fen"),
        "price_per": forms.text(form, "price_per") if sale_mode == "by_weight" else None,
        "unit": forms.text(form, "unit"),
        "stock": forms.number(form, "stock"),
        "origin": forms.drop_none(origin) or None,
    })


@bp.route("/goods", methods=["GET", "POST"])
@page("merchant")
def goods():
    shop = my_shop()
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        with forms.field_errors(errors):
            body = forms.load(catalog_schemas.ProductCreateSchema(), product_payload(form))
            call("catalog", "create_product", actor=actor(), merchant_id=shop["id"],
                 product=catalog_schemas.ProductCreateSchema().dump(body))
            return redirect(url_for("web.shop.goods", done="created"))
    items = call("catalog", "list_products", merchant_id=shop["id"], page=1, page_size=100)
    return render_template("shop/goods.html", shop=shop, goods=items["items"], errors=errors,
                           form=form), 422 if errors else 200


@bp.route("/goods/<id:product_id>", methods=["GET", "POST"])
@page("merchant")
def product(product_id: str):
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        changes = forms.drop_none({
            "price_fen": forms.yuan_to_fen(form, "price_fen"),
            "stock": forms.number(form, "stock"),
            "available": form.get("available") == "1",
        })
        origin = forms.drop_none({k: forms.text(form, f"origin.{k}")
                                  for k in ("supplier", "place", "batch", "arrival_date")})
        if origin:
            changes["origin"] = origin
        with forms.field_errors(errors):
            body = forms.load(catalog_schemas.ProductUpdateSchema(), changes)
            call("catalog", "update_product", actor=actor(), product_id=product_id,
                 changes=catalog_schemas.ProductUpdateSchema().dump(body))
            return redirect(url_for("web.shop.product", product_id=product_id, done="saved"))
    found = call("catalog", "get_product", product_id=product_id)
    history = call("catalog", "stock_history", actor=actor(), product_id=product_id)
    return render_template("shop/product.html", product=found, history=history["items"],
                           errors=errors, form=form), 422 if errors else 200
