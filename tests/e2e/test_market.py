"""The wet market end to end: a stall's scale posts weighings, buyers read receipts by their
code, retries count once, revoked scales are refused, the shelf never goes below zero, and a
resident's flag reaches the market's manager."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import awake
from tests.helpers import assert_error_shape, unique, wait_for

CITY = ZoneInfo("Asia/Shanghai")
CITY_DAY_NOON = "T04:00:00+00:00"  # noon in Wuhan: the same calendar day in UTC and local


class Market:
    def __init__(self, api, stock_g: int = 20_000):
        self.api = api
        self.manager = awake(api, (unique("manager"), "market_manager"))
        self.owner = awake(api, (unique("merchant"), "merchant"))
        r = api.post("/api/v1/markets", as_=self.manager, json={"name": "新湾菜场"})
        assert r.status_code == 201, r.text
        self.market = r.json()
        r = api.post("/api/v1/merchants", as_=self.owner, json={
            "name": "张记蔬菜", "business_type": "wet_market", "address": "新湾菜场12号摊",
            "location": {"lat": 30.5806, "lng": 114.2712}})
        assert r.status_code == 201, r.text
        self.stall = r.json()
        r = api.post(f"/api/v1/markets/{self.market['id']}/stalls", as_=self.owner,
                     json={"merchant_id": self.stall["id"]})
        assert r.status_code == 200, r.text
        r = api.post(f"/api/v1/merchants/{self.stall['id']}/products", as_=self.owner, json={
            "name": "上海青", "sale_mode": "by_weight", "price_per": "500g", "unit": "斤",
            "price_fen": 598, "stock": stock_g})
        assert r.status_code == 201, r.text
        self.greens = r.json()
        r = api.post(f"/api/v1/products/{self.greens['id']}/batches", as_=self.owner, json={
            "code": "HH-1201", "origin": "湖北洪湖", "supplier": "洪湖蔬菜合作社",
            "arrived_on": "2026-12-01"})
        assert r.status_code == 201, r.text
        r = api.post(f"/api/v1/merchants/{self.stall['id']}/devices", as_=self.manager,
                     json={"kind": "scale", "name": "12号摊电子秤"})
        assert r.status_code == 201, r.text
        self.scale = r.json()

    def weigh(self, token=None, **changes):
        body = {"sequence": uuid.uuid4().hex[:16], "product_id": self.greens["id"],
                "grams": 750, "unit_price_fen": 598, "total_fen": 897,
                "weighed_at": datetime.now(UTC).isoformat(), "batch": "HH-1201", **changes}
        return self.api.post("/api/v1/scales/weighings", json=body,
                             headers={"X-Device-Token": token or self.scale["token"]})

    def shelf(self) -> dict:
        return self.api.get(f"/api/v1/products/{self.greens['id']}", as_=self.owner).json()


@pytest.fixture
def market(api):
    return Market(api)


def test_a_weighing_gets_a_receipt_anyone_with_the_code_can_read(api, market):
    r = market.weigh()
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert r.json()["url"].endswith(f"/receipt/{code}")  # the QR opens the public page
    receipt = api.get(f"/api/v1/receipts/{code}")  # no token: the slip's QR is public
    assert receipt.status_code == 200, receipt.text
    body = receipt.json()
    assert body["stall"]["name"] == "张记蔬菜" and body["product"]["name"] == "上海青"
    assert (body["grams"], body["unit_price_fen"], body["total_fen"]) == (750, 598, 897)
    assert body["batch"] == {"code": "HH-1201", "origin": "湖北洪湖",
                             "supplier": "洪湖蔬菜合作社", "arrived_on": "2026-12-01"}
    assert "buyer" not in str(body) and "device" not in str(body)
    assert market.shelf()["stock"] == 20_000 - 750
    assert_error_shape(api.get("/api/v1/receipts/0000000000"), 404)


def test_a_retried_post_is_recorded_once(api, market):
    first = market.weigh(sequence="seq-000042")
    again = market.weigh(sequence="seq-000042")
    assert first.status_code == again.status_code == 201
    assert again.json()["code"] == first.json()["code"]
    assert market.shelf()["stock"] == 20_000 - 750
    reused = market.weigh(sequence="seq-000042", grams=1000, total_fen=1196)
    assert_error_shape(reused, 409)


def test_a_revoked_or_unknown_scale_is_refused(api, market):
    assert_error_shape(market.weigh(token="lcd_" + "x" * 43), 401, "unauthorized")
    assert_error_shape(api.post("/api/v1/scales/weighings", json={}), 401)
    r = api.post(f"/api/v1/devices/{market.scale['id']}/revoke", as_=market.owner)
    assert r.status_code == 200 and r.json()["revoked_at"], r.text
    assert_error_shape(market.weigh(), 401, "unauthorized")
    assert market.shelf()["stock"] == 20_000


def test_concurrent_weighings_never_take_the_shelf_below_zero(api):
    market = Market(api, stock_g=3_000)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: market.weigh(), range(8)))  # 8 x 750 g of 3 kg
    assert all(r.status_code == 201 for r in answers), [r.text for r in answers]
    shelf = market.shelf()
    assert shelf["stock"] == 0 and shelf["sold"] == 3_000
    today = datetime.now(CITY).date().isoformat()
    shorts = api.get(f"/api/v1/markets/{market.market['id']}/mismatches?day={today}",
                     as_=market.manager)
    # Every sale is recorded; the four the shelf could not cover are shown, not hidden.
    found = [m["kind"] for w in shorts.json()["items"] for m in w["mismatches"]]
    assert found.count("stock_short") == 4


def test_mismatches_are_recorded_as_weighed_and_shown_to_the_manager(api, market):
    day = "2026-12-01"
    ok = market.weigh(weighed_at=day + CITY_DAY_NOON)
    dear = market.weigh(weighed_at=day + CITY_DAY_NOON, unit_price_fen=698, total_fen=1047,
                        batch="NOPE")
    assert ok.status_code == dear.status_code == 201
    receipt = api.get(f"/api/v1/receipts/{dear.json()['code']}").json()
    assert receipt["total_fen"] == 1047  # what was charged, never silently corrected
    url = f"/api/v1/markets/{market.market['id']}"
    shown = api.get(f"{url}/mismatches?day={day}", as_=market.manager).json()["items"]
    assert [w["code"] for w in shown] == [dear.json()["code"]]
    assert {m["kind"] for m in shown[0]["mismatches"]} == {"unit_price", "total",
                                                            "unknown_batch"}
    stalls = api.get(f"{url}/weighings?day={day}", as_=market.manager).json()["stalls"]
    assert stalls == [{"merchant_id": market.stall["id"], "name": "张记蔬菜", "weighings": 2,
                       "grams": 1500, "total_fen": 897 + 1047, "mismatched": 1,
                       "flagged": 0}]
    other = awake(api, (unique("manager"), "market_manager"))
    assert_error_shape(api.get(f"{url}/mismatches?day={day}", as_=other), 403)


def test_a_manager_lists_the_markets_they_opened_and_no_one_elses(api, market):
    mine = api.get("/api/v1/me/markets", as_=market.manager)
    assert mine.status_code == 200, mine.text
    assert [m["id"] for m in mine.json()["items"]] == [market.market["id"]]
    assert mine.json()["items"][0]["stall_ids"] == [market.stall["id"]]
    other = (unique("manager"), "market_manager")
    assert api.get("/api/v1/me/markets", as_=other).json()["items"] == []


def test_a_flagged_receipt_reaches_the_manager_once(api, market, resident):
    code = market.weigh().json()["code"]
    for _ in range(2):
        r = api.post(f"/api/v1/receipts/{code}/flag", as_=resident,
                     json={"reason": "到家称了只有600克"})
        assert r.status_code == 200, r.text

    def flagged():
        items = api.get("/api/v1/notifications", as_=market.manager).json()["items"]
        return [n for n in items if code in n["body"]]

    notes = wait_for(flagged, what="the manager's notification")
    assert "到家称了只有600克" in notes[0]["body"]
    assert len(flagged()) == 1
    today = datetime.now(CITY).date().isoformat()
    shown = api.get(f"/api/v1/markets/{market.market['id']}/mismatches?day={today}",
                    as_=market.manager).json()["items"]
    assert [(w["code"], w["flags"]) for w in shown] == [(code, 1)]
