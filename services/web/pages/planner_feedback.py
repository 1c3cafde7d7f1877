"""The planner's feedback queue (意见反馈, docs/notifications.md): her communities' feedback,
open first, live; one feedback's page to answer and close it; and everything said about one
shop or repair (the planner has no page of a shop or repair of her own, so the queue filtered
by that subject is her view of it, with the shop's details)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from services.common.refusals import NotFound
from services.notify import feedback_rules
from services.notify import schemas as notify_schemas
from services.web import forms
from services.web.calls import actor, call, page

bp = Blueprint("plan_feedback", __name__, url_prefix="/p/feedback")

# How many of each status the queue shows: every open one a planner is likely to have, and
# the latest of the rest.
SHOWN = {"open": 100, "answered": 50, "closed": 20}
# The form and the schema that checks each action's text (answer: required; close: optional).
ACTION_SCHEMAS = {"answer": notify_schemas.FeedbackAnswerSchema,
                  "close": notify_schemas.FeedbackReplySchema}


def offered(status: str) -> list[str]:
    """The actions a feedback in this status offers: notify's feedback_rules.MOVES decide."""
    return [action for action, (allowed_from, _to) in feedback_rules.MOVES.items()
            if status in allowed_from]


def _subject_filter() -> dict[str, Any]:
    args = notify_schemas.FeedbackListArgs().load(
        {k: v for k, v in request.args.items() if k in ("subject_type", "subject_id") and v})
    return {k: args[k] for k in ("subject_type", "subject_id") if k in args}


def queue(subject: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Per status, open first: (status, the page of that status) — one call each."""
    return [(status, call("notify", "list_feedback", actor=actor(), query={
        **subject, "status": status, "page": 1, "page_size": SHOWN[status]}))
        for status in feedback_rules.STATUSES]


def shop_of(subject: dict[str, Any]) -> dict[str, Any] | None:
    """The shop a feedback is about, from the catalog (None if it is not a shop or is gone)."""
    if subject.get("type", subject.get("subject_type")) != "shop":
        return None
    try:
        return call("catalog", "get_merchant",
                    merchant_id=subject.get("id", subject.get("subject_id")))
    except NotFound:
        return None


@bp.route("/")
@page("planner")
def home():
    subject = _subject_filter()
    return render_template("feedback/queue.html", sections=queue(subject), subject=subject,
                           shop=shop_of(subject))


@bp.route("/queue")
@page("planner")
def live_queue():
    subject = _subject_filter()
    return render_template("feedback/queue_sections.html", sections=queue(subject),
                           subject=subject)


def _feedback_page(feedback_id: str, errors: dict[str, list[str]], form: Any) -> Any:
    found = call("notify", "get_feedback", actor=actor(), feedback_id=feedback_id)
    return render_template("feedback/planner_item.html", f=found, errors=errors, form=form,
                           actions=offered(found["status"]), shop=shop_of(found["subject"])), \
        422 if errors else 200


@bp.route("/<id:feedback_id>")
@page("planner")
def item(feedback_id: str):
    return _feedback_page(feedback_id, {}, {})


@bp.route("/<id:feedback_id>/<any(answer, close):action>", methods=["POST"])
@page("planner")
def reply(feedback_id: str, action: str):
    form = request.form
    errors: dict[str, list[str]] = {}
    with forms.field_errors(errors):
        body = forms.load(ACTION_SCHEMAS[action](), {"text": forms.text(form, f"{action}.text")})
        call("notify", "reply_feedback", actor=actor(), feedback_id=feedback_id,
             action=action, text=body["text"])
        return redirect(url_for("web.plan_feedback.item", feedback_id=feedback_id,
                                done="answered" if action == "answer" else "closed"))
    # each action's form has its own text box, named "<action>.text"
    return _feedback_page(feedback_id, {f"{action}.{k}": v for k, v in errors.items()}, form)
