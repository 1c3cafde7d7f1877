"""Unit tests for services.dispatch.domain (pure logic, fixed clock)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.dispatch import domain as d

TZ = "Asia/Shanghai"  # the city these tests are set in (CITY_TZ)
# Monday 2024-05-06 12:00 in Asia/Shanghai.
NOW = datetime(2024, 5, 6, 4, 0, tzinfo=UTC)
HERE = {"lat": 31.2304, "lng": 121.4737}
REQUEST = {"skill": "electrical", "location": HERE}
DISPATCHER = {"id": "disp1", "role": "dispatcher"}
SYSTEM = {"id": "auto", "role": "system"}
RESIDENT = {"id": "res1", "role": "resident"}
TECH = {"id": "t1", "role": "technician"}


def at(dlat: float = 0.0, dlng: float = 0.0) -> dict[str, float]:
    return {"lat": HERE["lat"] + dlat, "lng": HERE["lng"] + dlng}


def tech(_id: str, **over: object) -> dict:
    base = {
        "_id": _id,
        "name": f"Tech {_id}",
        "skills": ["electrical", "plumbing"],
        "status": "available",
        "travel_mode": "ebike",
        "location": at(0.005),
        "shifts": None,
        "active_jobs": 0,
        "rating_avg": 4.5,
        "rating_count": 10,
    }
    base.update(over)
    return base


def ids(ranked: list[dict]) -> list[str]:
    return [r["technician_id"] for r in ranked]


# --------------------------------------------------------------------------- ranking


def test_a_nearer_technician_without_the_skill_is_never_picked() -> None:
    near = tech("near", skills=["plumbing"], location=at(0.0005))
    far = tech("far", location=at(0.02))
    ranked, excluded = d.rank_with_exclusions(REQUEST, [near, far], NOW, tz=TZ)
    assert ids(ranked) == ["far"]
    assert excluded == [
        {"technician_id": "near", "name": "Tech near", "reasons": ["lacks skill electrical"]}
    ]
    assert d.pick_for_auto_assign(ranked, set())["technician_id"] == "far"


def test_off_shift_offline_and_busy_technicians_are_never_ranked() -> None:
    sunday_only = {"sun": [["08:00", "20:00"]]}
    techs = [
        tech("offshift", shifts=sunday_only, location=at(0.001)),
        tech("offline", status="offline", location=at(0.001)),
        tech("enroute", status="en_route", location=at(0.001)),
        tech("onsite", status="on_site", location=at(0.001)),
        tech("ok", location=at(0.03)),
    ]
    ranked, excluded = d.rank_with_exclusions(REQUEST, techs, NOW, tz=TZ)
    assert ids(ranked) == ["ok"]
    why = {e["technician_id"]: e["reasons"] for e in excluded}
    assert why == {
        "offshift": ["off shift"],
        "offline": ["offline"],
        "enroute": ["busy (en_route)"],
        "onsite": ["busy (on_site)"],
    }


def test_equal_eta_breaks_by_load_then_rating_then_id() -> None:
    techs = [
        tech("e", active_jobs=2, rating_avg=5.0),
        tech("d", active_jobs=0, rating_avg=4.0),
        tech("c", active_jobs=0, rating_avg=4.9),
        tech("b", active_jobs=1, rating_avg=3.0),
        tech("a", active_jobs=0, rating_avg=4.0),
    ]
    ranked = d.rank_candidates(REQUEST, techs, NOW, tz=TZ)
    assert len({r["eta_minutes"] for r in ranked}) == 1
    assert ids(ranked) == ["c", "a", "d", "b", "e"]
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4, 5]


def test_near_equal_etas_tie_after_rounding_so_load_decides() -> None:
    # ~1 m apart: same ETA to 0.1 min, so the idle technician wins despite being farther.
    nearer_busy = tech("busy", location=at(0.005), active_jobs=3)
    farther_idle = tech("idle", location=at(0.00501), active_jobs=0)
    ranked = d.rank_candidates(REQUEST, [nearer_busy, farther_idle], NOW, tz=TZ)
    assert ranked[0]["distance_m"] > ranked[1]["distance_m"]
    assert ranked[0]["eta_minutes"] == ranked[1]["eta_minutes"]
    assert ids(ranked) == ["idle", "busy"]


def test_an_unrated_technician_ranks_after_any_rated_one_on_ties() -> None:
    techs = [
        tech("new", rating_avg=None, rating_count=0),
        tech("low", rating_avg=1.0, rating_count=3),
        tech("phantom", rating_avg=5.0, rating_count=0),  # avg without ratings = unrated
    ]
    ranked = d.rank_candidates(REQUEST, techs, NOW, tz=TZ)
    assert ids(ranked) == ["low", "new", "phantom"]
    assert ranked[2]["rating_avg"] is None
    assert "not yet rated" in ranked[1]["reasons"]


def test_ebike_is_faster_than_walking_at_the_same_distance() -> None:
    walker = tech("walker", travel_mode="walking", location=at(0.01))
    rider = tech("rider", travel_mode="ebike", location=at(0.01))
    ranked = d.rank_candidates(REQUEST, [walker, rider], NOW, tz=TZ)
    assert ids(ranked) == ["rider", "walker"]
    assert ranked[0]["distance_m"] == ranked[1]["distance_m"]
    assert 1100 <= ranked[0]["distance_m"] <= 1125  # 0.01 deg latitude ~ 1.11 km
    # 1112 m * 1.3 detour: 5.8 min at 250 m/min vs 19.3 min at 75 m/min.
    assert ranked[0]["eta_minutes"] == pytest.approx(5.8, abs=0.1)
    assert ranked[1]["eta_minutes"] == pytest.approx(19.3, abs=0.1)


def test_a_far_ebike_can_beat_a_nearer_walker() -> None:
    walker = tech("walker", travel_mode="walking", location=at(0.005))
    rider = tech("rider", travel_mode="ebike", location=at(0.012))
    assert ids(d.rank_candidates(REQUEST, [walker, rider], NOW, tz=TZ)) == ["rider", "walker"]


def test_home_is_used_when_current_location_is_missing() -> None:
    t = tech("h", location=None, home=at(0.01))
    ranked = d.rank_candidates(REQUEST, [t], NOW, tz=TZ)
    assert 1100 <= ranked[0]["distance_m"] <= 1125
    nowhere = tech("x", location=None)
    excluded = d.rank_with_exclusions(REQUEST, [nowhere], NOW, tz=TZ)[1]
    assert excluded[0]["reasons"] == ["no location"]


def test_each_result_explains_its_rank_in_human_readable_reasons() -> None:
    t = tech("t", location=at(0.01), active_jobs=2, rating_avg=4.8, rating_count=12)
    row = d.rank_candidates(REQUEST, [t], NOW, tz=TZ)[0]
    assert row["reasons"] == ["ETA 5.8 min by e-bike (1.1 km)", "2 active jobs", "rating 4.8 (12)"]
    walk = tech("w", travel_mode="walking", location=at(0.002), active_jobs=1)
    assert d.rank_candidates(REQUEST, [walk], NOW, tz=TZ)[0]["reasons"][:2] == [
        "ETA 3.9 min on foot (222 m)",
        "1 active job",
    ]


def test_unknown_travel_mode_is_excluded_and_missing_mode_assumes_walking() -> None:
    car = tech("car", travel_mode="car")
    missing = tech("m", travel_mode=None, location=at(0.01))
    ranked, excluded = d.rank_with_exclusions(REQUEST, [car, missing], NOW, tz=TZ)
    assert excluded[0]["reasons"] == ["unknown travel_mode 'car'"]
    assert ranked[0]["travel_mode"] == "walking"


def test_pick_for_auto_assign_skips_busy_ids_and_respects_max_eta() -> None:
    ranked = d.rank_candidates(
        REQUEST, [tech("a", location=at(0.001)), tech("b", location=at(0.03))], NOW, tz=TZ
    )
    assert d.pick_for_auto_assign(ranked, {"a"})["technician_id"] == "b"
    assert d.pick_for_auto_assign(ranked, {"a", "b"}) is None
    assert d.pick_for_auto_assign(ranked, {"a"}, max_eta_minutes=15) is None
    assert d.pick_for_auto_assign([], set()) is None


# --------------------------------------------------------------------------- shifts


def test_on_shift_uses_local_time_and_overnight_intervals() -> None:
    shifts = {"mon": [["08:00", "12:00"], ["20:00", "02:00"]], "tue": [["09:00", "17:00"]]}
    local = datetime(2024, 5, 6, tzinfo=UTC) - timedelta(hours=8)  # Mon 00:00 Shanghai

    def at_local(hours: float) -> datetime:
        return local + timedelta(hours=hours)

    assert d.on_shift(shifts, at_local(8), TZ) is True  # Mon 08:00 inclusive
    assert d.on_shift(shifts, at_local(12), TZ) is False  # close is exclusive
    assert d.on_shift(shifts, at_local(21), TZ) is True  # Mon evening
    assert d.on_shift(shifts, at_local(24 + 1.5), TZ) is True  # Tue 01:30 spill-over
    assert d.on_shift(shifts, at_local(24 + 2), TZ) is False  # Tue 02:00
    assert d.on_shift(shifts, at_local(48 + 10), TZ) is False  # Wed: no key = off
    assert d.on_shift(None, at_local(48 + 10), TZ) is True
    assert d.on_shift({}, at_local(8), TZ) is False
    assert d.on_shift({"mon": [["08:00", "08:00"]]}, at_local(24 + 7.9), TZ) is True


def test_invalid_shifts_exclude_the_technician_instead_of_failing_the_ranking() -> None:
    bad = tech("bad", shifts={"mon": [["8am", "5pm"]]})
    ranked, excluded = d.rank_with_exclusions(REQUEST, [bad, tech("ok")], NOW, tz=TZ)
    assert ids(ranked) == ["ok"]
    assert excluded[0]["reasons"] == ["invalid shifts"]


# --------------------------------------------------------------------------- state machine


def repair(status: str = "open", **over: object) -> dict:
    base = {
        "_id": "r1",
        "status": status,
        "skill": "electrical",
        "resident_id": "res1",
        "technician_id": None if status == "open" else "t1",
        "completion_code": "042137",
        "requested_at": NOW,
        "due_by": NOW + timedelta(minutes=15),
        "history": [{"status": "open", "at": NOW, "by": RESIDENT, "note": ""}],
    }
    base.update(over)
    return base


LEGAL = [
    ("open", "assign", DISPATCHER, {"technician_id": "t9"}, "assigned", "repair_assigned"),
    ("open", "assign", SYSTEM, {"technician_id": "t9"}, "assigned", "repair_assigned"),
    ("assigned", "accept", TECH, {}, "accepted", "repair_accepted"),
    ("assigned", "decline", TECH, {"reason": "too far"}, "open", "repair_declined"),
    ("assigned", "accept_timeout", SYSTEM, {}, "open", "repair_declined"),
    ("accepted", "arrive", TECH, {}, "arrived", "technician_arrived"),
    ("arrived", "complete", TECH, {"code": "042137"}, "completed", "repair_completed"),
    ("accepted", "cannot_fix", TECH, {"reason": "needs part"}, "open", "repair_reopened"),
    ("arrived", "cannot_fix", TECH, {"reason": "needs part"}, "open", "repair_reopened"),
    ("open", "cancel", RESIDENT, {}, "cancelled", "repair_cancelled"),
    ("assigned", "cancel", RESIDENT, {"reason": "fixed it"}, "cancelled", "repair_cancelled"),
    ("accepted", "cancel", RESIDENT, {}, "cancelled", "repair_cancelled"),
    ("completed", "rate", RESIDENT, {"stars": 5}, "rated", "repair_rated"),
]


@pytest.mark.parametrize(("start", "action", "actor", "kw", "end", "event"), LEGAL)
def test_every_legal_transition_moves_status_and_emits_its_event(
    start: str, action: str, actor: dict, kw: dict, end: str, event: str
) -> None:
    later = NOW + timedelta(minutes=3)
    updates, events = d.transition(repair(start), action, actor, later, **kw)
    assert updates["status"] == end
    assert updates["updated_at"] == later
    assert updates["history"][-1]["status"] == end
    assert updates["history"][-1]["at"] == later
    assert updates["history"][-1]["by"] == {"id": actor["id"], "role": actor["role"]}
    assert len(updates["history"]) == 2
    assert [e["type"] for e in events] == [event]
    assert events[0]["data"]["repair_id"] == "r1"
    assert events[0]["data"]["from_status"] == start
    assert events[0]["data"]["at"] == later.isoformat()


def test_the_full_happy_path_records_each_timestamp() -> None:
    r = repair()
    steps = [
        ("assign", DISPATCHER, {"technician_id": "t1", "technician_name": "Wang"}),
        ("accept", TECH, {}),
        ("arrive", TECH, {}),
        ("complete", TECH, {"code": "042137"}),
        ("rate", RESIDENT, {"stars": 4, "comment": "quick"}),
    ]
    for minute, (action, actor, kw) in enumerate(steps, start=1):
        updates, _ = d.transition(r, action, actor, NOW + timedelta(minutes=minute), **kw)
        r = {**r, **updates}
    assert r["status"] == "rated"
    assert r["technician_name"] == "Wang"
    assert r["assigned_at"] == NOW + timedelta(minutes=1)
    assert r["accepted_at"] == NOW + timedelta(minutes=2)
    assert r["arrived_at"] == NOW + timedelta(minutes=3)
    assert r["completed_at"] == NOW + timedelta(minutes=4)
    assert r["rating"] == {"stars": 4, "comment": "quick"}
    assert [h["status"] for h in r["history"]] == [
        "open",
        "assigned",
        "accepted",
        "arrived",
        "completed",
        "rated",
    ]


ILLEGAL = [
    ("open", "accept", TECH),
    ("open", "complete", TECH),
    ("assigned", "arrive", TECH),
    ("assigned", "assign", DISPATCHER),
    ("accepted", "decline", TECH),
    ("arrived", "cancel", RESIDENT),
    ("completed", "cancel", RESIDENT),
    ("completed", "cannot_fix", TECH),
    ("rated", "rate", RESIDENT),
    ("cancelled", "assign", DISPATCHER),
    ("cancelled", "accept", TECH),
    ("open", "teleport", DISPATCHER),
]


@pytest.mark.parametrize(("start", "action", "actor"), ILLEGAL)
def test_illegal_transitions_raise_409_naming_the_current_status(
    start: str, action: str, actor: dict
) -> None:
    with pytest.raises(d.IllegalTransition) as exc:
        d.transition(repair(start), action, actor, NOW, technician_id="t1", code="042137")
    assert exc.value.current_status == start
    assert exc.value.action == action
    assert exc.value.status == 409
    assert str(exc.value) == f"cannot {action} a repair that is {start}"


def test_only_the_assigned_technician_may_accept() -> None:
    other = {"id": "t2", "role": "technician"}
    for actor in (other, RESIDENT, DISPATCHER, {"id": "t1", "role": "resident"}):
        with pytest.raises(d.NotAllowed):
            d.transition(repair("assigned"), "accept", actor, NOW)
    assert d.transition(repair("assigned"), "accept", TECH, NOW)[0]["status"] == "accepted"


def test_only_the_assigned_technician_may_decline_arrive_complete_or_cannot_fix() -> None:
    other = {"id": "t2", "role": "technician"}
    cases = [
        ("assigned", "decline", {"reason": "x"}),
        ("accepted", "arrive", {}),
        ("arrived", "complete", {"code": "042137"}),
        ("arrived", "cannot_fix", {"reason": "x"}),
    ]
    for start, action, kw in cases:
        with pytest.raises(d.NotAllowed):
            d.transition(repair(start), action, other, NOW, **kw)


def test_only_dispatchers_admins_or_the_auto_assigner_may_assign() -> None:
    for actor in (RESIDENT, TECH):
        with pytest.raises(d.NotAllowed):
            d.transition(repair(), "assign", actor, NOW, technician_id="t1")
    admin = {"id": "root", "role": "admin"}
    _, events = d.transition(repair(), "assign", admin, NOW, technician_id="t1")
    assert events[0]["data"]["auto"] is False
    _, events = d.transition(repair(), "assign", SYSTEM, NOW, technician_id="t1")
    assert events[0]["data"]["auto"] is True
    assert events[0]["data"]["technician_id"] == "t1"
    with pytest.raises(d.InvalidInput):
        d.transition(repair(), "assign", DISPATCHER, NOW)


def test_only_the_reporting_resident_may_cancel() -> None:
    for actor in ({"id": "res2", "role": "resident"}, DISPATCHER, TECH):
        with pytest.raises(d.NotAllowed):
            d.transition(repair("assigned"), "cancel", actor, NOW)
    _, events = d.transition(repair("assigned"), "cancel", RESIDENT, NOW, reason="fixed it")
    assert events[0]["data"]["technician_id"] == "t1"  # so the technician can be told
    assert events[0]["data"]["reason"] == "fixed it"


def test_completion_needs_the_right_code() -> None:
    for bad in ("000000", "42137", "", None, 42137):
        with pytest.raises(d.WrongCode):
            d.transition(repair("arrived"), "complete", TECH, NOW, code=bad)
    with pytest.raises(d.WrongCode):
        d.transition(repair("arrived", completion_code=None), "complete", TECH, NOW, code="")
    updates, events = d.transition(repair("arrived"), "complete", TECH, NOW, code=" 042137 ")
    assert updates["status"] == "completed"
    assert updates["completed_at"] == NOW
    assert events[0]["type"] == "repair_completed"


def test_completion_codes_are_six_digits_including_leading_zeros() -> None:
    class Fixed:
        def randrange(self, stop: int) -> int:
            assert stop == 1_000_000
            return 42

    assert d.make_completion_code(Fixed()) == "000042"
    codes = {d.make_completion_code(random.Random(7)) for _ in range(3)}
    assert len(codes) == 1  # seeded rng is deterministic
    code = codes.pop()
    assert len(code) == 6 and code.isdigit()


def test_rating_only_once_and_only_by_the_reporter() -> None:
    with pytest.raises(d.NotAllowed):
        d.transition(repair("completed"), "rate", {"id": "res2", "role": "resident"}, NOW, stars=5)
    with pytest.raises(d.NotAllowed):
        d.transition(repair("completed"), "rate", TECH, NOW, stars=5)
    updates, events = d.transition(repair("completed"), "rate", RESIDENT, NOW, stars=3)
    assert updates["rating"] == {"stars": 3, "comment": None}
    assert events[0]["data"]["stars"] == 3
    rated = {**repair("completed"), **updates}
    with pytest.raises(d.IllegalTransition, match="that is rated"):
        d.transition(rated, "rate", RESIDENT, NOW, stars=5)


def test_rating_must_be_an_integer_one_to_five_with_a_short_comment() -> None:
    for stars in (0, 6, 4.5, True, "5", None):
        with pytest.raises(d.InvalidInput):
            d.transition(repair("completed"), "rate", RESIDENT, NOW, stars=stars)
    with pytest.raises(d.InvalidInput):
        d.transition(repair("completed"), "rate", RESIDENT, NOW, stars=5, comment="x" * 501)
    updates, _ = d.transition(
        repair("completed"), "rate", RESIDENT, NOW, stars=5, comment="y" * 500
    )
    assert updates["rating"]["comment"] == "y" * 500


def test_declining_needs_a_reason_and_frees_the_repair_for_someone_else() -> None:
    with pytest.raises(d.InvalidInput):
        d.transition(repair("assigned"), "decline", TECH, NOW, reason="  ")
    updates, events = d.transition(repair("assigned"), "decline", TECH, NOW, reason="too far")
    assert updates["status"] == "open"
    assert updates["technician_id"] is None
    assert updates["declined_technician_ids"] == ["t1"]
    assert updates["history"][-1]["note"] == "too far"
    assert events[0]["data"] == events[0]["data"] | {
        "technician_id": "t1",
        "reason": "too far",
        "timeout": False,
    }


def test_accept_timeout_reopens_but_ignores_a_stale_timer() -> None:
    updates, events = d.transition(repair("assigned"), "accept_timeout", SYSTEM, NOW)
    assert updates["status"] == "open"
    assert events[0]["data"]["timeout"] is True
    with pytest.raises(d.IllegalTransition, match="stale"):
        d.transition(repair("assigned"), "accept_timeout", SYSTEM, NOW, technician_id="t0")
    with pytest.raises(d.NotAllowed):
        d.transition(repair("assigned"), "accept_timeout", DISPATCHER, NOW)


def test_cannot_fix_reopens_and_keeps_the_first_arrival_for_the_sla() -> None:
    first = NOW + timedelta(minutes=10)
    r = repair("arrived", arrived_at=first, declined_technician_ids=["t7"])
    updates, events = d.transition(r, "cannot_fix", TECH, NOW, reason="needs a new pump")
    assert updates["status"] == "open"
    assert updates["declined_technician_ids"] == ["t7", "t1"]
    assert events[0]["data"]["from_status"] == "arrived"
    r = {**r, **updates, "status": "accepted", "technician_id": "t2"}
    t2 = {"id": "t2", "role": "technician"}
    updates, _ = d.transition(r, "arrive", t2, NOW + timedelta(minutes=40))
    assert updates["arrived_at"] == first


# --------------------------------------------------------------------------- SLA


def test_due_by_uses_the_per_skill_sla_or_the_default() -> None:
    sla = {"electrical": 15, "cleaning": 60}
    assert d.due_by(NOW, "cleaning", sla) == NOW + timedelta(minutes=60)
    assert d.due_by(NOW, "electrical", sla) == NOW + timedelta(minutes=15)
    assert d.due_by(NOW, "unknown", sla) == NOW + timedelta(minutes=15)
    assert d.due_by(NOW, "unknown", sla, default=20) == NOW + timedelta(minutes=20)


def test_skills_file_lists_all_skills_with_names_and_a_15_minute_sla() -> None:
    path = Path(d.__file__).with_name("skills.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert d.sla_minutes_from_skills(doc) == {
        code: 15
        for code in (
            "electrical",
            "plumbing",
            "locks",
            "appliances",
            "carpentry",
            "haircut_home",
            "tailoring",
            "cleaning",
        )
    }
    assert all(s["name_zh"] and s["name_en"] for s in doc["skills"])


def test_sla_is_at_risk_at_exactly_80_percent_of_the_window() -> None:
    r = repair("assigned")
    assert d.sla_state(r, NOW + timedelta(minutes=11, seconds=59)) == "ok"
    assert d.sla_state(r, NOW + timedelta(minutes=12)) == "at_risk"
    assert d.sla_state(r, NOW + timedelta(minutes=15)) == "at_risk"  # due_by itself: not past


def test_sla_is_breached_after_due_without_arrival() -> None:
    r = repair("accepted")
    assert d.sla_state(r, NOW + timedelta(minutes=15, seconds=1)) == "breached"
    assert d.sla_state(r, NOW + timedelta(hours=3)) == "breached"


def test_sla_is_met_on_or_before_due_and_missed_after() -> None:
    later = NOW + timedelta(hours=5)
    assert d.sla_state(repair("arrived", arrived_at=NOW + timedelta(minutes=15)), later) == "met"
    missed = repair("arrived", arrived_at=NOW + timedelta(minutes=15, seconds=1))
    assert d.sla_state(missed, later) == "missed"


def test_a_cancelled_repair_stops_ageing_at_cancellation() -> None:
    r = repair("cancelled", cancelled_at=NOW + timedelta(minutes=5))
    assert d.sla_state(r, NOW + timedelta(hours=1)) == "ok"
    assert d.sla_events_due(r, NOW + timedelta(hours=1)) == []


def test_naive_datetimes_are_treated_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    r = repair("assigned", requested_at=naive, due_by=naive + timedelta(minutes=15))
    assert d.sla_state(r, NOW + timedelta(minutes=12)) == "at_risk"


def test_sla_events_due_never_returns_the_same_event_twice_once_flags_are_set() -> None:
    r = repair("assigned")
    emitted: list[str] = []
    for seconds in range(0, 30 * 60, 30):  # a timer polling every 30 s for 30 minutes
        events = d.sla_events_due(r, NOW + timedelta(seconds=seconds))
        emitted += events
        r = {**r, **d.sla_flag_updates(events)}
    assert emitted == ["sla_at_risk", "sla_breached"]
    assert r["sla_at_risk_sent"] is True and r["sla_breached_sent"] is True


def test_a_late_timer_emits_only_the_breach_and_nothing_after_arrival() -> None:
    r = repair("accepted")
    events = d.sla_events_due(r, NOW + timedelta(minutes=20))
    assert events == ["sla_breached"]
    r = {**r, **d.sla_flag_updates(events)}
    assert d.sla_events_due(r, NOW + timedelta(minutes=21)) == []
    arrived = repair("arrived", arrived_at=NOW + timedelta(minutes=5))
    assert d.sla_events_due(arrived, NOW + timedelta(minutes=13)) == []


# --------------------------------------------------------------------------- stats


def done(minutes_to_arrive: float | None, *, skill: str = "electrical", requested=NOW, **over):
    r = repair(
        "completed" if minutes_to_arrive is not None else "open",
        skill=skill,
        requested_at=requested,
        due_by=requested + timedelta(minutes=15),
    )
    if minutes_to_arrive is not None:
        r["arrived_at"] = requested + timedelta(minutes=minutes_to_arrive)
    r.update(over)
    return r


def test_daily_stats_median_share_and_breaches_on_a_constructed_set() -> None:
    next_local_day = datetime(2024, 5, 6, 17, 30, tzinfo=UTC)  # 01:30 Tue in Shanghai
    repairs = [
        done(5),
        done(10),
        done(14),
        done(20),  # missed
        done(None, sla_breached_sent=True),  # never arrived, breached
        done(None, status="cancelled", cancelled_at=NOW + timedelta(minutes=3)),  # not judged
        done(8, skill="plumbing"),
        done(30, requested=next_local_day),
    ]
    stats = d.daily_stats(repairs, tz=TZ)
    assert stats == [
        {
            "day": "2024-05-06",
            "skill": "electrical",
            "count": 6,
            "arrived": 4,
            "within_sla": 0.6,
            "median_arrival_minutes": 12.0,
            "breaches": 2,
        },
        {
            "day": "2024-05-06",
            "skill": "plumbing",
            "count": 1,
            "arrived": 1,
            "within_sla": 1.0,
            "median_arrival_minutes": 8.0,
            "breaches": 0,
        },
        {
            "day": "2024-05-07",
            "skill": "electrical",
            "count": 1,
            "arrived": 1,
            "within_sla": 0.0,
            "median_arrival_minutes": 30.0,
            "breaches": 1,
        },
    ]


def test_daily_stats_judges_open_repairs_against_now_when_given() -> None:
    repairs = [done(5), done(None), done(None, requested=NOW + timedelta(minutes=50))]
    without_now = d.daily_stats(repairs, tz=TZ)[0]
    assert (without_now["within_sla"], without_now["breaches"]) == (1.0, 0)
    with_now = d.daily_stats(repairs, tz=TZ, now=NOW + timedelta(minutes=60))[0]
    assert with_now["within_sla"] == 0.5  # one met, one unarrived past due, one still in window
    assert with_now["breaches"] == 1
    assert with_now["median_arrival_minutes"] == 5.0


# --------------------------------------------------------------------------- refusals


def test_each_refusal_carries_the_http_status_and_code_the_api_answers_with() -> None:
    illegal = d.IllegalTransition.of("rated", "rate")
    assert (illegal.status, illegal.error_code) == (409, "illegal_transition")
    assert illegal.details == {"status": "rated"}
    assert illegal.message == "cannot rate a repair that is rated"
    wrong = d.WrongCode("completion code does not match")
    assert (wrong.status, wrong.error_code) == (422, "wrong_code")
    assert wrong.details == {"code": ["completion code does not match"]}
    assert (d.NotAllowed("no").status, d.NotAllowed("no").error_code) == (403, "forbidden")
    bad = d.InvalidInput("decline requires a reason")
    assert (bad.status, bad.error_code) == (422, "validation_error")
    assert bad.details == {"_schema": ["decline requires a reason"]}


def test_a_refusal_rebuilt_from_its_rpc_arguments_is_the_same_refusal() -> None:
    # nameko rebuilds a registered exception as cls(*args) on the caller's side.
    for refusal in (d.IllegalTransition.of("open", "rate"), d.WrongCode("x"),
                    d.TechnicianBusy(), d.InvalidInput("y")):
        again = type(refusal)(*refusal.args)
        assert (again.status, again.error_code, again.message, again.details) == (
            refusal.status, refusal.error_code, refusal.message, refusal.details)
    assert set(d.REFUSALS) >= {d.IllegalTransition, d.NotAllowed, d.WrongCode, d.InvalidInput}


# --------------------------------------------------------------------------- assignment rules


def test_only_an_open_repair_can_be_assigned() -> None:
    d.check_move("open", "assign")
    with pytest.raises(d.IllegalTransition) as exc:
        d.check_move("assigned", "assign")
    assert exc.value.message == "cannot assign a repair that is assigned"
    with pytest.raises(d.IllegalTransition):
        d.check_move("open", "teleport")


def test_a_dispatcher_cannot_send_a_booked_technician() -> None:
    with pytest.raises(d.TechnicianBusy) as exc:
        d.assignment_eta(REQUEST, tech("t1", current_repair_id="rep_other"), NOW, tz=TZ)
    assert (exc.value.status, exc.value.error_code) == (409, "technician_busy")


def test_a_dispatcher_cannot_send_someone_the_ranking_rules_exclude() -> None:
    with pytest.raises(d.TechnicianUnavailable) as exc:
        d.assignment_eta(REQUEST, tech("t1", status="offline", skills=["locks"]), NOW, tz=TZ)
    assert exc.value.error_code == "technician_unavailable"
    assert exc.value.details == {"technician_id": ["lacks skill electrical", "offline"]}


def test_a_dispatcher_may_send_a_free_technician_however_far_and_learns_the_eta() -> None:
    far = tech("t1", travel_mode="walking", location=at(0.5))  # ~55 km on foot
    assert d.assignment_eta(REQUEST, far, NOW, tz=TZ) > 600


def test_shifts_are_judged_in_the_city_time_zone_given() -> None:
    mornings = tech("t1", shifts={"mon": [["08:00", "13:00"]]})  # NOW is Mon 12:00 Shanghai
    assert d.rank_candidates(REQUEST, [mornings], NOW, tz=TZ) != []
    assert d.rank_candidates(REQUEST, [mornings], NOW, tz="UTC") == []  # Mon 04:00 there


def test_a_booking_waits_until_its_window_is_within_the_max_eta() -> None:
    booked = repair(requested_at=NOW + timedelta(minutes=45))
    assert d.booked_for_later(booked, NOW, 30) is True
    assert d.booked_for_later(booked, NOW + timedelta(minutes=15), 30) is False
    assert d.booked_for_later(repair(), NOW, 30) is False


def test_auto_assignment_is_off_by_default_and_on_for_all_or_listed_skills() -> None:
    def policy(value: str) -> d.Policy:
        return d.Policy(tz=TZ, max_eta_minutes=30, accept_timeout=timedelta(seconds=120),
                        auto_assign=value)

    assert not policy("").auto_assign_on and not policy("").auto_assigns("plumbing")
    assert policy("all").auto_assigns("plumbing")
    assert policy("plumbing, locks").auto_assigns("locks")
    assert not policy("plumbing,locks").auto_assigns("electrical")


def test_a_released_technician_is_still_named_in_the_event_so_they_can_be_told() -> None:
    before = repair("assigned", technician_name="Wang", technician_sub="u-wang")
    updates, _ = d.transition(before, "decline", TECH, NOW, reason="too far")
    assert updates["technician_id"] is None and updates["technician_sub"] is None
    view = d.event_view(before, "decline", updates)
    assert (view["technician_id"], view["technician_sub"]) == ("t1", "u-wang")
    assert view["status"] == "open"
    accepted, _ = d.transition(before, "accept", TECH, NOW)
    assert d.event_view(before, "accept", accepted)["technician_id"] == "t1"


def test_the_gateway_routes_are_the_moves_people_make() -> None:
    assert set(d.PERSON_MOVES) == {"accept", "decline", "arrive", "complete", "cannot_fix",
                                   "cancel", "rate"}
    assert {move.by for move in d.PERSON_MOVES.values()} == {"technician", "resident"}


# --------------------------------------------------------------------------- stats range


def test_stats_default_to_the_last_seven_local_days() -> None:
    first, last, start, end = d.stats_window(None, None, NOW, tz=TZ)
    assert (first.isoformat(), last.isoformat()) == ("2024-04-30", "2024-05-06")
    assert start == datetime(2024, 4, 29, 16, 0, tzinfo=UTC)  # local midnight
    assert end == datetime(2024, 5, 6, 16, 0, tzinfo=UTC)


def test_stats_refuse_a_reversed_or_longer_than_92_day_range() -> None:
    may1, may6 = datetime(2024, 5, 1).date(), datetime(2024, 5, 6).date()
    with pytest.raises(d.InvalidInput) as exc:
        d.stats_window(may6, may1, NOW, tz=TZ)
    assert exc.value.details == {"from": ["bad range"]}
    assert d.stats_window(may6 - timedelta(days=91), may6, NOW, tz=TZ)[0] == may6 - timedelta(91)
    with pytest.raises(d.InvalidInput):
        d.stats_window(may6 - timedelta(days=92), may6, NOW, tz=TZ)


# --------------------------------------------------------------------------- list scopes


@pytest.mark.parametrize(("who", "tech_id", "status", "scope"), [
    ({"sub": "t-user", "role": "technician"}, None, None, None),
    ({"sub": "t-user", "role": "technician"}, None, "open", None),
    ({"sub": "t-user", "role": "technician"}, "tec_1", None, {"technician_id": "tec_1"}),
    ({"sub": "res1", "role": "resident"}, None, "open", {"resident_id": "res1",
                                                        "status": "open"}),
    ({"sub": "d", "role": "dispatcher"}, None, None,
     {"status": {"$in": ["open", "assigned", "accepted", "arrived"]}}),
    ({"sub": "a", "role": "admin"}, None, "rated", {"status": "rated"}),
])
def test_a_technician_without_a_profile_lists_no_repairs_never_every_unassigned_one(
        who, tech_id, status, scope) -> None:
    assert d.repair_scope(who, tech_id, status) == scope


def test_roles_without_repairs_are_refused_a_repair_list() -> None:
    for role in ("merchant", "planner"):
        with pytest.raises(d.refusals.Forbidden):
            d.repair_scope({"sub": "x", "role": role}, None)


# --------------------------------------------------------------------------- completion code


def test_a_locked_job_cannot_be_completed_even_with_the_right_code() -> None:
    locked = repair("arrived", code_locked=True, code_attempts=5)
    with pytest.raises(d.CodeLocked) as refused:
        d.transition(locked, "complete", TECH, NOW, code="042137")
    assert refused.value.status == 409 and refused.value.error_code == "code_locked"


def test_each_attempt_is_checked_before_the_code_and_none_after_the_fifth() -> None:
    for used in range(d.MAX_CODE_ATTEMPTS):
        d.check_code_attempt(repair("arrived", code_attempts=used), TECH)
    with pytest.raises(d.CodeLocked):
        d.check_code_attempt(repair("arrived", code_attempts=d.MAX_CODE_ATTEMPTS), TECH)
    with pytest.raises(d.CodeLocked):
        d.check_code_attempt(repair("arrived", code_locked=True), TECH)
    with pytest.raises(d.NotAllowed):  # another technician takes no attempt
        d.check_code_attempt(repair("arrived"), {"id": "t2", "role": "technician"})
    with pytest.raises(d.IllegalTransition):
        d.check_code_attempt(repair("accepted"), TECH)


def test_a_wrong_code_says_how_many_attempts_are_left() -> None:
    refusal = d.wrong_code(repair("arrived", code_attempts=3))
    assert refusal.status == 422 and refusal.error_code == "wrong_code"
    assert "2 attempts left" in refusal.message
    assert d.attempts_left(repair("arrived")) == 5  # documents from before the counter


def test_the_job_locks_only_when_every_attempt_is_used_and_it_is_still_waiting() -> None:
    assert d.should_lock(repair("arrived", code_attempts=5))
    assert not d.should_lock(repair("arrived", code_attempts=4))
    assert not d.should_lock(repair("arrived", code_attempts=5, code_locked=True))
    assert not d.should_lock(repair("completed", code_attempts=5))
    updates = d.lock_updates(repair("arrived", code_attempts=5), NOW)
    assert updates["code_locked"] is True and updates["code_locked_at"] == NOW
    assert updates["history"][-1]["note"].startswith("locked after 5 wrong")


def test_only_the_reporting_resident_issues_a_new_code_and_it_unlocks() -> None:
    locked = repair("arrived", code_locked=True, code_attempts=5)
    updates = d.new_code_updates(locked, RESIDENT, "777777", NOW)
    assert updates["completion_code"] == "777777"
    assert updates["code_attempts"] == 0 and updates["code_locked"] is False
    assert not d.should_lock({**locked, **updates})
    d.check_code_attempt({**locked, **updates}, TECH)
    with pytest.raises(d.NotAllowed):
        d.new_code_updates(locked, {"id": "res2", "role": "resident"}, "777777", NOW)
    with pytest.raises(d.NotAllowed):
        d.new_code_updates(locked, TECH, "777777", NOW)
    with pytest.raises(d.IllegalTransition):
        d.new_code_updates(repair("completed"), RESIDENT, "777777", NOW)


def test_new_codes_per_repair_are_bounded_so_its_history_is() -> None:
    job = repair("arrived")
    for _ in range(d.MAX_NEW_CODES):
        job = {**job, **d.new_code_updates(job, RESIDENT, "777777", NOW)}
    assert job["codes_issued"] == d.MAX_NEW_CODES
    with pytest.raises(d.TooManyCodes) as refused:
        d.new_code_updates(job, RESIDENT, "888888", NOW)
    assert refused.value.status == 409 and refused.value.code == "too_many_codes"


# --------------------------------------------------------------------------- arrival check


def test_arriving_records_the_technicians_last_location_and_its_distance() -> None:
    reported = NOW - timedelta(minutes=3)
    me = tech("t1", location=at(0.009), location_at=reported)  # ~1 km north
    updates, _ = d.transition(repair("accepted", location=HERE), "arrive", TECH, NOW,
                              technician=me)
    check = updates["arrival_check"]
    assert check["at"] == NOW and check["location_at"] == reported
    assert check["location"] == at(0.009)
    assert 990 <= check["distance_m"] <= 1010


def test_an_arrival_without_any_reported_location_says_so() -> None:
    updates, _ = d.transition(repair("accepted", location=HERE), "arrive", TECH, NOW,
                              technician=tech("t1", location=None))
    assert updates["arrival_check"] == {"at": NOW, "location": None, "location_at": None,
                                        "distance_m": None}
