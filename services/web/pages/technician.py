"""A technician's pages (phone, 375 px): my jobs live; accept or decline with a reason; "I
have arrived"; complete with the resident's code, what was done and the parts used; cannot
fix; my status (available / offline); share my location (the phone's, or typed in)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.common.refusals import Conflict
from services.common.schemas import LocationSchema
from services.dispatch import domain as dispatch_domain
from services.dispatch import schemas as dispatch_schemas
from services.web import forms
from services.web.calls import actor, call, page
from services.web.i18n import is_chinese

bp = Blueprint("tech", __name__, url_prefix="/t")

# The technician's actions in the order their buttons appear; which ones a job offers comes
# from the dispatch domain's transition table (the service still decides).
TECH_ACTIONS = ("accept", "decline", "arrive", "complete", "cannot_fix")
ACTION_SCHEMAS = {"decline": dispatch_schemas.ReasonRequiredSchema,
                  "cannot_fix": dispatch_schemas.ReasonRequiredSchema,
                  "complete": dispatch_schemas.CompleteSchema}
ON_A_JOB = "You are on a job: your status follows it until you finish or hand it back."
HANDING_BACK = ("decline", "cannot_fix")
SKILLS = {s["code"]: s for s in dispatch_schemas.SKILLS_DOC["skills"]}


def skill_label(code: str) -> str:
    skill = SKILLS.get(code)
    if not skill:
        return code
    return skill["name_zh"] if is_chinese() else skill["name_en"]


def repair_status_label(status: str) -> str:
    """A repair's status in words of its own (an order's "accepted" is the shop's)."""
    labels = {"open": _("Waiting for a technician"), "assigned": _("Technician assigned"),
              "accepted": _("Technician on the way"), "arrived": _("Technician at the door"),
              "completed": _("Done"), "rated": _("Done and rated"),
              "cancelled": _("Cancelled")}
    return labels.get(status) or _(status)


@bp.app_template_filter("repair_status")
def _repair_status_filter(status: str) -> str:
    return repair_status_label(status)


def offered(status: str) -> list[str]:
    return [a for a in TECH_ACTIONS if status in dispatch_domain.TRANSITIONS[a][0]]


def _me() -> dict[str, Any]:
    return call("dispatch", "my_technician", actor=actor())


def _jobs() -> dict[str, list[dict[str, Any]]]:
    items = call("dispatch", "list_repairs", actor=actor(), page=1, page_size=50)["items"]
    return {"current": [j for j in items if j["status"] in dispatch_domain.ACTIVE_STATUSES],
            "done": [j for j in items
                     if j["status"] not in dispatch_domain.ACTIVE_STATUSES][:10]}


@bp.route("/")
@page("technician")
def home():
    return render_template("tech/home.html", tech=_me(), errors={}, form={}, **_jobs())


@bp.route("/jobs")
@page("technician")
def jobs():
    return render_template("tech/jobs.html", **_jobs())


def _job(repair_id: str, errors: dict | None = None, form: Any = None) -> str:
    repair = call("dispatch", "get_repair", actor=actor(), repair_id=repair_id)
    return render_template("tech/job.html", repair=repair, actions=offered(repair["status"]),
                           errors=errors or {}, form=form or {})


@bp.route("/jobs/<id:repair_id>")
@page("technician")
def job(repair_id: str):
    return _job(repair_id)


def action_body(action: str, form: Any) -> dict[str, Any]:
    if action == "complete":
        parts = [p.strip() for p in (form.get("parts_used") or "").replace("，", ",").split(",")]
        return {"code": forms.text(form, "code"), "resolution": forms.text(form, "resolution"),
                "parts_used": [p for p in parts if p]}
    if action in ("decline", "cannot_fix"):
        return {"reason": forms.text(form, "reason")}
    return {}


@bp.route("/jobs/<id:repair_id>/<any(accept, decline, arrive, complete, cannot_fix):action>",
          methods=["POST"])
@page("technician")
def act(repair_id: str, action: str):
    errors: dict[str, list[str]] = {}
    with forms.field_errors(errors):
        body = action_body(action, request.form)
        schema = ACTION_SCHEMAS.get(action)
        if schema is not None:
            body = schema().dump(forms.load(schema(), body))
        call("dispatch", "act", actor=actor(), repair_id=repair_id, action=action, body=body)
        if action in HANDING_BACK:  # no longer theirs to see
            return redirect(url_for("web.tech.home", done="handed_back"))
        return redirect(url_for("web.tech.job", repair_id=repair_id, done="saved"))
    return _job(repair_id, errors, request.form), 422


@bp.route("/status", methods=["POST"])
@page("technician")
def status():
    errors: dict[str, list[str]] = {}
    with forms.field_errors(errors):
        body = forms.load(dispatch_schemas.TechnicianStatusSchema(),
                          {"status": request.form.get("status", "")})
        try:
            call("dispatch", "set_my_status", actor=actor(), status=body)
        except Conflict:  # on a job: the status follows the job
            errors["status"] = [ON_A_JOB]
            return render_template("tech/home.html", tech=_me(), errors=errors, form={},
                                   **_jobs()), 409
        return redirect(url_for("web.tech.home", done="saved"))
    return render_template("tech/home.html", tech=_me(), errors=errors, form={},
                           **_jobs()), 422


@bp.route("/location", methods=["POST"])
@page("technician")
def location():
    errors: dict[str, list[str]] = {}
    form = request.form
    with forms.field_errors(errors):
        point = forms.load(LocationSchema(), {"lat": forms.number(form, "lat"),
                                              "lng": forms.number(form, "lng")})
        call("dispatch", "set_my_location", actor=actor(), location=point)
        return redirect(url_for("web.tech.home", done="located"))
    return render_template("tech/home.html", tech=_me(), errors=errors, form=form,
                           **_jobs()), 422
