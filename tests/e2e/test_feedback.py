"""Feedback to the community (意见反馈) through HTTP against the running processes."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import awake
from tests.e2e.test_order_flow import notifications
from tests.helpers import assert_error_shape, unique, wait_for

ADMIN = ("feedback-admin", "admin")
HOME = {"lat": 30.5803, "lng": 114.2705}


def living_in(api, community):
    who = awake(api, (unique("resident"), "resident"))
    r = api.request("PUT", "/api/v1/me/notification-preferences", as_=who,
                    json={"home": {"location": HOME, "community": community}})
    assert r.status_code == 200, r.text
    return who


def planner_of(api, community):
    who = (unique("planner"), "planner")
    r = api.request("PUT", "/api/v1/admin/planners", as_=ADMIN,
                    json={"sub": who[0], "communities": [community]})
    assert r.status_code == 200, r.text
    return who


@pytest.fixture
def community():
    return unique("民意街社区")


def test_a_complaint_about_a_shop_is_answered_and_closed_by_the_communitys_planner(
        api, shop, community):
    li = living_in(api, community)
    planner = planner_of(api, community)
    r = api.post("/api/v1/feedback", as_=li, json={
        "kind": "complaint", "subject_type": "shop", "subject_id": shop.merchant["id"],
        "text": "买的鸡蛋少了两个", "photo_url": "https://img.example.cn/a/receipt.jpg"})
    assert r.status_code == 201, r.text
    sent = r.json()
    assert (sent["status"], sent["community"], sent["subject"]) == (
        "open", community, {"type": "shop", "id": shop.merchant["id"]})

    queue = api.get("/api/v1/feedback", as_=planner, params={"status": "open"}).json()
    assert [f["id"] for f in queue["items"]] == [sent["id"]] and queue["total"] == 1
    # The planner's view of the shop lists what was said about it.
    about = api.get("/api/v1/feedback", as_=planner, params={
        "subject_type": "shop", "subject_id": shop.merchant["id"]}).json()
    assert [f["id"] for f in about["items"]] == [sent["id"]]

    r = api.post(f"/api/v1/feedback/{sent['id']}/answer", as_=planner,
                 json={"text": "已联系市场管理处核秤"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "answered"
    r = api.post(f"/api/v1/feedback/{sent['id']}/close", as_=planner, json={"text": "已退差价"})
    assert r.json()["status"] == "closed", r.text

    mine = api.get(f"/api/v1/feedback/{sent['id']}", as_=li).json()
    assert [(a["status"], a["text"]) for a in mine["answers"]] == [
        ("answered", "已联系市场管理处核秤"), ("closed", "已退差价")]
    inbox = wait_for(lambda: [n for n in notifications(api, li)["items"]
                              if n["correlation_id"] == sent["id"]], what="the answers")
    assert {n["event_type"] for n in inbox} == {"feedback_answered", "feedback_closed"}
    assert_error_shape(api.post(f"/api/v1/feedback/{sent['id']}/answer", as_=planner,
                                json={"text": "再补充"}), 409, "illegal_transition")


def test_another_residents_or_communitys_feedback_is_a_404(api, community):
    li = living_in(api, community)
    neighbour = living_in(api, community)
    elsewhere = planner_of(api, unique("唐家墩社区"))
    sent = api.post("/api/v1/feedback", as_=li, json={
        "subject_type": "other", "text": "小区门口的路灯坏了"}).json()
    for who in (neighbour, elsewhere):
        assert_error_shape(api.get(f"/api/v1/feedback/{sent['id']}", as_=who), 404)
    assert_error_shape(api.post(f"/api/v1/feedback/{sent['id']}/close", as_=elsewhere), 404)
    assert api.get("/api/v1/feedback", as_=neighbour).json()["total"] == 0
    assert api.get("/api/v1/feedback", as_=elsewhere).json()["total"] == 0
    assert api.get("/api/v1/feedback", as_=li).json()["total"] == 1


def test_feedback_needs_a_community_and_a_proper_subject(api, community):
    homeless = awake(api, (unique("resident"), "resident"))
    assert_error_shape(api.post("/api/v1/feedback", as_=homeless, json={
        "subject_type": "other", "text": "x"}), 409, "no_community")
    li = living_in(api, community)
    assert_error_shape(api.post("/api/v1/feedback", as_=li, json={
        "subject_type": "repair", "text": "x"}), 409, "subject_mismatch")
    assert_error_shape(api.post("/api/v1/feedback", as_=li, json={
        "subject_type": "other", "text": "x", "photo_url": "http://plain.example/a.jpg"}), 422)
    assert_error_shape(api.post("/api/v1/feedback", as_=li, json={
        "subject_type": "other", "text": ""}), 422)
