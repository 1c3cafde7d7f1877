"""Feedback to the community (意见反馈): the rules over plain data. Who may see a feedback,
who may answer and close it, and in which status. Pure: no store, nameko or RPC code."""

from __future__ import annotations

from typing import Any

from services.common import scopes
from services.common.refusals import Conflict, Forbidden, NotFound

KINDS = ("feedback", "complaint")
SUBJECT_TYPES = ("shop", "repair", "notice", "other")
STATUSES = ("open", "answered", "closed")
# What a planner's action moves a feedback from and to.
MOVES = {"answer": (frozenset({"open", "answered"}), "answered"),
         "close": (frozenset({"open", "answered"}), "closed")}
MAX_ANSWERS = 20  # a thread stays small: more than this is a conversation for the phone
SUBJECT_PREFIX = {"shop": "mer_", "repair": "rep_", "notice": "ntc_"}


def check_subject(subject_type: str, subject_id: str | None) -> None:
    """A shop, repair or notice is named by its id; "other" by none."""
    if subject_type == "other":
        if subject_id is not None:
            raise Conflict("feedback about something else names no subject id",
                           code="subject_mismatch")
        return
    if subject_id is None or not subject_id.startswith(SUBJECT_PREFIX[subject_type]):
        raise Conflict(f"name the {subject_type} by its id ({SUBJECT_PREFIX[subject_type]}…)",
                       code="subject_mismatch")


def check_sender(who: dict[str, str], community: str | None) -> str:
    if who["role"] != "resident":
        raise Forbidden("feedback is sent by residents")
    if not community:
        raise Conflict("set your home and its community first "
                       "(PUT /api/v1/me/notification-preferences)", code="no_community")
    return community


def can_see(doc: dict[str, Any], who: dict[str, str], planned: list[str]) -> bool:
    """The resident who sent it, a planner of its community, or an admin."""
    return (who["role"] == "admin" or doc["resident_id"] == who["sub"]
            or (who["role"] == "planner" and doc["community"] in planned))


def visible_or_404(doc: dict[str, Any] | None, who: dict[str, str],
                   planned: list[str]) -> dict[str, Any]:
    if doc is None or not can_see(doc, who, planned):
        raise NotFound("no such feedback")  # someone else's feedback is private
    return doc


def check_move(doc: dict[str, Any], action: str, who: dict[str, str]) -> str:
    """The status a planner's answer or close leads to; Forbidden or Conflict if not now."""
    if who["role"] not in ("planner", "admin"):
        raise Forbidden("only the community's planner answers feedback")
    allowed_from, to_status = MOVES[action]
    if doc["status"] not in allowed_from:
        raise Conflict(f"cannot {action} feedback that is {doc['status']}",
                       {"status": doc["status"]}, code="illegal_transition")
    if action == "answer" and len(doc["answers"]) >= MAX_ANSWERS:
        raise Conflict("this feedback has had enough answers; close it", code="too_many")
    return to_status


def list_query(who: dict[str, str], planned: list[str], status: str | None,
               subject_type: str | None, subject_id: str | None) -> scopes.Scope:
    """A resident lists their own; a planner their communities' queue (none assigned:
    nothing); an admin all. services.common.scopes: a missing owner never means "all"."""
    if who["role"] == "admin":
        scope = scopes.everything()
    elif who["role"] == "planner":
        scope = {"community": {"$in": planned}} if planned else scopes.NOTHING
    elif who["role"] == "resident":
        scope = scopes.owned_by("resident_id", who["sub"])
    else:
        raise Forbidden("feedback is for residents and their community's planners")
    return scopes.narrowed(scope, status=status, **{"subject.type": subject_type,
                                                    "subject.id": subject_id})
