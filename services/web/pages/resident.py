"""A resident's pages (phone first): shops within the walk, goods search, a shop and its goods,
the basket and checkout, her orders with a live timeline, repairs, notices."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from services.catalog import schemas as catalog_schemas
from services.catalog import taxonomy
from services.dispatch import domain as dispatch_domain
from services.dispatch import schemas as dispatch_schemas
from services.gateway.routes.quotes import QuoteArgs, quote
from services.orders import domain as order_domain
from services.orders import schemas as order_schemas
from services.web import basket as baskets
from services.web import forms
from services.web.calls import actor, call, page
from services.web.i18n import is_chinese

bp = Blueprint("resident", __name__, url_prefix="/r")

WALK_MINUTES = 15
# The orders service decides; this only decides whether to offer the button (a refusal is
# shown kindly if it changed meanwhile).
CANCELLABLE = order_domain.TRANSITIONS["cancel"].allowed_from
LIVE_REPAIR = dispatch_domain.ACTIVE_STATUSES


def _home() -> dict[str, Any] | None:
    prefs = call("notify", "get_preferences", actor=actor())
    return prefs.get("home")


def type_name(code: str) -> str:
    entry = taxonomy.BY_CODE.get(code)
    if not entry:
        return code
    return entry["name_zh"] if is_chinese() else entry["name_en"]


def skill_name(skill: dict[str, Any]) -> str:
    return skill["name_zh"] if is_chinese() else skill["name_en"]


@bp.app_template_filter("business_type")
def _business_type_filter(code: str) -> str:
    return type_name(code)


# --- the circle ------------------------------------------------------------------------------


@bp.route("/")
@page("resident")
def home():
    home = _home()
    if not home:
        return render_template("resident/no_home.html")
    loc = home["location"]
    near = call("catalog", "near_merchants", query=catalog_schemas.NearMerchantsArgs().load(
        {"lat": loc["lat"], "lng": loc["lng"], "walk_minutes": WALK_MINUTES, "page_size": 100}))
    groups: OrderedDict[str, list[dict]] = OrderedDict()
    for shop in sorted(near["items"], key=lambda s: (type_name(s["business_type"]),
                                                     s["walk_minutes"])):
        groups.setdefault(shop["business_type"], []).append(shop)
    map_data = {
        "home": {**loc, "label": ""},
        "ring_m": near["max_distance_m"],
        "points": [{"lat": s["location"]["lat"], "lng": s["location"]["lng"], "name": s["name"],
                    "open": s["open_now"], "url": url_for("web.resident.shop", shop_id=s["id"])}
                   for s in near["items"]],
    }
    return render_template("resident/home.html", groups=groups, near=near, map_data=map_data,
                           home=home)


@bp.route("/search")
@page("resident")
def search():
    q = (request.args.get("q") or "").strip()
    results, errors = None, {}
    home = _home()
    if q and home:
        with forms.field_errors(errors):
            args = catalog_schemas.NearProductsArgs().load({
                "lat": home["location"]["lat"], "lng": home["location"]["lng"], "q": q,
                "walk_minutes": WALK_MINUTES, "page_size": 50})
            results = call("catalog", "near_products", query=args)
    return render_template("resident/search.html", q=q, results=results, errors=errors,
                           home=home)


@bp.route("/shops/<id:shop_id>")
@page("resident")
def shop(shop_id: str):
    merchant = call("catalog", "get_merchant", merchant_id=shop_id)
    goods = call("catalog", "list_products", merchant_id=shop_id, page=1, page_size=100)
    basket = baskets.read(request)
    return render_template("resident/shop.html", shop=merchant, goods=goods["items"],
                           basket=basket if basket.get("merchant_id") == shop_id else None)


@bp.route("/products/<id:product_id>/price")
@page("resident")
def price(product_id: str):
    """The weight picker's live price: the catalog's own pricing function (as the quote API)."""
    errors: dict[str, list[str]] = {}
    result = None
    with forms.field_errors(errors):
        args = QuoteArgs().load({"quantity": forms.number(request.args, "quantity")})
        result = quote(call("catalog", "get_product", product_id=product_id), args["quantity"])
    return render_template("resident/price.html", quote=result, errors=errors,
                           product_id=product_id)


# --- basket and checkout ---------------------------------------------------------------------


@bp.route("/basket/add", methods=["POST"])
@page("resident")
def add_to_basket():
    product = call("catalog", "get_product", product_id=request.form.get("product_id", ""))
    errors: dict[str, list[str]] = {}
    with forms.field_errors(errors):
        item = order_schemas.OrderItemSchema().load(
            {"product_id": product["id"], "quantity": forms.number(request.form, "quantity")})
        quote(product, item["quantity"])  # the catalog's own limits on a line
        response = redirect(url_for("web.resident.shop", shop_id=product["merchant_id"],
                                    done="added"))
        baskets.write(response, baskets.add(baskets.read(request), product["merchant_id"],
                                            item["product_id"], item["quantity"]))
        return response
    merchant = call("catalog", "get_merchant", merchant_id=product["merchant_id"])
    goods = call("catalog", "list_products", merchant_id=product["merchant_id"], page=1,
                 page_size=100)
    return render_template("resident/shop.html", shop=merchant, goods=goods["items"],
                           basket=None, errors=errors, bad_product=product["id"]), 422


@bp.route("/basket/remove", methods=["POST"])
@page("resident")
def remove_from_basket():
    response = redirect(url_for("web.resident.basket"))
    baskets.write(response, baskets.remove(baskets.read(request),
                                           request.form.get("product_id", "")))
    return response


def _priced_basket(basket: dict[str, Any]) -> dict[str, Any] | None:
    if not basket.get("items"):
        return None
    merchant = call("catalog", "get_merchant", merchant_id=basket["merchant_id"])
    lines = []
    for product_id, quantity in basket["items"].items():
        product = call("catalog", "get_product", product_id=product_id)
        lines.append({"product": product, "quantity": quantity,
                      "line_total_fen": quote(product, quantity)["line_total_fen"]})
    items_total = sum(line["line_total_fen"] for line in lines)
    return {"merchant": merchant, "lines": lines, "items_total_fen": items_total,
            "fee_fen": merchant["delivery"]["fee_fen"],
            "total_fen": items_total + merchant["delivery"]["fee_fen"]}


@bp.route("/basket", methods=["GET", "POST"])
@page("resident")
def basket():
    basket = baskets.read(request)
    priced = _priced_basket(basket)
    home = _home() or {}
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST" and priced:
        payload = {
            "merchant_id": basket["merchant_id"],
            "items": [{"product_id": p, "quantity": q} for p, q in basket["items"].items()],
            "delivery": {"address": forms.text(form, "delivery.address"),
                         "location": forms.location(form, "delivery.location")},
            "note": forms.text(form, "note"),
        }
        with forms.field_errors(errors):
            order = forms.load(order_schemas.OrderCreateSchema(), payload)
            # the form's key: a double click or a retry after a timeout places one order
            placed = call("orders", "place_order", actor=actor(),
                          idempotency_key=form.get("idempotency_key") or uuid.uuid4().hex,
                          order=order_schemas.OrderCreateSchema().dump(order))
            response = redirect(url_for("web.resident.order", order_id=placed["order"]["id"]))
            baskets.clear(response)
            return response
    return render_template("resident/basket.html", priced=priced, home=home, errors=errors,
                           form=form, key=form.get("idempotency_key") or uuid.uuid4().hex), \
        422 if errors else 200


# --- orders ----------------------------------------------------------------------------------


@bp.route("/orders")
@page("resident")
def orders():
    data = call("orders", "list_orders", actor=actor(), page=1, page_size=50)
    return render_template("resident/orders.html", orders=data["items"])


@bp.route("/orders/<id:order_id>")
@page("resident")
def order(order_id: str):
    found = call("orders", "get_order", actor=actor(), order_id=order_id)
    return render_template("resident/order.html", order=found, cancellable=CANCELLABLE)


@bp.route("/orders/<id:order_id>/status")
@page("resident")
def order_status(order_id: str):
    found = call("orders", "get_order", actor=actor(), order_id=order_id)
    return render_template("resident/order_status.html", order=found, cancellable=CANCELLABLE)


@bp.route("/orders/<id:order_id>/cancel", methods=["POST"])
@page("resident")
def cancel_order(order_id: str):
    reason = order_schemas.ReasonSchema().load({"reason": forms.text(request.form, "reason")})
    call("orders", "act", actor=actor(), order_id=order_id, action="cancel",
         reason=reason.get("reason"))
    return redirect(url_for("web.resident.order", order_id=order_id, done="cancelled"))


# --- repairs ---------------------------------------------------------------------------------


@bp.route("/repairs/new", methods=["GET", "POST"])
@page("resident")
def new_repair():
    home = _home() or {}
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        payload = {
            "skill": forms.text(form, "skill"),
            "description": forms.text(form, "description"),
            "address": forms.text(form, "address"),
            "location": forms.location(form, "location"),
        }
        with forms.field_errors(errors):
            body = forms.load(dispatch_schemas.RepairCreateSchema(), payload)
            made = call("dispatch", "request_repair", actor=actor(),
                        idempotency_key=form.get("idempotency_key") or uuid.uuid4().hex,
                        repair=dispatch_schemas.RepairCreateSchema().dump(body))
            return redirect(url_for("web.resident.repair", repair_id=made["repair"]["id"],
                                    done="reported"))
    mine = call("dispatch", "list_repairs", actor=actor(), page=1, page_size=20)
    skills = [(s["code"], skill_name(s)) for s in dispatch_schemas.SKILLS_DOC["skills"]]
    return render_template("resident/new_repair.html", skills=skills, home=home, errors=errors,
                           form=form, repairs=mine["items"],
                           key=form.get("idempotency_key") or uuid.uuid4().hex), \
        422 if errors else 200


@bp.route("/repairs/<id:repair_id>")
@page("resident")
def repair(repair_id: str):
    found = call("dispatch", "get_repair", actor=actor(), repair_id=repair_id)
    return render_template("resident/repair.html", repair=found, errors={}, live=LIVE_REPAIR)


@bp.route("/repairs/<id:repair_id>/status")
@page("resident")
def repair_status(repair_id: str):
    found = call("dispatch", "get_repair", actor=actor(), repair_id=repair_id)
    return render_template("resident/repair_status.html", repair=found, errors={},
                           live=LIVE_REPAIR)


@bp.route("/repairs/<id:repair_id>/rate", methods=["POST"])
@page("resident")
def rate_repair(repair_id: str):
    errors: dict[str, list[str]] = {}
    payload = {"rating": forms.number(request.form, "rating"),
               "comment": forms.text(request.form, "comment")}
    with forms.field_errors(errors):
        body = forms.load(dispatch_schemas.RateSchema(), forms.drop_none(payload))
        call("dispatch", "act", actor=actor(), repair_id=repair_id, action="rate",
             body=dispatch_schemas.RateSchema().dump(body))
        return redirect(url_for("web.resident.repair", repair_id=repair_id, done="rated"))
    found = call("dispatch", "get_repair", actor=actor(), repair_id=repair_id)
    return render_template("resident/repair.html", repair=found, errors=errors,
                           live=LIVE_REPAIR), 422


# --- notices ---------------------------------------------------------------------------------


@bp.route("/notices")
@page("resident")
def notices():
    home = _home()
    items: list[dict] = []
    if home:
        items = call("notify", "list_notices", lat=home["location"]["lat"],
                     lng=home["location"]["lng"])["items"]
        if home.get("community"):
            seen = {n["id"] for n in items}
            items += [n for n in call("notify", "list_notices",
                                      community=home["community"])["items"]
                      if n["id"] not in seen]
    return render_template("resident/notices.html", notices=items, home=home)
