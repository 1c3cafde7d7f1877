"""Feedback to the community (意见反馈): residents send it, their community's planner answers."""

from __future__ import annotations

from flask import g

from services.gateway.api import ApiBlueprint
from services.gateway.rpc import service
from services.gateway.security import BEARER, actor, requires
from services.notify import schemas

blp = ApiBlueprint("feedback", __name__, url_prefix="/api/v1",
                   description="Feedback to the community")

rpc = service("notify")


@blp.route("/feedback", methods=["POST"])
@requires("resident", admin=False)
@blp.doc(security=BEARER)
@blp.arguments(schemas.FeedbackCreateSchema)
@blp.response(201, schemas.FeedbackSchema)
def send_feedback(body):
    """Send feedback or a complaint to the community of your home (set in your notification
    preferences) about a shop, a repair, a notice, or anything; optionally an https link to a
    photo. Follow it with GET /feedback/{id}."""
    made = rpc("send_feedback", actor=actor(), feedback=body)
    g.correlation_id = made["id"]
    return made


@blp.route("/feedback")
@requires("resident", "planner")
@blp.doc(security=BEARER)
@blp.arguments(schemas.FeedbackListArgs, location="query")
@blp.response(200, schemas.FeedbackPageSchema)
def list_feedback(args):
    """Residents: your own. Planners: the queue of the communities you serve, by status, or
    about one shop or repair (``subject_type`` + ``subject_id``). Newest first."""
    return rpc("list_feedback", actor=actor(), query=args)


@blp.route("/feedback/<id:feedback_id>")
@requires("resident", "planner")
@blp.doc(security=BEARER)
@blp.response(200, schemas.FeedbackSchema)
def get_feedback(feedback_id):
    g.correlation_id = feedback_id
    return rpc("get_feedback", actor=actor(), feedback_id=feedback_id)


@blp.route("/feedback/<id:feedback_id>/answer", methods=["POST"])
@requires("planner")
@blp.doc(security=BEARER)
@blp.arguments(schemas.FeedbackAnswerSchema)
@blp.response(200, schemas.FeedbackSchema)
def answer_feedback(body, feedback_id):
    """Answer a feedback of your community (status ``answered``); the resident is told."""
    g.correlation_id = feedback_id
    return rpc("reply_feedback", actor=actor(), feedback_id=feedback_id, action="answer",
               text=body["text"])


@blp.route("/feedback/<id:feedback_id>/close", methods=["POST"])
@requires("planner")
@blp.doc(security=BEARER)
@blp.arguments(schemas.FeedbackReplySchema, required=False)
@blp.response(200, schemas.FeedbackSchema)
def close_feedback(body, feedback_id):
    """Close a feedback of your community, with an optional last word; the resident is told."""
    g.correlation_id = feedback_id
    return rpc("reply_feedback", actor=actor(), feedback_id=feedback_id, action="close",
               text=(body or {}).get("text"))


@blp.route("/admin/planners", methods=["PUT"])
@requires("admin")
@blp.doc(security=BEARER)
@blp.arguments(schemas.PlannerCommunitiesSchema)
@blp.response(200, schemas.PlannerCommunitiesSchema)
def assign_planner(body):
    """Set the communities a planner serves (their feedback queue); replaces the list."""
    return rpc("assign_planner", actor=actor(), assignment=body)
