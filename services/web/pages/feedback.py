"""A resident's feedback to her community (意见反馈, docs/notifications.md): send feedback or a
complaint about a shop, a repair, a notice or anything, with an optional link to a photo, and
follow each one's status and the planner's answers (live). A shop's, repair's or notice's page
links here with its subject filled in."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from services.common.refusals import Conflict, NotFound
from services.notify import feedback_rules
from services.notify import schemas as notify_schemas
from services.web import forms
from services.web.calls import actor, call, page
from services.web.messages import N_

bp = Blueprint("feedback", __name__, url_prefix="/r/feedback")

# The notify service's refusals a resident can meet here, for the catalogs.
REFUSALS = [
    N_("set your home and its community first (PUT /api/v1/me/notification-preferences)"),
    N_("name the shop by its id (mer_…)"), N_("name the repair by its id (rep_…)"),
    N_("name the notice by its id (ntc_…)"),
    N_("feedback about something else names no subject id"),
    N_("Not a valid URL."),
]
NAV_LABELS = [N_("Feedback")]  # pages/__init__.py NAV

SHOWN = 50  # her feedback on one page, newest first
OTHER = "other"


def subject_value(subject_type: str | None, subject_id: str | None) -> str:
    """The form's one ``subject`` control: "shop:mer_…", "repair:rep_…", "notice:ntc_…" or
    "other"."""
    if not subject_type or subject_type == OTHER:
        return OTHER
    return f"{subject_type}:{subject_id or ''}"


def parse_subject(value: str | None) -> tuple[str | None, str | None]:
    """"shop:mer_…" -> ("shop", "mer_…"); the schema and the service judge both parts."""
    kind, _sep, ident = (value or OTHER).partition(":")
    return kind or None, ident or None


def payload(form: Any) -> dict[str, Any]:
    """The form as the API's body (FeedbackCreateSchema)."""
    subject_type, subject_id = parse_subject(form.get("subject"))
    return forms.drop_none({"kind": forms.text(form, "kind"), "subject_type": subject_type,
                            "subject_id": subject_id, "text": forms.text(form, "text"),
                            "photo_url": forms.text(form, "photo_url")})


def subject_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The schema names two fields the form shows as one ``subject`` control."""
    for part in ("subject_type", "subject_id"):
        if part in errors:
            errors.setdefault("subject", []).extend(errors.pop(part))
    return errors


def subjects() -> list[tuple[str, str]]:
    """What she can give feedback about without a link: something else, the shops she has
    ordered from, her repairs (one call each to the services that own them)."""
    options = [(OTHER, _("Something else (the neighbourhood, a service, an idea)"))]
    orders = call("orders", "list_orders", actor=actor(), page=1, page_size=SHOWN)["items"]
    seen: set[str] = set()
    for order in orders:
        if order["merchant_id"] not in seen:
            seen.add(order["merchant_id"])
            options.append((subject_value("shop", order["merchant_id"]),
                            _("Shop: %(name)s", name=order["merchant_name"] or "…")))
    for repair in call("dispatch", "list_repairs", actor=actor(), page=1, page_size=20)["items"]:
        options.append((subject_value("repair", repair["id"]),
                        _("Repair: %(what)s", what=repair["description"])))
    return options


def linked_subject(subject_type: str, subject_id: str) -> tuple[str, str] | None:
    """The subject a shop's, repair's or notice's page links with, named for the form; None
    when it is not one she can see."""
    try:
        if subject_type == "shop":
            name = call("catalog", "get_merchant", merchant_id=subject_id)["name"]
            return subject_value("shop", subject_id), _("Shop: %(name)s", name=name)
        if subject_type == "repair":
            what = call("dispatch", "get_repair", actor=actor(),
                        repair_id=subject_id)["description"]
            return subject_value("repair", subject_id), _("Repair: %(what)s", what=what)
    except NotFound:
        return None
    if subject_type == "notice":
        return subject_value("notice", subject_id), _("A community notice")
    return None


def linked_value(args: Any) -> str:
    """The subject a link chose (?subject_type=shop&subject_id=mer_…), if the API's own
    schema takes it; else "other"."""
    try:
        link = notify_schemas.FeedbackListArgs().load(
            {k: args[k] for k in ("subject_type", "subject_id") if args.get(k)})
    except ValidationError:
        return OTHER
    return subject_value(link.get("subject_type"), link.get("subject_id"))


def _options(chosen: str) -> list[tuple[str, str]]:
    options = subjects()
    if chosen not in {value for value, _label in options}:
        kind, ident = parse_subject(chosen)
        if kind in feedback_rules.SUBJECT_PREFIX and ident:
            linked = linked_subject(kind, ident)
            if linked:
                options.insert(1, linked)
    return options


def _mine() -> list[dict[str, Any]]:
    return call("notify", "list_feedback", actor=actor(),
                query={"page": 1, "page_size": SHOWN})["items"]


def names_for(items: list[dict[str, Any]], options: list[tuple[str, str]]) -> dict[str, str]:
    """Each subject of her feedback named: from the form's choices, or the catalog for a shop
    she has not ordered from (one call per such shop)."""
    names = dict(options)
    for item in items:
        subject = item["subject"]
        value = subject_value(subject["type"], subject["id"])
        if subject["type"] == "shop" and value not in names:
            linked = linked_subject("shop", subject["id"])
            if linked:
                names[value] = linked[1]
    return names


def _page(form: Any, errors: dict[str, list[str]], chosen: str) -> Any:
    options, items = _options(chosen), _mine()
    return render_template("feedback/resident.html", form=form, errors=errors, chosen=chosen,
                           options=options, names=names_for(items, options), items=items,
                           kinds=feedback_rules.KINDS), 422 if errors else 200


@bp.route("/", methods=["GET", "POST"])
@page("resident")
def home():
    if request.method == "GET":
        return _page({}, {}, linked_value(request.args))
    form = request.form
    errors: dict[str, list[str]] = {}
    with forms.field_errors(errors):
        body = forms.load(notify_schemas.FeedbackCreateSchema(), payload(form))
        try:
            made = call("notify", "send_feedback", actor=actor(),
                        feedback=notify_schemas.FeedbackCreateSchema().dump(body))
        except Conflict as exc:
            # no community set yet, or a subject that names nothing: said next to the form
            field = "subject" if exc.error_code == "subject_mismatch" else forms.FORM
            errors[field] = [exc.message]
        else:
            return redirect(url_for("web.feedback.home", done="feedback_sent",
                                    _anchor=f"fb-{made['id']}"))
    return _page(form, subject_errors(errors), form.get("subject") or OTHER)


@bp.route("/list")
@page("resident")
def mine():
    """The live part: her feedback with statuses and answers."""
    items = _mine()
    return render_template("feedback/resident_list.html", items=items,
                           names=names_for(items, subjects()))


@bp.app_template_global("feedback_words")
def words() -> dict[str, dict[str, str]]:
    """A feedback's kind, subject and status in the page's words (residents' and planners')."""
    return {
        "kind": {"feedback": _("Suggestion"), "complaint": _("Complaint")},
        "subject": {"shop": _("About a shop"), "repair": _("About a repair"),
                    "notice": _("About a notice"), "other": _("About something else")},
        "status": {"open": _("Waiting for an answer"), "answered": _("Answered"),
                   "closed": _("Resolved")},
    }
