"""The catalog's 15-minute-circle queries through its RPC entrypoints, on real RabbitMQ and the
real embedded store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from nameko.testing.services import entrypoint_hook

from services.catalog.service import CatalogService
from services.common.clock import ClockProvider
from services.common.errors import Forbidden, InvalidInput, NotFound
from services.common.geo import destination

# A quiet spot away from the demo circle; every test builds its own circle in its own store.
HOME = (30.6000, 114.3000)
OWNER = {"sub": "merchant-owner", "role": "merchant"}
OTHER = {"sub": "merchant-other", "role": "merchant"}
PLANNER = {"sub": "planner-chen", "role": "planner"}
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
def catalog(container_factory, service_config):
    container = container_factory(CatalogService, service_config)
    container.start()
    return container


def call(container, method, **kwargs):
    with entrypoint_hook(container, method) as hook:
        return hook(**kwargs)


def shop(container, name, business_type, metres, bearing=0.0, owner=OWNER, **extra):
    lat, lng = destination(*HOME, bearing, metres)
    return call(container, "create_merchant", actor=owner, merchant={
        "name": name, "business_type": business_type, "location": {"lat": lat, "lng": lng},
        "address": f"{name}门口", **extra})


def near(container, **query):
    return call(container, "near_merchants",
                query={"lat": HOME[0], "lng": HOME[1], **query})


def set_clock(container, local: datetime) -> None:
    """Move the service's clock so that its now() is this Asia/Shanghai wall-clock time."""
    provider = next(e for e in container.extensions if isinstance(e, ClockProvider))
    provider.clock.offset = local.astimezone(UTC) - datetime.now(UTC)


def test_merchants_within_the_walk_come_nearest_first_and_a_farther_one_is_left_out(catalog):
    far = shop(catalog, "远处超市", "supermarket", 900)  # 15.6 min > 15
    mid = shop(catalog, "中间药房", "pharmacy", 500, 90)
    close = shop(catalog, "楼下便利店", "convenience_store", 120, 200)

    page = near(catalog, walk_minutes=15)

    assert [m["id"] for m in page["items"]] == [close["id"], mid["id"]]
    assert far["id"] not in {m["id"] for m in page["items"]}
    assert page["total"] == 2
    first = page["items"][0]
    assert first["distance_m"] == pytest.approx(120, abs=0.5)
    assert first["walk_minutes"] == pytest.approx(120 * 1.3 / 75, abs=0.05)
    assert first["open_now"] is True  # no hours given: not hidden


def test_a_shorter_walk_leaves_out_the_middle_shop_and_pages_split_the_rest(catalog):
    for i in range(5):
        shop(catalog, f"便利店{i}", "convenience_store", 50 + 40 * i, 30.0 * i)
    shop(catalog, "中间药房", "pharmacy", 500, 90)  # 8.7 min

    short = near(catalog, walk_minutes=5, page=2, page_size=2)

    assert short["total"] == 5
    assert [m["name"] for m in short["items"]] == ["便利店2", "便利店3"]


def test_a_shop_offering_the_type_as_a_secondary_service_is_found(catalog):
    corner = shop(catalog, "惠民便利店", "convenience_store", 300, secondary_types=["laundry"])
    shop(catalog, "远处洗衣店", "laundry", 2000)
    shop(catalog, "水果店", "fresh_produce", 100)

    page = near(catalog, business_type="laundry")

    assert [m["id"] for m in page["items"]] == [corner["id"]]
    assert page["items"][0]["secondary_types"] == ["laundry"]


def test_open_now_follows_the_service_clock_including_the_closing_minute(catalog):
    breakfast = shop(catalog, "早点铺", "breakfast", 200,
                     opening_hours={d: [["06:30", "09:30"]] for d in EVERY_DAY})
    late = shop(catalog, "夜宵店", "specialty_dining", 250,
                opening_hours={d: [["18:00", "02:00"]] for d in EVERY_DAY})
    tomorrow = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)

    def at(hh, mm):
        return datetime(tomorrow.year, tomorrow.month, tomorrow.day, hh, mm,
                        tzinfo=ZoneInfo("Asia/Shanghai"))

    set_clock(catalog, at(7, 0))
    assert [m["id"] for m in near(catalog, open_now=True)["items"]] == [breakfast["id"]]
    set_clock(catalog, at(9, 30))  # the closing minute is closed
    assert near(catalog, open_now=True)["items"] == []
    set_clock(catalog, at(1, 59))  # yesterday's late shift, past midnight
    assert [m["id"] for m in near(catalog, open_now=True)["items"]] == [late["id"]]
    every = near(catalog)["items"]
    assert {m["id"]: m["open_now"] for m in every} == {breakfast["id"]: False, late["id"]: True}


def test_bad_coordinates_are_refused_by_the_service_too(catalog):
    for query in ({"lat": 91, "lng": 114.3}, {"lat": 30.6, "lng": "x"},
                  {"lat": 30.6, "lng": 114.3, "walk_minutes": 0},
                  {"lat": 30.6, "lng": 114.3, "walk_minutes": 1000}):
        with pytest.raises(InvalidInput) as err:
            call(catalog, "near_merchants", query=query)
        assert set(err.value.details) <= {"lat", "lng", "walk_minutes"}


# --- goods -------------------------------------------------------------------------------------


def product(container, merchant, owner=OWNER, **data):
    return call(container, "create_product", actor=owner, merchant_id=merchant["id"],
                product=data)


def test_searching_eggs_finds_eggs_by_relevance_then_distance(catalog):
    market = shop(catalog, "民意菜场", "wet_market", 600)
    corner = shop(catalog, "楼下便利店", "convenience_store", 100, 90)
    far = shop(catalog, "城外超市", "supermarket", 3000)
    exact = product(catalog, market, name="鸡蛋", unit="个", price_fen=80, stock=100)
    boxed = product(catalog, corner, name="鸡蛋 10枚", unit="盒", price_fen=1290, stock=30)
    free_range = product(catalog, corner, name="土鸡蛋", sale_mode="by_weight",
                         price_per="500g", unit="斤", price_fen=1200, stock=15000,
                         origin={"place": "湖北恩施", "batch": "ES-1127"})
    product(catalog, corner, name="鸡胸肉", sale_mode="by_weight", price_per="500g",
            unit="斤", price_fen=1500, stock=5000)
    product(catalog, far, name="鸡蛋", unit="个", price_fen=70, stock=100)
    product(catalog, corner, name="鸡蛋 30枚", unit="盒", price_fen=3500, stock=5,
            available=False)
    gone = product(catalog, corner, name="鸡蛋 5枚", unit="盒", price_fen=700, stock=5)
    call(catalog, "delete_product", actor=OWNER, product_id=gone["id"])

    page = call(catalog, "near_products",
                query={"lat": HOME[0], "lng": HOME[1], "walk_minutes": 15, "q": "鸡蛋"})

    assert [p["id"] for p in page["items"]] == [exact["id"], boxed["id"], free_range["id"]]
    weighed = page["items"][2]
    assert weighed["merchant_name"] == "楼下便利店"
    assert (weighed["sale_mode"], weighed["price_per"], weighed["price_fen"]) == (
        "by_weight", "500g", 1200)
    assert weighed["origin"]["place"] == "湖北恩施"
    assert weighed["walk_minutes"] == pytest.approx(100 * 1.3 / 75, abs=0.05)


def test_a_renamed_product_is_found_by_its_new_name(catalog):
    corner = shop(catalog, "楼下便利店", "convenience_store", 100)
    item = product(catalog, corner, name="矿泉水", unit="瓶", price_fen=200, stock=10)
    call(catalog, "update_product", actor=OWNER, product_id=item["id"],
         changes={"name": "农夫山泉 550ml"})
    query = {"lat": HOME[0], "lng": HOME[1], "q": "农夫山泉"}
    assert [p["id"] for p in call(catalog, "near_products", query=query)["items"]] == [item["id"]]


def test_another_owner_cannot_change_delete_or_audit_goods(catalog):
    corner = shop(catalog, "楼下便利店", "convenience_store", 100)
    item = product(catalog, corner, name="挂面", unit="袋", price_fen=850, stock=40)
    with pytest.raises(Forbidden):
        call(catalog, "update_product", actor=OTHER, product_id=item["id"],
             changes={"stock": 0})
    with pytest.raises(Forbidden):
        call(catalog, "delete_product", actor=OTHER, product_id=item["id"])
    with pytest.raises(Forbidden):
        call(catalog, "stock_history", actor=OTHER, product_id=item["id"])
    assert call(catalog, "get_product", product_id=item["id"])["stock"] == 40


def test_stock_changes_are_audited_and_a_deleted_product_is_gone(catalog):
    corner = shop(catalog, "楼下便利店", "convenience_store", 100)
    item = product(catalog, corner, name="挂面", unit="袋", price_fen=850, stock=40)
    call(catalog, "update_product", actor=OWNER, product_id=item["id"], changes={"stock": 35})
    call(catalog, "update_product", actor=OWNER, product_id=item["id"],
         changes={"price_fen": 900})  # not a stock change: not in the history

    history = call(catalog, "stock_history", actor=OWNER, product_id=item["id"])
    assert [(e["by"], e["from"], e["to"]) for e in history["items"]] == [
        ("merchant-owner", 0, 40), ("merchant-owner", 40, 35)]
    assert all(e["at"].endswith("+00:00") for e in history["items"])

    call(catalog, "delete_product", actor=OWNER, product_id=item["id"])
    with pytest.raises(NotFound):
        call(catalog, "get_product", product_id=item["id"])
    assert call(catalog, "list_products", merchant_id=corner["id"])["total"] == 0
    # the owner still sees what happened to it
    assert len(call(catalog, "stock_history", actor=OWNER, product_id=item["id"])["items"]) == 2


# --- coverage ----------------------------------------------------------------------------------

BASIC_PRESENT = ["convenience_store", "wet_market", "fresh_produce", "hair_beauty",
                 "photo_print", "repair_point", "postal_express", "recycling"]


def test_coverage_lists_the_missing_types_of_a_constructed_circle_basic_first(catalog):
    for i, code in enumerate(BASIC_PRESENT):
        shop(catalog, f"店{i}", code, 150, i * 40.0)
    shop(catalog, "超市", "supermarket", 700)  # 12.1 min: beyond its 10-minute target
    shop(catalog, "药房", "pharmacy", 800, 180)  # 13.9 min: within its 15-minute target
    shop(catalog, "家政", "housekeeping", 150, 300, secondary_types=["laundry"])
    shop(catalog, "健身房", "fitness", 400)
    shop(catalog, "书店", "bookstore", 3000)  # 52 min: beyond the search radius

    report = call(catalog, "coverage", actor=PLANNER,
                  query={"lat": HOME[0], "lng": HOME[1]})

    basic_missing = ["supermarket", "breakfast"]
    assert report["missing"][:2] == basic_missing
    quality = {t["code"] for t in report["types"] if t["category"] == "quality"}
    assert set(report["missing"][2:]) == quality - {"fitness"}
    by_code = {t["code"]: t for t in report["types"]}
    assert by_code["supermarket"]["nearest"]["walk_minutes"] == pytest.approx(12.1, abs=0.05)
    assert by_code["pharmacy"]["covered"] is True
    assert by_code["laundry"]["covered"] is True  # a secondary service counts
    assert by_code["bookstore"]["nearest"] is None
    assert report["summary"]["basic"] == {"covered": 11, "total": 13}


def test_coverage_is_for_planners(catalog):
    with pytest.raises(Forbidden):
        call(catalog, "coverage", actor=OWNER, query={"lat": HOME[0], "lng": HOME[1]})


def test_an_area_map_counts_covered_basic_types_per_cell(catalog):
    for i, code in enumerate(BASIC_PRESENT):
        shop(catalog, f"店{i}", code, 100, i * 40.0)
    sw = destination(*destination(*HOME, 180, 2500), 270, 2500)
    ne = destination(*destination(*HOME, 0, 2500), 90, 2500)

    area = call(catalog, "coverage_area", actor=PLANNER, query={
        "south": sw[0], "west": sw[1], "north": ne[0], "east": ne[1], "res": 8})

    assert area["type"] == "FeatureCollection"
    counts = {f["id"]: f["properties"]["basic_covered"] for f in area["features"]}
    assert len(counts) > 10
    assert max(counts.values()) == len(BASIC_PRESENT)
    assert min(counts.values()) == 0  # cells 2 km out have nothing within a walk
    feature = area["features"][0]
    ring = feature["geometry"]["coordinates"][0]
    assert feature["geometry"]["type"] == "Polygon" and ring[0] == ring[-1]
    assert feature["properties"]["basic_total"] == 13


def test_an_area_map_of_community_points_gives_the_cells_they_lie_in(catalog):
    for i, code in enumerate(BASIC_PRESENT):
        shop(catalog, f"店{i}", code, 100, i * 40.0)
    far = destination(*HOME, 0, 5000)
    area = call(catalog, "coverage_area", actor=PLANNER, query={
        "points": f"{HOME[0]},{HOME[1]};{far[0]},{far[1]}", "res": 9})
    by_point = {tuple(f["properties"]["points"]): f["properties"] for f in area["features"]}
    assert by_point[(0,)]["basic_covered"] == len(BASIC_PRESENT)
    assert by_point[(1,)]["basic_covered"] == 0


def test_an_area_too_large_for_the_resolution_is_refused(catalog):
    with pytest.raises(InvalidInput):
        call(catalog, "coverage_area", actor=PLANNER,
             query={"south": 29.0, "west": 113.0, "north": 31.5, "east": 115.5, "res": 9})
