"""The automatic assigner's choice as plain functions over plain dicts (no store, no
broker): what a simulator drives on its own clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.dispatch import assignment
from services.dispatch.domain import Policy

NOW = datetime(2024, 5, 6, 4, 0, tzinfo=UTC)  # Monday 12:00 in Shanghai
HERE = {"lat": 30.58, "lng": 114.27}
POLICY = Policy(tz="Asia/Shanghai", max_eta_minutes=30, accept_timeout=timedelta(minutes=2),
                auto_assign="all")


def north(metres: float) -> dict[str, float]:
    return {"lat": HERE["lat"] + metres / 111_195, "lng": HERE["lng"]}


def tech(_id: str, metres: float, **over: object) -> dict:
    return {"_id": _id, "name": _id, "skills": ["plumbing"], "status": "available",
            "travel_mode": "walking", "location": north(metres), "shifts": None,
            "active_jobs": 0, "rating_avg": None, "rating_count": 0, **over}


def repair(**over: object) -> dict:
    return {"_id": "rep_1", "status": "open", "skill": "plumbing", "location": HERE,
            "requested_at": NOW, "declined_technician_ids": [], **over}


def test_the_nearest_free_technician_is_chosen() -> None:
    pick = assignment.choose(repair(), [tech("far", 900), tech("near", 150)], NOW, POLICY)
    assert pick["technician_id"] == "near" and pick["eta_minutes"] < 5


def test_a_booked_technician_is_not_chosen_but_listed_as_excluded() -> None:
    techs = [tech("near", 150, current_repair_id="rep_other"), tech("far", 900)]
    assert assignment.choose(repair(), techs, NOW, POLICY)["technician_id"] == "far"
    ranked, excluded = assignment.rank(repair(), techs, NOW, max_eta_minutes=30,
                                       tz="Asia/Shanghai")
    assert [c["technician_id"] for c in ranked] == ["far"] and ranked[0]["rank"] == 1
    assert excluded == [{"technician_id": "near", "name": "near",
                         "reasons": ["booked for another job"]}]


def test_someone_who_declined_the_repair_is_not_offered_it_again() -> None:
    declined = repair(declined_technician_ids=["near"])
    pick = assignment.choose(declined, [tech("near", 150), tech("far", 900)], NOW, POLICY)
    assert pick["technician_id"] == "far"


def test_nobody_is_chosen_beyond_the_max_eta() -> None:
    # 3 km on foot at 75 m/min with a 1.3 detour is ~52 minutes.
    assert assignment.choose(repair(), [tech("far", 3000)], NOW, POLICY) is None
    assert assignment.choose(repair(), [tech("ebike", 3000, travel_mode="ebike")], NOW,
                             POLICY)["technician_id"] == "ebike"


def test_a_repair_booked_for_later_or_no_longer_open_gets_nobody_yet() -> None:
    techs = [tech("near", 150)]
    later = repair(requested_at=NOW + timedelta(hours=2))
    assert assignment.choose(later, techs, NOW, POLICY) is None
    assert assignment.choose(later, techs, NOW + timedelta(hours=1, minutes=45),
                             POLICY)["technician_id"] == "near"
    assert assignment.choose(repair(status="assigned"), techs, NOW, POLICY) is None
