"""The dispatcher's console (desktop): the live board, a map of jobs and technicians by
status, a job's ranked candidates with one-click assignment, the roster, today's stats."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request, url_for

from services.common.config import setting
from services.common.refusals import Conflict
from services.dispatch import schemas as dispatch_schemas
from services.web import charts
from services.web.calls import actor, call, page
from services.web.pages.technician import skill_label

bp = Blueprint("dispatch", __name__, url_prefix="/d")

BOARD_COLUMNS = ("open", "assigned", "at_risk", "breached")
MAP_ITEMS = 100  # jobs and technicians drawn on the map
# Map colours by status (a legend on the page names them); jobs are larger, dark-ringed dots.
JOB_COLOURS = {"open": "#c0392b", "assigned": "#d35400", "accepted": "#1f5fa8",
               "arrived": "#6c3483"}
TECH_COLOURS = {"available": "#1f6f43", "en_route": "#1f5fa8", "on_site": "#6c3483",
                "offline": "#7f8c8d"}


@bp.app_template_filter("skill")
def _skill_filter(code: str) -> str:
    return skill_label(code)


def _map_data() -> dict[str, Any]:
    jobs = call("dispatch", "list_repairs", actor=actor(), page=1, page_size=MAP_ITEMS)["items"]
    techs = call("dispatch", "list_technicians", actor=actor(), page=1,
                 page_size=MAP_ITEMS)["items"]
    points = [{**j["location"], "name": f"{skill_label(j['skill'])} · {j['address']}",
               "color": JOB_COLOURS.get(j["status"], "#c0392b"), "stroke": "#1c232b",
               "radius": 10, "url": url_for("web.dispatch.job", repair_id=j["id"])}
              for j in jobs]
    for t in techs:
        where = t.get("location") or t["home"]
        points.append({**where, "name": t["name"], "radius": 7,
                       "color": TECH_COLOURS.get(t["status"], "#7f8c8d")})
    return {"points": points}


def _board() -> dict[str, Any]:
    return {"board": call("dispatch", "board", actor=actor()), "columns": BOARD_COLUMNS}


@bp.route("/")
@page("dispatcher")
def console():
    return render_template("dispatch/console.html", map_data=_map_data(),
                           job_colours=JOB_COLOURS, tech_colours=TECH_COLOURS, **_board())


@bp.route("/board")
@page("dispatcher")
def board():
    return render_template("dispatch/board.html", **_board())


def _job_page(repair_id: str, lost: str | None = None) -> str:
    repair = call("dispatch", "get_repair", actor=actor(), repair_id=repair_id)
    ranked = None
    if repair["status"] == "open":
        ranked = call("dispatch", "candidates", actor=actor(), repair_id=repair_id)
    return render_template("dispatch/job.html", repair=repair, ranked=ranked, lost=lost)


@bp.route("/repairs/<id:repair_id>")
@page("dispatcher")
def job(repair_id: str):
    return _job_page(repair_id)


@bp.route("/repairs/<id:repair_id>/assign", methods=["POST"])
@page("dispatcher")
def assign(repair_id: str):
    body = dispatch_schemas.AssignSchema().load(
        {"technician_id": request.form.get("technician_id", "")})
    try:
        call("dispatch", "assign", actor=actor(), repair_id=repair_id,
             technician_id=body["technician_id"])
    except Conflict as exc:
        # A lost race is not an error on the dispatcher's side: say plainly what happened,
        # on the job as it now stands.
        return _job_page(repair_id, lost=exc.error_code), 409
    return redirect(url_for("web.dispatch.job", repair_id=repair_id, done="assigned"))


@bp.route("/roster")
@page("dispatcher")
def roster():
    args = dispatch_schemas.TechnicianListArgs().load(
        {**{k: v for k, v in request.args.items() if k in ("status", "skill") and v},
         "page_size": 100})
    techs = call("dispatch", "list_technicians", actor=actor(), **args)
    return render_template("dispatch/roster.html", technicians=techs["items"], args=args,
                           statuses=dispatch_schemas.TECH_STATUSES,
                           skills=dispatch_schemas.SKILL_CODES)


@bp.route("/stats")
@page("dispatcher")
def stats():
    today = datetime.now(ZoneInfo(setting(None, "CITY_TZ"))).date().isoformat()
    data = call("dispatch", "stats", actor=actor(), from_=today, to=today)
    rows = [dict(r, label=skill_label(r["skill"])) for r in data["rows"]]
    return render_template("dispatch/stats.html", rows=rows, day=today,
                           chart=charts.share_bars(rows, "within_sla", "label"))
