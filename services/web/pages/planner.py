"""A planner's pages: the coverage map of the district (H3 cells coloured by how many
basic-guarantee types are within their walk, from the same coverage_area RPC and schema as
GET /api/v1/coverage/area), a cell's gaps and nearest providers, the list of gaps, and
community notices with the audience size shown before posting."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from functools import cache
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from services.catalog import schemas as catalog_schemas
from services.catalog import taxonomy
from services.notify import schemas as notify_schemas
from services.web import forms
from services.web.calls import actor, call, page
from services.web.pages.common import OUTLINE

bp = Blueprint("plan", __name__, url_prefix="/p")

CENTRE = {"lat": 30.5801, "lng": 114.2701}  # the demo circle, when there is no outline
DEFAULT_RES = 8
NOTICE_WALK_MINUTES = 15
WORST_CELLS = 10
NEAR = "audience.near.location"
NEAR_LAT, NEAR_LNG = f"{NEAR}.lat", f"{NEAR}.lng"
NEAR_WALK = "audience.near.walk_minutes"
AREA_TIMEOUT = 30  # seconds: as the API route allows a district map
# Legend: cells by how many of the basic-guarantee types are within their walk.
BUCKETS = [  # (at least, colour)
    (12, "#1a7f37"), (9, "#7fbc41"), (6, "#f1c232"), (3, "#e67e22"), (0, "#b2182b"),
]


@cache
def district_box() -> dict[str, float]:
    """The box around the committed district outline (the demo circle's if it is absent)."""
    if not OUTLINE.exists():
        return {"south": CENTRE["lat"] - 0.02, "north": CENTRE["lat"] + 0.02,
                "west": CENTRE["lng"] - 0.02, "east": CENTRE["lng"] + 0.02}
    points: list[list[float]] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], int | float):
            points.append(coords)
        else:
            for c in coords:
                walk(c)

    for feature in json.loads(OUTLINE.read_text(encoding="utf-8"))["features"]:
        walk(feature["geometry"]["coordinates"])
    return {"south": min(p[1] for p in points), "north": max(p[1] for p in points),
            "west": min(p[0] for p in points), "east": max(p[0] for p in points)}


def colour(covered: int) -> str:
    return next(c for least, c in BUCKETS if covered >= least)


def legend(total: int) -> list[dict[str, Any]]:
    rows, upper = [], total
    for least, col in BUCKETS:
        rows.append({"from": least, "to": upper, "colour": col})
        upper = least - 1
    return rows


def gaps(features: list[dict[str, Any]]) -> dict[str, Any]:
    """The district's gaps from the map's cells: per missing type, how many cells lack it
    (most first); and the cells that lack the most."""
    lacking = Counter(code for f in features for code in f["properties"]["basic_missing"])
    worst = sorted(features, key=lambda f: (f["properties"]["basic_covered"],
                                            f["properties"]["cell"]))[:WORST_CELLS]
    return {"by_type": lacking.most_common(), "worst": [f["properties"] for f in worst],
            "cells": len(features)}


def _type_name(code: str) -> str:
    from services.web.pages.resident import type_name

    return type_name(code)


@bp.route("/")
@page("planner")
def coverage():
    res = request.args.get("res", str(DEFAULT_RES))
    args = catalog_schemas.CoverageAreaArgs().load({**district_box(), "res": res})
    area = call("catalog", "coverage_area", actor=actor(), query=args, timeout=AREA_TIMEOUT)
    for feature in area["features"]:
        feature["properties"]["colour"] = colour(feature["properties"]["basic_covered"])
    total = len(area["properties"]["basic_types"])
    return render_template("plan/coverage.html", area=area, res=args["res"],
                           resolutions=catalog_schemas.AREA_RESOLUTIONS,
                           legend=legend(total), total=total, gaps=gaps(area["features"]),
                           type_name=_type_name)


@bp.route("/cell")
@page("planner")
def cell():
    args = catalog_schemas.CoverageArgs().load(
        {"lat": request.args.get("lat"), "lng": request.args.get("lng")})
    report = call("catalog", "coverage", actor=actor(), query=args)
    basic = set(taxonomy.basic_codes())
    missing = [t for t in report["types"] if not t["covered"] and t["code"] in basic]
    present = [t for t in report["types"] if t["covered"] and t["code"] in basic]
    # htmx puts the report beside the map; a plain link (no script) gets a whole page
    partial = bool(request.headers.get("HX-Request"))
    return render_template("plan/cell.html" if partial else "plan/cell_page.html",
                           report=report, missing=missing, present=present, point=args,
                           type_name=_type_name)


def notice_payload(form: Any) -> dict[str, Any]:
    """The notice form (its fields named as the schema's, so errors land next to them)."""
    if form.get("audience_kind") == "communities":
        names = (form.get("audience.communities") or "").replace("，", ",").split(",")
        audience: dict[str, Any] = {"communities": [n.strip() for n in names if n.strip()]}
    else:
        audience = {"near": {"location": forms.location(form, NEAR),
                             "walk_minutes": forms.number(form, NEAR_WALK)}}
    return {"title": forms.text(form, "title"), "body": forms.text(form, "body"),
            "audience": audience}


@bp.route("/notices/audience-size", methods=["POST"])
@page("planner")
def audience_size():
    errors: dict[str, list[str]] = {}
    size = None
    with forms.field_errors(errors):
        audience = notice_payload(request.form)["audience"]
        forms.load(notify_schemas.NoticeAudienceArgs(), {"audience": audience})
        size = call("notify", "notice_audience_size", actor=actor(),
                    audience=audience)["recipients"]
    return render_template("plan/audience_size.html", size=size, errors=errors)


@bp.route("/notices", methods=["GET", "POST"])
@page("planner")
def notices():
    errors: dict[str, list[str]] = {}
    form = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        with forms.field_errors(errors):
            payload = notice_payload(form)
            forms.load(notify_schemas.NoticeCreateSchema(), payload)
            posted = call("notify", "create_notice", actor=actor(), notice=payload,
                          idempotency_key=form.get("idempotency_key") or uuid.uuid4().hex)
            return redirect(url_for("web.plan.notices", done="posted",
                                    sent=posted["recipients"]))
    defaults = {NEAR_LAT: request.args.get("lat", CENTRE["lat"]),
                NEAR_LNG: request.args.get("lng", CENTRE["lng"]),
                NEAR_WALK: NOTICE_WALK_MINUTES}
    return render_template("plan/notices.html", errors=errors, form=form, defaults=defaults,
                           key=form.get("idempotency_key") or uuid.uuid4().hex,
                           sent=request.args.get("sent", type=int)), 422 if errors else 200
