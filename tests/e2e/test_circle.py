"""The 15-minute circle over HTTP, against the running system: business types, near me,
goods near me, coverage, and the owner's control over goods."""

from __future__ import annotations

import random

import pytest

from services.common.geo import destination
from tests.helpers import assert_error_shape, unique


class Circle:
    """A few shops around a home of its own, far from anything other tests create."""

    def __init__(self, api):
        self.api = api
        self.home = (random.uniform(35.0, 40.0), random.uniform(100.0, 110.0))
        self.owner = (unique("merchant"), "merchant")
        self.resident = (unique("resident"), "resident")

    def shop(self, name, business_type, metres, bearing=0.0, owner=None, **extra):
        lat, lng = destination(*self.home, bearing, metres)
        r = self.api.post("/api/v1/merchants", as_=owner or self.owner, json={
            "name": name, "business_type": business_type,
            "location": {"lat": lat, "lng": lng}, "address": f"{name}门口", **extra})
        assert r.status_code == 201, r.text
        return r.json()

    def product(self, merchant, owner=None, **data):
        r = self.api.post(f"/api/v1/merchants/{merchant['id']}/products",
                          as_=owner or self.owner, json=data)
        assert r.status_code == 201, r.text
        return r.json()

    def near(self, path, **params):
        return self.api.get(path, as_=self.resident,
                            params={"lat": self.home[0], "lng": self.home[1], **params})


@pytest.fixture
def circle(api):
    return Circle(api)


def test_the_business_type_table_is_public(api):
    r = api.get("/api/v1/business-types")
    assert r.status_code == 200, r.text
    types = {t["code"]: t for t in r.json()["items"]}
    assert types["wet_market"]["name_zh"] == "菜市场"
    assert types["wet_market"]["category"] == "basic"
    assert types["breakfast"]["target_walk_minutes"] == 10


def test_a_resident_finds_the_shops_within_a_walk_nearest_first(circle):
    far = circle.shop("远处超市", "supermarket", 1200)
    pharmacy = circle.shop("药房", "pharmacy", 400, 90)
    corner = circle.shop("楼下便利店", "convenience_store", 80, 180,
                         secondary_types=["photo_print"])

    r = circle.near("/api/v1/merchants", walk_minutes=15)
    assert r.status_code == 200, r.text
    page = r.json()
    assert [m["id"] for m in page["items"]] == [corner["id"], pharmacy["id"]]
    assert far["id"] not in {m["id"] for m in page["items"]}
    assert page["items"][0]["walk_minutes"] == pytest.approx(1.4, abs=0.1)
    assert page["items"][1]["distance_m"] == pytest.approx(400, abs=1)

    printing = circle.near("/api/v1/merchants", business_type="photo_print").json()
    assert [m["id"] for m in printing["items"]] == [corner["id"]]


def test_registering_a_shop_still_works_beside_the_near_me_search(circle):
    made = circle.shop("新店", "florist_gifts", 10)
    r = circle.api.get(f"/api/v1/merchants/{made['id']}", as_=circle.resident)
    assert r.status_code == 200 and r.json()["name"] == "新店"


BAD_POINTS = [
    ({"lat": 91, "lng": 114.27}, "lat"),
    ({"lat": 30.58, "lng": "x"}, "lng"),
    ({"lat": "nan", "lng": 114.27}, "lat"),
    ({"lng": 114.27}, "lat"),
]
BAD_WALKS = [
    ({"lat": 30.58, "lng": 114.27, "walk_minutes": 0}, "walk_minutes"),
    ({"lat": 30.58, "lng": 114.27, "walk_minutes": 1000}, "walk_minutes"),
]
CASES = [(path, params, field)
         for path in ("/api/v1/merchants", "/api/v1/products", "/api/v1/coverage")
         for params, field in BAD_POINTS + (BAD_WALKS if "coverage" not in path else [])]


@pytest.mark.parametrize("path, params, field", CASES)
def test_bad_coordinates_get_the_error_shape(api, path, params, field):
    if path == "/api/v1/products":
        params = {**params, "q": "鸡蛋"}
    r = api.get(path, as_=("planner-e2e", "planner"), params=params)
    error = assert_error_shape(r, 422, "validation_error")
    assert field in error["details"], error


def test_goods_are_found_by_name_with_weight_pricing_and_origin(circle):
    market = circle.shop("菜场摊位", "wet_market", 500)
    corner = circle.shop("楼下便利店", "convenience_store", 100, 90)
    boxed = circle.product(corner, name="鸡蛋 10枚", unit="盒", price_fen=1290, stock=30)
    free_range = circle.product(market, name="土鸡蛋", sale_mode="by_weight", price_per="500g",
                                unit="斤", price_fen=1200, stock=15000,
                                origin={"supplier": "恩施山地养殖场", "place": "湖北恩施"})
    circle.product(corner, name="鸡胸肉", sale_mode="by_weight", price_per="kg", unit="公斤",
                   price_fen=3000, stock=5000)

    r = circle.near("/api/v1/products", q="鸡蛋")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [p["id"] for p in items] == [boxed["id"], free_range["id"]]
    eggs = items[1]
    assert eggs["merchant_name"] == "菜场摊位"
    assert (eggs["sale_mode"], eggs["price_per"], eggs["unit"]) == ("by_weight", "500g", "斤")
    assert eggs["origin"]["place"] == "湖北恩施"
    assert eggs["walk_minutes"] == pytest.approx(500 * 1.3 / 75, abs=0.1)

    # unavailable goods disappear from the search, and come back
    r = circle.api.patch(f"/api/v1/products/{boxed['id']}", as_=circle.owner,
                         json={"available": False})
    assert r.status_code == 200, r.text
    assert [p["id"] for p in circle.near("/api/v1/products", q="鸡蛋").json()["items"]] == [
        free_range["id"]]


def test_only_the_owner_changes_deletes_and_audits_goods(circle):
    corner = circle.shop("楼下便利店", "convenience_store", 100)
    noodles = circle.product(corner, name="挂面 1kg", unit="袋", price_fen=850, stock=40)
    other = (unique("merchant"), "merchant")
    path = f"/api/v1/products/{noodles['id']}"

    assert_error_shape(circle.api.patch(path, as_=other, json={"stock": 0}), 403, "forbidden")
    assert_error_shape(circle.api.request("DELETE", path, as_=other), 403, "forbidden")
    assert_error_shape(circle.api.get(f"{path}/stock-history", as_=other), 403, "forbidden")
    assert_error_shape(circle.api.get(f"{path}/stock-history", as_=circle.resident), 403,
                       "forbidden")

    assert circle.api.patch(path, as_=circle.owner, json={"stock": 32}).status_code == 200
    history = circle.api.get(f"{path}/stock-history", as_=circle.owner).json()["items"]
    assert [(e["by"], e["from"], e["to"]) for e in history] == [
        (circle.owner[0], 0, 40), (circle.owner[0], 40, 32)]

    assert circle.api.request("DELETE", path, as_=circle.owner).status_code == 204
    assert_error_shape(circle.api.get(path, as_=circle.owner), 404, "not_found")
    assert circle.near("/api/v1/products", q="挂面").json()["items"] == []
    assert_error_shape(circle.api.request("DELETE", path, as_=circle.owner), 404, "not_found")


def test_a_planner_sees_what_the_circle_lacks_basic_gaps_first(circle):
    circle.shop("便利店", "convenience_store", 100, secondary_types=["laundry"])
    circle.shop("菜场", "wet_market", 300, 90)
    circle.shop("药房", "pharmacy", 700, 180)
    planner = (unique("planner"), "planner")

    assert_error_shape(circle.api.get("/api/v1/coverage", as_=circle.resident,
                                      params={"lat": circle.home[0], "lng": circle.home[1]}),
                       403, "forbidden")
    r = circle.api.get("/api/v1/coverage", as_=planner,
                       params={"lat": circle.home[0], "lng": circle.home[1]})
    assert r.status_code == 200, r.text
    report = r.json()
    missing = report["missing"]
    basic = ["supermarket", "fresh_produce", "breakfast", "hair_beauty", "photo_print",
             "housekeeping", "repair_point", "postal_express", "recycling"]
    assert missing[:len(basic)] == basic
    assert "laundry" not in missing and "pharmacy" not in missing
    assert report["summary"]["basic"] == {"covered": 4, "total": 13}

    r = circle.api.get("/api/v1/coverage/area", as_=planner, params={
        "points": f"{circle.home[0]},{circle.home[1]}", "res": 9})
    assert r.status_code == 200, r.text
    feature = r.json()["features"][0]
    assert feature["properties"]["basic_covered"] == 4
    assert feature["geometry"]["type"] == "Polygon"


def test_an_area_map_refuses_a_box_too_large_or_inverted(api):
    planner = ("planner-e2e", "planner")
    for params in ({"south": 29.0, "west": 113.0, "north": 31.5, "east": 115.5, "res": 9},
                   {"south": 31.0, "west": 114.0, "north": 30.0, "east": 115.0},
                   {"south": 30.0, "west": 114.0, "res": 8},
                   {"south": 30.0, "west": 114.0, "north": 30.1, "east": 114.1, "res": 5}):
        assert_error_shape(api.get("/api/v1/coverage/area", as_=planner, params=params),
                           422, "validation_error")


def test_a_shopkeeper_edits_the_shop_and_the_circle_sees_it_at_once(circle, api):
    shop = circle.shop("早点铺", "breakfast", 300, opening_hours={
        d: [["06:00", "06:01"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    product = circle.product(shop, name="热干面", unit="碗", price_fen=600, stock=30)
    assert shop["id"] not in [m["id"] for m in circle.near("/api/v1/merchants",
                                                           open_now="true").json()["items"]]

    path = f"/api/v1/merchants/{shop['id']}"
    r = api.patch(path, as_=circle.owner, json={
        "opening_hours": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri",
                                                             "sat", "sun")},
        "delivery": {"fee_fen": 300}})
    assert r.status_code == 200, r.text
    assert r.json()["delivery"] == {"max_walk_minutes": 15, "fee_fen": 300, "min_order_fen": 0}
    assert shop["id"] in [m["id"] for m in circle.near("/api/v1/merchants",
                                                       open_now="true").json()["items"]]

    goods = circle.near("/api/v1/products", q="热干面").json()["items"]
    assert product["id"] in [g["id"] for g in goods]

    # The shop moves 5 km away: it and its goods leave this circle.
    lat, lng = destination(*circle.home, 45.0, 5000)
    r = api.patch(path, as_=circle.owner, json={"location": {"lat": lat, "lng": lng}})
    assert r.status_code == 200 and r.json()["h3_cell"] != shop["h3_cell"]
    assert shop["id"] not in [m["id"] for m in circle.near("/api/v1/merchants").json()["items"]]
    goods = circle.near("/api/v1/products", q="热干面").json()["items"]
    assert product["id"] not in [g["id"] for g in goods]

    assert_error_shape(api.patch(path, as_=(unique("merchant"), "merchant"),
                                 json={"name": "抢来的店"}), 403, "forbidden")
    assert_error_shape(api.patch(path, as_=circle.owner, json={}), 422, "validation_error")
    assert_error_shape(api.patch(path, as_=circle.owner, json={"business_type": "spaceport"}),
                       422, "validation_error")
    assert api.get(path, as_=circle.resident).json()["name"] == "早点铺"
