"""Notifications through the running gateway: preferences, community notices, read-all, and
the live stream (server-sent events) with resume after a reconnect."""

from __future__ import annotations

import pytest

from tests.helpers import assert_error_shape, unique, wait_for

pytestmark = pytest.mark.e2e

PLANNER = ("planner-e2e", "planner")


class SseReader:
    """A minimal EventSource: parses frames from a streaming response."""

    def __init__(self, api, who, last_event_id=None):
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.response = api.get("/api/v1/notifications/stream", as_=who, headers=headers,
                                stream=True, timeout=(5, 30))
        assert self.response.status_code == 200, self.response.text
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        self.lines = self.response.iter_lines(decode_unicode=True)

    def next_event(self) -> dict:
        event: dict = {}
        for line in self.lines:
            if line == "":
                if "event" in event or "data" in event:
                    return event
                event = {}
                continue
            if line.startswith(":"):
                continue  # heartbeat
            name, _, value = line.partition(": ")
            event[name] = value
        raise AssertionError("the stream ended")

    def until(self, kind: str) -> dict:
        while True:
            event = self.next_event()
            if event.get("event") == kind:
                return event

    def close(self):
        self.response.close()


def resident_in(api, community: str) -> tuple[str, str]:
    who = (unique("resident"), "resident")
    r = api.request("PUT", "/api/v1/me/notification-preferences", as_=who, json={
        "quiet_hours": None, "language": "zh-CN",
        "home": {"location": {"lat": 30.5803, "lng": 114.2705}, "community": community}})
    assert r.status_code == 200, r.text
    return who


def post_notice(api, community: str, title: str, key: str | None = None) -> dict:
    r = api.post("/api/v1/notices", as_=PLANNER, headers={"Idempotency-Key": key or unique("k")},
                 json={"title": title, "body": "请留意社区公告栏。",
                       "audience": {"communities": [community]}})
    assert r.status_code == 201, r.text
    return r.json()


def test_the_stream_delivers_a_notification_created_after_connecting_and_resumes(api):
    community = unique("民意街社区")
    who = resident_in(api, community)
    stream = SseReader(api, who)
    try:
        ready = stream.until("ready")
        first = post_notice(api, community, "停电通知")
        got = stream.until("notification")
    finally:
        stream.close()
    assert '"停电通知"' in got["data"] and first["id"] in got["data"]
    assert int(got["id"]) > int(ready["id"])

    # Disconnected: a second notice arrives meanwhile; the reconnect resumes after the first.
    second = post_notice(api, community, "停水通知")
    stream = SseReader(api, who, last_event_id=got["id"])
    try:
        resumed = stream.until("notification")
    finally:
        stream.close()
    assert second["id"] in resumed["data"] and '"停水通知"' in resumed["data"]
    assert int(resumed["id"]) > int(got["id"])


def test_the_stream_needs_an_event_stream_client(api):
    r = api.get("/api/v1/notifications/stream", as_=(unique("resident"), "resident"))
    assert_error_shape(r, 406, "not_acceptable")
    r = api.get("/api/v1/notifications/stream", headers={"Accept": "text/event-stream"})
    assert_error_shape(r, 401)


def test_a_notice_lands_in_the_inbox_and_read_all_clears_the_unread_count(api):
    community = unique("民意街社区")
    who = resident_in(api, community)
    notice = post_notice(api, community, "社区义诊")
    assert notice["recipients"] == 1
    inbox = wait_for(lambda: (r := api.get("/api/v1/notifications", as_=who).json())["total"]
                     and r, what="the notice in the inbox")
    assert inbox["unread_count"] == 1 and inbox["items"][0]["title"] == "社区义诊"
    r = api.post("/api/v1/notifications/read-all", as_=who)
    assert r.status_code == 200 and r.json() == {"marked": 1, "unread_count": 0}
    listed = api.get("/api/v1/notices", as_=who, params={"community": community}).json()
    assert [n["id"] for n in listed["items"]] == [notice["id"]]


def test_preferences_have_role_defaults_and_keep_what_a_person_saves(api):
    who = (unique("resident"), "resident")
    prefs = api.get("/api/v1/me/notification-preferences", as_=who).json()
    assert prefs["language"] == "zh-CN" and prefs["quiet_hours"] == {"start": "22:00",
                                                                     "end": "07:00"}
    r = api.request("PUT", "/api/v1/me/notification-preferences", as_=who,
                    json={"language": "en", "channels": {"orders": ["inbox", "email"]},
                          "email": "li@example.com"})
    assert r.status_code == 200, r.text
    assert r.json()["channels"]["orders"] == ["inbox", "email"]
    assert api.get("/api/v1/me/notification-preferences", as_=who).json()["language"] == "en"
    bad = api.request("PUT", "/api/v1/me/notification-preferences", as_=who,
                      json={"time_zone": "Mars/Olympus"})
    assert_error_shape(bad, 422, "validation_error")


def test_only_residents_register_a_home_and_only_planners_post_notices(api):
    merchant = (unique("merchant"), "merchant")
    r = api.request("PUT", "/api/v1/me/notification-preferences", as_=merchant,
                    json={"home": {"location": {"lat": 30.58, "lng": 114.27}}})
    assert_error_shape(r, 422, "validation_error")
    r = api.post("/api/v1/notices", as_=(unique("resident"), "resident"), json={
        "title": "x", "body": "y", "audience": {"communities": ["a"]}})
    assert_error_shape(r, 403, "forbidden")


def test_admins_see_failed_deliveries(api):
    r = api.get("/api/v1/admin/deliveries", as_=("admin-e2e", "admin"))
    assert r.status_code == 200, r.text
    assert set(r.json()) >= {"items", "total", "page", "page_size"}
    assert_error_shape(api.get("/api/v1/admin/deliveries", as_=PLANNER), 403)


def test_a_retried_notice_reaches_each_home_once(api):
    community = unique("民意街社区")
    who = resident_in(api, community)
    key = unique("notice-key")
    first = post_notice(api, community, "停水通知", key)
    again = post_notice(api, community, "停水通知", key)
    assert again["id"] == first["id"]
    inbox = wait_for(lambda: api.get("/api/v1/notifications", as_=who).json()["items"],
                     what="the notice in the inbox")
    assert [n["title"] for n in inbox] == ["停水通知"]
    r = api.post("/api/v1/notices", as_=PLANNER, headers={"Idempotency-Key": key}, json={
        "title": "停电通知", "body": "请留意社区公告栏。",
        "audience": {"communities": [community]}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_key_reused"


def test_a_planner_sees_how_many_residents_a_notice_would_reach_before_posting_it(api):
    community = unique("民意街社区")
    resident_in(api, community)
    resident_in(api, community)
    r = api.post("/api/v1/notices/audience-size", as_=PLANNER,
                 json={"audience": {"communities": [community]}})
    assert r.status_code == 200, r.text
    assert r.json() == {"recipients": 2}
    assert post_notice(api, community, "停水通知")["recipients"] == 2
    bad = api.post("/api/v1/notices/audience-size", as_=PLANNER, json={"audience": {}})
    assert_error_shape(bad, 422, "validation_error")
    resident = api.post("/api/v1/notices/audience-size", as_=(unique("resident"), "resident"),
                        json={"audience": {"communities": [community]}})
    assert_error_shape(resident, 403, "forbidden")
