"""Repairs end to end over HTTP against the running system: a resident reports a problem, a
dispatcher sends a nearby technician, the technician fixes it with the resident's code, and
the resident rates it."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import datetime, timedelta

import pytest

from tests.helpers import assert_error_shape, unique, wait_for

API = "/api/v1"


def somewhere() -> dict:
    """A spot of our own, so technicians of other tests are far away."""
    return {"lat": round(random.uniform(22.0, 40.0), 6), "lng": round(random.uniform(100, 120), 6)}


def north_of(point: dict, metres: float) -> dict:
    return {"lat": point["lat"] + metres / 111_195, "lng": point["lng"]}


@pytest.fixture
def dispatcher():
    return (unique("dispatcher"), "dispatcher")


def make_technician(api, dispatcher, home: dict, skills=("plumbing",)) -> tuple[dict, tuple]:
    who = (unique("tech"), "technician")
    r = api.post(f"{API}/technicians", as_=dispatcher, json={
        "sub": who[0], "name": f"Master {who[0][-4:]}", "skills": list(skills), "home": home,
        "shifts": {d: [["00:00", "00:00"]] for d in
                   ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        "travel_mode": "ebike"})
    assert r.status_code == 201, r.text
    r = api.patch(f"{API}/technicians/me/status", as_=who, json={"status": "available"})
    assert r.status_code == 200, r.text
    return r.json(), who


def report(api, resident, place: dict, key: str | None = None, **overrides):
    body = {"skill": "plumbing", "description": "water under the sink",
            "address": "民意街12号3单元502", "location": place, **overrides}
    return api.post(f"{API}/repairs", as_=resident, json=body,
                    headers={"Idempotency-Key": key or uuid.uuid4().hex})


def test_a_repair_goes_from_report_to_rating(api, dispatcher):
    place = somewhere()
    resident = (unique("resident"), "resident")
    near, near_who = make_technician(api, dispatcher, north_of(place, 300))
    make_technician(api, dispatcher, north_of(place, 1500))
    make_technician(api, dispatcher, north_of(place, 100), skills=("locks",))
    # The technician's phone says they are closer than their home base.
    r = api.patch(f"{API}/technicians/me/location", as_=near_who, json=north_of(place, 200))
    assert r.status_code == 200 and r.json()["h3_cell"]

    key = uuid.uuid4().hex
    r = report(api, resident, place, key)
    assert r.status_code == 201, r.text
    repair = r.json()
    assert repair["status"] == "open"
    due = datetime.fromisoformat(repair["due_by"]) - datetime.fromisoformat(
        repair["requested_at"])
    assert due == timedelta(minutes=15)
    again = report(api, resident, place, key)
    assert again.status_code == 201 and again.json()["id"] == repair["id"]
    assert_error_shape(report(api, resident, place, key, description="other"), 409,
                       "idempotency_key_reused")
    rid = repair["id"]

    r = api.get(f"{API}/repairs/{rid}/candidates", as_=dispatcher)
    assert r.status_code == 200, r.text
    ranked = r.json()["candidates"]
    assert [c["technician_id"] for c in ranked][0] == near["id"]
    assert len(ranked) == 2  # the locksmith next door is not ranked for plumbing
    assert ranked[0]["eta_minutes"] < ranked[1]["eta_minutes"]
    assert any("ETA" in reason for reason in ranked[0]["reasons"])

    r = api.post(f"{API}/repairs/{rid}/assign", as_=dispatcher,
                 json={"technician_id": near["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "assigned"
    err = assert_error_shape(api.post(f"{API}/repairs/{rid}/assign", as_=dispatcher,
                                      json={"technician_id": ranked[1]["technician_id"]}),
                             409, "illegal_transition")
    assert "assigned" in err["message"]
    err = assert_error_shape(api.post(f"{API}/repairs/{rid}/arrive", as_=near_who), 409)
    assert "assigned" in err["message"]

    assert api.post(f"{API}/repairs/{rid}/accept", as_=near_who).status_code == 200
    assert api.get(f"{API}/technicians/me", as_=near_who).json()["status"] == "en_route"
    code = api.get(f"{API}/repairs/{rid}", as_=resident).json()["completion_code"]
    assert code and len(code) == 6
    assert api.get(f"{API}/repairs/{rid}", as_=near_who).json()["completion_code"] is None
    assert api.post(f"{API}/repairs/{rid}/arrive", as_=near_who).status_code == 200

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    done = {"resolution": "replaced the washer", "parts_used": ["washer 1/2in"]}
    assert_error_shape(api.post(f"{API}/repairs/{rid}/complete", as_=near_who,
                                json={**done, "code": wrong}), 422, "wrong_code")
    r = api.post(f"{API}/repairs/{rid}/complete", as_=near_who, json={**done, "code": code})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed" and r.json()["sla_state"] == "met"
    assert api.get(f"{API}/technicians/me", as_=near_who).json()["status"] == "available"

    stranger = (unique("resident"), "resident")
    assert_error_shape(api.post(f"{API}/repairs/{rid}/rate", as_=stranger,
                                json={"rating": 1}), 404)
    r = api.post(f"{API}/repairs/{rid}/rate", as_=resident,
                 json={"rating": 5, "comment": "quick and tidy"})
    assert r.status_code == 200, r.text
    assert r.json()["rating"] == 5
    err = assert_error_shape(api.post(f"{API}/repairs/{rid}/rate", as_=resident,
                                      json={"rating": 4}), 409, "illegal_transition")
    assert "rated" in err["message"]
    tech = api.get(f"{API}/technicians/{near['id']}", as_=dispatcher).json()
    assert tech["rating_avg"] == 5.0 and tech["rating_count"] == 1


def test_only_the_people_of_a_repair_can_see_it(api, dispatcher):
    resident = (unique("resident"), "resident")
    rid = report(api, resident, somewhere()).json()["id"]
    assert api.get(f"{API}/repairs/{rid}", as_=dispatcher).status_code == 200
    assert_error_shape(api.get(f"{API}/repairs/{rid}", as_=(unique("resident"), "resident")),
                       404, "not_found")
    assert_error_shape(api.get(f"{API}/repairs/{rid}", as_=(unique("tech"), "technician")),
                       404, "not_found")
    mine = api.get(f"{API}/repairs", as_=resident).json()
    assert [item["id"] for item in mine["items"]] == [rid]


def test_bad_repair_requests_get_the_error_shape(api):
    resident = (unique("resident"), "resident")
    place = somewhere()
    err = assert_error_shape(report(api, resident, place, skill="astrology"), 422,
                             "validation_error")
    assert "skill" in err["details"]
    err = assert_error_shape(
        api.post(f"{API}/repairs", as_=resident, json={"skill": "plumbing"},
                 headers={"Idempotency-Key": uuid.uuid4().hex}), 422, "validation_error")
    assert {"description", "address", "location"} <= set(err["details"])
    assert_error_shape(api.post(f"{API}/repairs", as_=resident, json={
        "skill": "plumbing", "description": "x", "address": "y", "location": place}), 422)
    assert_error_shape(report(api, resident, {"lat": 91, "lng": 0}), 422, "validation_error")
    assert_error_shape(api.post(f"{API}/repairs", as_=resident, data="{not json",
                                headers={"Idempotency-Key": uuid.uuid4().hex,
                                         "Content-Type": "application/json"}), 400)
    assert_error_shape(report(api, (unique("tech"), "technician"), place), 403, "forbidden")


def test_a_technician_cannot_change_another_technicians_location(api, dispatcher):
    place = somewhere()
    first, first_who = make_technician(api, dispatcher, place)
    _, second_who = make_technician(api, dispatcher, north_of(place, 500))

    assert_error_shape(api.patch(f"{API}/technicians/{first['id']}", as_=second_who,
                                 json={"home": north_of(place, 5000)}), 403, "forbidden")
    r = api.patch(f"{API}/technicians/me/location", as_=second_who,
                  json=north_of(place, 900))
    assert r.status_code == 200
    assert r.json()["id"] != first["id"]
    assert api.get(f"{API}/technicians/me", as_=first_who).json()["location"] is None
    assert_error_shape(api.get(f"{API}/technicians/{first['id']}", as_=second_who), 404)
    assert_error_shape(api.patch(f"{API}/technicians/me/status", as_=second_who,
                                 json={"status": "on_site"}), 422, "validation_error")


def test_the_board_and_stats_show_open_work(api, dispatcher):
    resident = (unique("resident"), "resident")
    rid = report(api, resident, somewhere(), skill="locks").json()["id"]
    board = api.get(f"{API}/dispatch/board", as_=dispatcher)
    assert board.status_code == 200, board.text
    assert rid in [item["id"] for item in board.json()["open"]]
    stats = api.get(f"{API}/dispatch/stats", as_=dispatcher)
    assert stats.status_code == 200, stats.text
    assert any(row["skill"] == "locks" and row["count"] >= 1 for row in stats.json()["rows"])
    assert_error_shape(api.get(f"{API}/dispatch/stats?from=2026-02-01&to=2026-01-01",
                               as_=dispatcher), 422)
    assert_error_shape(api.get(f"{API}/dispatch/board", as_=resident), 403, "forbidden")


def test_nobody_offline_off_shift_or_without_the_skill_is_ranked(api, dispatcher):
    place = somewhere()
    resident = (unique("resident"), "resident")
    good, _ = make_technician(api, dispatcher, north_of(place, 800))
    offline, offline_who = make_technician(api, dispatcher, north_of(place, 100))
    api.patch(f"{API}/technicians/me/status", as_=offline_who, json={"status": "offline"})
    never_on_shift, _ = make_technician(api, dispatcher, north_of(place, 150))
    r = api.patch(f"{API}/technicians/{never_on_shift['id']}", as_=dispatcher,
                  json={"shifts": {}})
    assert r.status_code == 200, r.text
    locksmith, _ = make_technician(api, dispatcher, north_of(place, 50), skills=("locks",))
    rid = report(api, resident, place).json()["id"]

    body = api.get(f"{API}/repairs/{rid}/candidates", as_=dispatcher).json()

    assert [c["technician_id"] for c in body["candidates"]] == [good["id"]]
    reasons = {e["technician_id"]: e["reasons"] for e in body["excluded"]}
    assert reasons[never_on_shift["id"]] == ["off shift"]
    assert offline["id"] not in reasons and locksmith["id"] not in reasons  # never fetched


def test_a_booking_for_later_is_due_fifteen_minutes_after_the_booked_time(api):
    resident = (unique("resident"), "resident")
    later = (datetime.now().astimezone() + timedelta(hours=3)).replace(microsecond=0)
    r = report(api, resident, somewhere(), skill="haircut_home",
               preferred_time=later.isoformat())
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["due_by"]) == later + timedelta(minutes=15)
    too_far = (later + timedelta(days=60)).isoformat()
    assert_error_shape(report(api, resident, somewhere(), preferred_time=too_far), 422,
                       "validation_error")


def test_the_assigned_technician_and_the_dispatchers_hear_about_a_repair(api, dispatcher):
    place = somewhere()
    tech, tech_who = make_technician(api, dispatcher, north_of(place, 200))
    resident = (unique("resident"), "resident")
    rid = report(api, resident, place).json()["id"]

    def inbox_of(who, event_type):
        items = api.get(f"{API}/notifications", as_=who, params={"page_size": 100}).json()
        return [n for n in items["items"]
                if n["event_type"] == event_type and n["correlation_id"] == rid]

    assert wait_for(lambda: inbox_of(dispatcher, "repair_requested"),
                    what="the dispatchers' shared inbox")
    r = api.post(f"{API}/repairs/{rid}/assign", as_=dispatcher, json={"technician_id": tech["id"]})
    assert r.status_code == 200, r.text
    assert wait_for(lambda: inbox_of(tech_who, "repair_assigned"),
                    what="the technician's own inbox")


def test_a_dispatcher_sees_the_roster_by_status_and_skill(api, dispatcher):
    place = somewhere()
    plumber, _ = make_technician(api, dispatcher, place)
    locksmith, _ = make_technician(api, dispatcher, place, skills=("locks",))
    roster = api.get(f"{API}/technicians", as_=dispatcher,
                     params={"skill": "locks", "status": "available", "page_size": 100}).json()
    ids = [t["id"] for t in roster["items"]]
    assert locksmith["id"] in ids and plumber["id"] not in ids
    assert all("locks" in t["skills"] and t["status"] == "available" for t in roster["items"])
    assert_error_shape(api.get(f"{API}/technicians", as_=dispatcher, params={"skill": "magic"}),
                       422, "validation_error")


def at_the_door(api, dispatcher, reported_from_metres: float | None = 300):
    """A repair whose technician has arrived, after reporting a location that far north of
    the address (or none)."""
    place = somewhere()
    tech, tech_who = make_technician(api, dispatcher, north_of(place, 500))
    if reported_from_metres is not None:
        r = api.patch(f"{API}/technicians/me/location", as_=tech_who,
                      json=north_of(place, reported_from_metres))
        assert r.status_code == 200, r.text
    resident = (unique("resident"), "resident")
    rid = report(api, resident, place).json()["id"]
    assert api.post(f"{API}/repairs/{rid}/assign", as_=dispatcher,
                    json={"technician_id": tech["id"]}).status_code == 200
    assert api.post(f"{API}/repairs/{rid}/accept", as_=tech_who).status_code == 200
    r = api.post(f"{API}/repairs/{rid}/arrive", as_=tech_who)
    assert r.status_code == 200, r.text
    return rid, resident, tech_who


DONE = {"resolution": "replaced the washer", "parts_used": []}


def other_than(code: str, n: int = 1) -> str:
    return f"{(int(code) + n) % 1_000_000:06d}"


def test_five_wrong_codes_lock_the_job_until_the_resident_issues_a_new_code(api, dispatcher):
    rid, resident, tech_who = at_the_door(api, dispatcher)
    code = api.get(f"{API}/repairs/{rid}", as_=resident).json()["completion_code"]

    for n in range(1, 5):
        err = assert_error_shape(api.post(f"{API}/repairs/{rid}/complete", as_=tech_who,
                                          json={**DONE, "code": other_than(code, n)}),
                                 422, "wrong_code")
        assert f"{5 - n} attempt" in err["message"]
    assert_error_shape(api.post(f"{API}/repairs/{rid}/complete", as_=tech_who,
                                json={**DONE, "code": other_than(code, 5)}), 409, "code_locked")
    # Locked: not even the right code closes it now.
    assert_error_shape(api.post(f"{API}/repairs/{rid}/complete", as_=tech_who,
                                json={**DONE, "code": code}), 409, "code_locked")
    seen = api.get(f"{API}/repairs/{rid}", as_=resident).json()
    assert seen["status"] == "arrived" and seen["code_locked"] is True
    assert seen["code_attempts_left"] == 0

    def told(who):
        items = api.get(f"{API}/notifications", as_=who, params={"page_size": 100}).json()
        return [n for n in items["items"]
                if n["event_type"] == "completion_code_locked" and n["correlation_id"] == rid]

    assert wait_for(lambda: told(resident), what="the resident told of the lock")
    assert wait_for(lambda: told(dispatcher), what="the dispatchers told of the lock")

    # Only the reporting resident issues a new code; it unlocks the job.
    assert_error_shape(api.post(f"{API}/repairs/{rid}/new-code", as_=tech_who), 403)
    assert_error_shape(api.post(f"{API}/repairs/{rid}/new-code",
                                as_=(unique("resident"), "resident")), 404)
    r = api.post(f"{API}/repairs/{rid}/new-code", as_=resident)
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert fresh["code_locked"] is False and fresh["code_attempts_left"] == 5
    new_code = fresh["completion_code"]
    assert new_code and len(new_code) == 6
    if new_code != code:  # one chance in a million that they are the same
        assert_error_shape(api.post(f"{API}/repairs/{rid}/complete", as_=tech_who,
                                    json={**DONE, "code": code}), 422, "wrong_code")
    r = api.post(f"{API}/repairs/{rid}/complete", as_=tech_who, json={**DONE, "code": new_code})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    assert_error_shape(api.post(f"{API}/repairs/{rid}/new-code", as_=resident), 409,
                       "illegal_transition")


def test_codes_guessed_all_at_once_get_five_tries_between_them(api, dispatcher):
    rid, resident, tech_who = at_the_door(api, dispatcher)
    code = api.get(f"{API}/repairs/{rid}", as_=resident).json()["completion_code"]
    guesses = [other_than(code, n) for n in range(1, 25)]
    answers: list[int] = []

    def guess(value: str) -> None:
        answers.append(api.post(f"{API}/repairs/{rid}/complete", as_=tech_who,
                                json={**DONE, "code": value}).status_code)

    threads = [threading.Thread(target=guess, args=(g,)) for g in guesses]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [409] * 20 + [422] * 4, answers  # 4 wrong, then locked
    seen = api.get(f"{API}/repairs/{rid}", as_=dispatcher).json()
    assert seen["code_locked"] is True and seen["status"] == "arrived"


def test_the_dispatcher_sees_where_the_technician_was_when_they_pressed_arrived(
        api, dispatcher):
    rid, resident, tech_who = at_the_door(api, dispatcher, reported_from_metres=300)
    check = api.get(f"{API}/repairs/{rid}", as_=dispatcher).json()["arrival_check"]
    assert 290 <= check["distance_m"] <= 310
    assert check["location"] and check["location_at"] and check["at"]
    # A technician's whereabouts are for dispatchers only.
    assert api.get(f"{API}/repairs/{rid}", as_=resident).json()["arrival_check"] is None
    assert api.get(f"{API}/repairs/{rid}", as_=tech_who).json()["arrival_check"] is None

    rid, _, _ = at_the_door(api, dispatcher, reported_from_metres=None)
    check = api.get(f"{API}/repairs/{rid}", as_=dispatcher).json()["arrival_check"]
    assert check["location"] is None and check["distance_m"] is None and check["at"]
