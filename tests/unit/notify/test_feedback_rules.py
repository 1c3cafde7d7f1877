"""Feedback rules: who sends, who sees, who answers, and what a subject must name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import Conflict, Forbidden, NotFound
from services.notify import feedback_rules as rules
from services.notify import records

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
LI = {"sub": "li", "role": "resident"}
ZHANG = {"sub": "zhang", "role": "resident"}
PLANNER = {"sub": "chen", "role": "planner"}
SHOP_ID = "mer_" + "a" * 32


def feedback(status="open", answers=0):
    doc = records.new_feedback("li", "民意街社区", {"kind": "complaint", "subject_type": "shop",
                                                 "subject_id": SHOP_ID, "text": "缺斤短两"}, NOW)
    doc["status"] = status
    doc["answers"] = [records.feedback_answer("chen", "x", "answered", NOW)] * answers
    return doc


def test_only_a_resident_with_a_community_sends_feedback():
    assert rules.check_sender(LI, "民意街社区") == "民意街社区"
    with pytest.raises(Conflict) as refused:
        rules.check_sender(LI, None)
    assert refused.value.error_code == "no_community"
    with pytest.raises(Forbidden):
        rules.check_sender(PLANNER, "民意街社区")


@pytest.mark.parametrize("subject_type, subject_id", [
    ("shop", SHOP_ID), ("repair", "rep_" + "b" * 32), ("notice", "ntc_" + "c" * 32),
    ("other", None)])
def test_a_subject_is_named_by_an_id_of_its_kind(subject_type, subject_id):
    rules.check_subject(subject_type, subject_id)


@pytest.mark.parametrize("subject_type, subject_id", [
    ("shop", None), ("shop", "rep_" + "b" * 32), ("other", SHOP_ID)])
def test_a_subject_of_the_wrong_kind_is_refused(subject_type, subject_id):
    with pytest.raises(Conflict):
        rules.check_subject(subject_type, subject_id)


def test_the_sender_and_the_communitys_planner_see_it_others_get_a_404():
    doc = feedback()
    assert rules.visible_or_404(doc, LI, []) is doc
    assert rules.visible_or_404(doc, PLANNER, ["民意街社区"]) is doc
    for who, planned in ((ZHANG, []), (PLANNER, ["唐家墩社区"]), (PLANNER, [])):
        with pytest.raises(NotFound):
            rules.visible_or_404(doc, who, planned)


def test_a_planner_answers_and_closes_until_it_is_closed():
    assert rules.check_move(feedback(), "answer", PLANNER) == "answered"
    assert rules.check_move(feedback("answered", 1), "close", PLANNER) == "closed"
    with pytest.raises(Conflict):
        rules.check_move(feedback("closed"), "answer", PLANNER)
    with pytest.raises(Forbidden):
        rules.check_move(feedback(), "answer", LI)


def test_a_thread_stays_bounded():
    with pytest.raises(Conflict):
        rules.check_move(feedback("answered", rules.MAX_ANSWERS), "answer", PLANNER)
    assert rules.check_move(feedback("answered", rules.MAX_ANSWERS), "close", PLANNER)


def test_each_role_lists_what_it_may_see():
    assert rules.list_query(LI, [], None, None, None) == {"resident_id": "li"}
    assert rules.list_query(PLANNER, ["a"], "open", "shop", SHOP_ID) == {
        "community": {"$in": ["a"]}, "status": "open", "subject.type": "shop",
        "subject.id": SHOP_ID}
    assert rules.list_query(PLANNER, [], None, None, None) is None  # no community: nothing
    with pytest.raises(Forbidden):
        rules.list_query({"sub": "m", "role": "merchant"}, [], None, None, None)


def test_the_residents_message_carries_the_answer_in_both_languages():
    doc = feedback("answered", 1)
    answer = doc["answers"][0] | {"text": "已联系市场管理处 {x}"}
    note = records.feedback_notification(doc, answer, {"quiet_hours": None,
                                                       "time_zone": "Asia/Shanghai"},
                                         NOW, timedelta(days=1))
    assert note["recipient_id"] == "li" and note["event_type"] == "feedback_answered"
    assert "已联系市场管理处 {x}" in note["texts"]["zh-CN"]["body"]
    assert "民意街社区" in note["texts"]["en"]["body"]
