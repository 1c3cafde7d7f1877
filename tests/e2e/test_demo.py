"""The demo circle that `make run` loads: it loads through the public API, loads only once,
and shows what the walk-through promises (a set meal, a gap, a nearby plumber)."""

from __future__ import annotations

import re
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

    # A payment: 李奶奶 orders the set meal and pays online; the book room takes no cash.
    order = api.post("/api/v1/orders", as_=li, headers={"Idempotency-Key": str(uuid.uuid4())},
                     json={"merchant_id": ids["merchants"]["merchant-canteen"],
                           "items": [{"product_id": ids["products"]["两荤一素套餐"],
                                      "quantity": 1}],
                           "delivery": {"address": "民意街12号", "location": home}}).json()
    wait_for(lambda: api.get(f"/api/v1/orders/{order['id']}", as_=li).json()["status"]
             == "confirmed", what="the order confirmed")
    pay_url = api.post(f"/api/v1/orders/{order['id']}/payment", as_=li,
                       json={"method": "online"}).json()["payment"]["pay_url"]
    paid = api.post(pay_url, as_=li, json={"outcome": "paid"}).json()["payment"]
    assert (paid["status"], paid["paid_fen"]) == ("paid", 1600)
    books = api.get(f"/api/v1/merchants/{ids['merchants']['merchant-books']}", as_=li).json()
    assert books["cash_on_delivery"] is False
    assert "/api/v1/payments/sandbox/ORDER_ID" in demo.walkthrough(system.base_url, ids)

    # A feedback: she complains about the stall's scale; the community's planner sees it.
    stall = ids["merchants"]["merchant-wang"]
    sent = api.post("/api/v1/feedback", as_=li, json={
        "kind": "complaint", "subject_type": "shop", "subject_id": stall,
        "text": "上海青称重好像少了二两"}).json()
    planner = ("planner-jianghan", "planner")
    about = api.get("/api/v1/feedback", as_=planner,
                    params={"subject_type": "shop", "subject_id": stall}).json()["items"]
    assert sent["id"] in [f["id"] for f in about]
    answered = api.post(f"/api/v1/feedback/{sent['id']}/answer", as_=planner,
                        json={"text": "已请市场管理处复核电子秤"}).json()
    assert answered["status"] == "answered"
    assert "/api/v1/feedback?subject_type=shop" in demo.walkthrough(system.base_url, ids)

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
    # the manager's day in the walk-through is the day the demo's scale weighed in
    day = re.search(r"/weighings\?day=([0-9-]+)", demo.walkthrough(system.base_url, ids))[1]
    stalls = api.get(f"/api/v1/markets/{market['id']}/weighings", params={"day": day},
                     as_=(demo.MARKET_MANAGER, "market_manager")).json()["stalls"]
    wang = ids["merchants"]["merchant-wang"]
    assert [s["weighings"] for s in stalls if s["merchant_id"] == wang] == [1]

    # recycling: 张先生's first drop-off is on his account; the walk-through drops off again
    zhang = ("resident-zhang", "resident")
    credit = api.get("/api/v1/recycling/credits/me", as_=zhang).json()
    assert (credit["credit_fen"], credit["drop_offs"]) == (3625, 1)
    assert "/api/v1/recycling/drop-offs" in demo.walkthrough(system.base_url, ids)
