"""Recycling drop-off end to end: a point posts rates and registers a box, a resident shows a
drop-off code, the box posts the weighed categories, the resident is credited once and the
point sees its intake."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.helpers import assert_error_shape, unique

RATES = {"paper": 800, "plastic": 1200, "metal": 2500, "textile": 300}


def test_a_drop_off_is_credited_once_and_shows_in_the_points_intake(api, resident):
    owner = (unique("merchant"), "merchant")
    point = api.post("/api/v1/merchants", as_=owner, json={
        "name": "民意社区智能回收站", "business_type": "recycling", "address": "民意街5号",
        "location": {"lat": 30.5806, "lng": 114.2712}}).json()
    r = api.request("PUT", f"/api/v1/merchants/{point['id']}/recycling-rates", as_=owner,
                    json=RATES)
    assert r.status_code == 200, r.text
    box = api.post(f"/api/v1/merchants/{point['id']}/devices", as_=owner,
                   json={"kind": "recycling_box", "name": "1号回收箱"})
    assert box.status_code == 201, box.text
    code = api.post("/api/v1/recycling/drop-off-codes", as_=resident)
    assert code.status_code == 201, code.text
    body = {"sequence": "box-000001", "code": code.json()["code"],
            "items": [{"category": "paper", "grams": 3250}, {"category": "metal", "grams": 410}],
            "amount_fen": 3625, "weighed_at": datetime.now(UTC).isoformat()}
    headers = {"X-Device-Token": box.json()["token"]}
    for _ in range(2):  # the box retries after a timeout: counted once
        r = api.post("/api/v1/recycling/drop-offs", json=body, headers=headers)
        assert r.status_code == 201, r.text
        assert r.json()["credited_fen"] == 3625 and not r.json()["amount_differs"]
    credit = api.get("/api/v1/recycling/credits/me", as_=resident).json()
    assert (credit["credit_fen"], credit["drop_offs"]) == (3625, 1)

    # the same code cannot credit anyone twice, even from another post
    again = api.post("/api/v1/recycling/drop-offs", json={**body, "sequence": "box-000002"},
                     headers=headers)
    assert_error_shape(again, 422)
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()  # the city's day
    intake = api.get(f"/api/v1/merchants/{point['id']}/recycling-intake?day={day}",
                     as_=owner).json()
    assert intake["drop_offs"] == 1 and intake["credited_fen"] == 3625, intake
    assert intake["grams"] == {"paper": 3250, "plastic": 0, "metal": 410, "textile": 0}


def test_a_scale_cannot_post_drop_offs_and_a_revoked_box_is_refused(api, resident):
    owner = (unique("merchant"), "merchant")
    point = api.post("/api/v1/merchants", as_=owner, json={
        "name": "回收站", "business_type": "recycling", "address": "民意街6号",
        "location": {"lat": 30.5806, "lng": 114.2712}}).json()
    api.request("PUT", f"/api/v1/merchants/{point['id']}/recycling-rates", as_=owner,
                json=RATES)
    scale = api.post(f"/api/v1/merchants/{point['id']}/devices", as_=owner,
                     json={"kind": "scale", "name": "秤"})
    assert_error_shape(scale, 422)  # a recycling point's device is a box
    box = api.post(f"/api/v1/merchants/{point['id']}/devices", as_=owner,
                   json={"kind": "recycling_box", "name": "箱"}).json()
    api.post(f"/api/v1/devices/{box['id']}/revoke", as_=owner)
    code = api.post("/api/v1/recycling/drop-off-codes", as_=resident).json()["code"]
    r = api.post("/api/v1/recycling/drop-offs", headers={"X-Device-Token": box["token"]},
                 json={"sequence": "s1", "code": code, "amount_fen": 8,
                       "items": [{"category": "paper", "grams": 1000}],
                       "weighed_at": datetime.now(UTC).isoformat()})
    assert_error_shape(r, 401, "unauthorized")
    assert api.get("/api/v1/recycling/credits/me", as_=resident).json()["credit_fen"] == 0
