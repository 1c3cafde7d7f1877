"""The demo circle that `make run` loads: it loads through the public API, loads only once,
and shows what the walk-through promises (a set meal, a gap, a nearby plumber)."""

from __future__ import annotations

import uuid

from services import demo
from tests.helpers import wait_for


def test_the_demo_circle_loads_once_and_tells_its_story(system, api, tmp_path):
    ids = demo.load(system.base_url, tmp_path)
    assert demo.load(system.base_url, tmp_path) == ids  # a restart does not load it twice

    li = ("resident-li", "resident")
    menu = api.get(f"/api/v1/merchants/{ids['merchants']['merchant-canteen']}/products",
                   as_=li).json()["items"]
    assert {(p["name"], p["price_fen"], p["unit"]) for p in menu} >= {("两荤一素套餐", 1600, "份")}
    greens = api.get(f"/api/v1/products/{ids['products']['本地上海青']}", as_=li).json()
    assert greens["sale_mode"] == "by_weight" and greens["origin"]["place"] == "湖北武汉东西湖"

    home = demo.RESIDENTS["resident-li"]["location"]
    coverage = api.get("/api/v1/coverage", as_=("planner-jianghan", "planner"),
                       params={"lat": home["lat"], "lng": home["lng"]}).json()
    assert {"breakfast", "laundry", "housekeeping"} <= set(coverage["missing"])

    repair = api.post("/api/v1/repairs", as_=li, headers={"Idempotency-Key": str(uuid.uuid4())},
                      json={"skill": "plumbing", "description": "厨房水龙头一直滴水",
                            "address": "民意街12号", "location": home}).json()
    ranked = wait_for(lambda: api.get(f"/api/v1/repairs/{repair['id']}/candidates",
                                      as_=("dispatcher-jianghan", "dispatcher"))
                      .json()["candidates"], what="candidates")
    assert ranked[0]["technician_id"] == ids["technicians"]["tech-wang"]
    assert ranked[0]["eta_minutes"] < 15

    # the wet market: a receipt anyone can read by its code, shown in the walk-through
    market = ids["market"]
    assert set(market["scales"]) == {"merchant-wang", "merchant-liu"}
    receipt = api.get(f"/api/v1/receipts/{market['receipt']}").json()
    assert (receipt["product"]["name"], receipt["grams"], receipt["total_fen"]) == (
        "本地上海青", 750, 450)
    assert receipt["batch"]["origin"] == "湖北武汉东西湖"
    assert receipt["batch"]["supplier"] == "东西湖蔬菜合作社"
    assert f"/api/v1/receipts/{market['receipt']}" in demo.walkthrough(system.base_url, ids)

    # recycling: 张先生's first drop-off is on his account; the walk-through drops off again
    zhang = ("resident-zhang", "resident")
    credit = api.get("/api/v1/recycling/credits/me", as_=zhang).json()
    assert (credit["credit_fen"], credit["drop_offs"]) == (3625, 1)
    assert "/api/v1/recycling/drop-offs" in demo.walkthrough(system.base_url, ids)
