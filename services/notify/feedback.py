"""Feedback to the community (意见反馈), as plain functions over the notify store: a resident
sends feedback or a complaint to the community of their home and follows it; the community's
planner sees the queue, answers and closes it, and the resident hears of each step in their
inbox. A planner serves the communities an admin assigned; anyone else's feedback is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common import scopes
from services.common.paging import empty_page, offset, page_dict
from services.common.refusals import Conflict
from services.notify import domain, records
from services.notify import feedback_rules as rules
from services.notify.inbox import InboxSettings, store_with_deliveries
from services.notify.preferences import effective_for
from services.notify.store import NotifyStore


def _planned(store: NotifyStore, who: dict[str, str]) -> list[str]:
    return store.planners.communities(who["sub"]) if who["role"] == "planner" else []


def send(store: NotifyStore, who: dict[str, str], data: dict[str, Any],
         now: datetime) -> dict[str, Any]:
    """A resident's feedback (``data`` validated), to the community of their home."""
    prefs = store.preferences.get(who["sub"]) or {}
    community = rules.check_sender(who, prefs.get("community"))
    rules.check_subject(data["subject_type"], data.get("subject_id"))
    doc = records.new_feedback(who["sub"], community, data, now)
    store.feedback.add(doc)
    return records.public_feedback(doc)


def get(store: NotifyStore, who: dict[str, str], feedback_id: str) -> dict[str, Any]:
    doc = rules.visible_or_404(store.feedback.get(feedback_id), who, _planned(store, who))
    return records.public_feedback(doc)


def page(store: NotifyStore, who: dict[str, str], args: dict[str, Any], now: datetime
         ) -> dict[str, Any]:
    """Newest first: a resident's own, a planner's communities' queue (by status, or about
    one shop or repair), or everything for an admin."""
    query = rules.list_query(who, _planned(store, who), args.get("status"),
                             args.get("subject_type"), args.get("subject_id"))
    number, size = args.get("page", 1), args.get("page_size", 20)
    if query is scopes.NOTHING:
        return empty_page(number, size)
    docs, total, capped = store.feedback.page(query, offset(number, size), size, now)
    return page_dict(docs, number, size, total, records.public_feedback, capped)


def reply(store: NotifyStore, who: dict[str, str], feedback_id: str, action: str,
          text: str | None, now: datetime, settings: InboxSettings) -> dict[str, Any]:
    """A planner answers (status answered) or closes (closed) a feedback of their community;
    the resident finds it in their inbox."""
    doc = rules.visible_or_404(store.feedback.get(feedback_id), who, _planned(store, who))
    to_status = rules.check_move(doc, action, who)
    answer = records.feedback_answer(who["sub"], text, to_status, now)
    moved = store.feedback.move(feedback_id, rules.MOVES[action][0], len(doc["answers"]),
                                answer)
    if moved is None:
        raise Conflict("the feedback changed meanwhile; reload it", code="changed")
    prefs = effective_for(store, doc["resident_id"], "resident", settings.city_tz)
    store_with_deliveries(store, records.feedback_notification(
        moved, answer, prefs, now, settings.role_retention), prefs, now)
    return records.public_feedback(moved)


def assign_planner(store: NotifyStore, who: dict[str, str], data: dict[str, Any]
                   ) -> dict[str, Any]:
    """An admin sets the communities a planner serves (replacing the previous list)."""
    domain.require_role(who, ("admin",), "only admins assign planners to communities")
    communities = sorted({domain.normalise_community(c) for c in data["communities"]})
    return {"sub": data["sub"], "communities": store.planners.put(data["sub"], communities)}
