"""Technicians' shifts at the edge: the one weekly-hours rule, stored normalised."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from services.dispatch.schemas import TechnicianCreateSchema, TechnicianUpdateSchema

NEW = {"sub": "u-li", "name": "李师傅", "skills": ["plumbing"],
       "home": {"lat": 30.58, "lng": 114.27}}


def test_shifts_are_stored_in_the_normalised_weekly_hours_form() -> None:
    loaded = TechnicianCreateSchema().load(
        {**NEW, "shifts": {"Fri": [["20:00", "2:00"]], "mon": [["13:00", "17:00"],
                                                             ["8:00", "12:00"]]}})
    assert loaded["shifts"] == {"mon": [["08:00", "12:00"], ["13:00", "17:00"]],
                                "fri": [["20:00", "02:00"]]}


def test_no_shift_plan_stays_none_and_an_empty_one_means_never_on_shift() -> None:
    assert TechnicianCreateSchema().load(NEW)["shifts"] is None
    assert TechnicianUpdateSchema().load({"shifts": {}}) == {"shifts": {}}


@pytest.mark.parametrize("shifts", [
    {"mon": [["08:00", "14:00"], ["12:00", "20:00"]]},  # overlap
    {"mon": [["24:00", "08:00"]]},  # 24:00 only closes
    {"someday": [["08:00", "12:00"]]},
    [["08:00", "12:00"]],
])
def test_malformed_shifts_are_refused_at_the_edge(shifts) -> None:
    with pytest.raises(ValidationError) as exc:
        TechnicianCreateSchema().load({**NEW, "shifts": shifts})
    assert "shifts" in exc.value.messages
