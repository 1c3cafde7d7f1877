"""The planner's map legend, district gaps and notice form, as plain functions."""

from __future__ import annotations

from services.web.pages.planner import (
    BUCKETS,
    colour,
    district_box,
    gaps,
    legend,
    notice_payload,
)


def _cell(cell: str, covered: int, missing: list[str]) -> dict:
    return {"properties": {"cell": cell, "basic_covered": covered, "basic_total": 13,
                           "basic_missing": missing, "centre": {"lat": 30.58, "lng": 114.27}}}


def test_every_count_of_covered_types_has_exactly_one_legend_colour():
    rows = legend(13)
    assert rows[0]["to"] == 13 and rows[-1]["from"] == 0
    for covered in range(14):
        matching = [r for r in rows if r["from"] <= covered <= r["to"]]
        assert len(matching) == 1
        assert colour(covered) == matching[0]["colour"]
    assert len({c for _, c in BUCKETS}) == len(BUCKETS)


def test_the_gaps_count_cells_per_missing_type_most_first_and_list_the_poorest_cells():
    features = [_cell("a", 11, ["breakfast", "laundry"]), _cell("b", 12, ["breakfast"]),
                _cell("c", 2, ["breakfast", "laundry", "pharmacy"])]
    found = gaps(features)
    assert found["by_type"] == [("breakfast", 3), ("laundry", 2), ("pharmacy", 1)]
    assert [c["cell"] for c in found["worst"]] == ["c", "a", "b"]
    assert found["cells"] == 3


def test_the_district_box_holds_the_demo_circle():
    box = district_box()
    assert box["south"] < 30.5801 < box["north"] and box["west"] < 114.2701 < box["east"]


def test_the_notice_form_becomes_the_api_body_for_either_audience():
    near = notice_payload({"title": " 停水 ", "body": "明天停水", "audience_kind": "near",
                           "audience.near.location.lat": "30.58",
                           "audience.near.location.lng": "114.27",
                           "audience.near.walk_minutes": "15"})
    assert near == {"title": "停水", "body": "明天停水", "audience": {"near": {
        "location": {"lat": 30.58, "lng": 114.27}, "walk_minutes": 15}}}
    named = notice_payload({"title": "义诊", "body": "周六", "audience_kind": "communities",
                            "audience.communities": "民意街社区， 花楼街社区,,"})
    assert named["audience"] == {"communities": ["民意街社区", "花楼街社区"]}
