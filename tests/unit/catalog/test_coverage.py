import h3
import pytest

from services.catalog.coverage import cell_boundary_geojson, cells_for_bbox, coverage
from services.catalog.taxonomy import BUSINESS_TYPES
from services.common.geo import TravelModel, destination

ORIGIN = (31.2304, 121.4737)


def shop(_id, business_type, dist_m, bearing=0.0, secondary=None):
    lat, lng = destination(*ORIGIN, bearing, dist_m)
    m = {"_id": _id, "name": f"shop {_id}", "business_type": business_type,
         "location": {"lat": lat, "lng": lng}}  # fmt: skip
    if secondary is not None:
        m["secondary_types"] = secondary
    return m


# Default model: 10 min ≈ 576.9 m, 15 min ≈ 865.4 m straight line.
DELIBERATE = [
    shop("q-fit", "fitness", 870),  # 15.08 min > 15: quality gap, listed first on purpose
    shop("b-super", "supermarket", 600),  # 10.4 min > 10: basic gap
    shop("b-pharm", "pharmacy", 900, 90),  # 15.6 min > 15: basic gap
    shop("b-wet", "wet_market", 300, 180, secondary=["fresh_produce"]),  # covers both
    shop("x-casino", "casino", 50),  # unknown type: ignored
    {"_id": "broken", "name": "no location", "business_type": "laundry"},  # skipped
]
ALREADY = {"fitness", "supermarket", "pharmacy", "wet_market", "fresh_produce"}
ABSENT = {"laundry", "cafe"}  # nobody at all
FILLERS = [
    shop(f"f-{t['code']}", t["code"], 200, i * 15.0)
    for i, t in enumerate(reversed(BUSINESS_TYPES))
    if t["code"] not in ALREADY | ABSENT
]


def test_the_constructed_circle_misses_exactly_the_expected_types_basic_first():
    result = coverage(*ORIGIN, DELIBERATE + FILLERS, TravelModel())
    assert result["missing"] == ["supermarket", "laundry", "pharmacy", "cafe", "fitness"]
    assert result["skipped_merchants"] == 1
    assert result["summary"] == {
        "basic": {"covered": 10, "total": 13},
        "quality": {"covered": 8, "total": 10},
    }


def test_every_taxonomy_type_is_reported_in_taxonomy_order():
    result = coverage(*ORIGIN, DELIBERATE + FILLERS, TravelModel())
    assert [t["code"] for t in result["types"]] == [t["code"] for t in BUSINESS_TYPES]


def test_an_uncovered_type_still_reports_its_nearest_merchant():
    by_code = {t["code"]: t for t in coverage(*ORIGIN, DELIBERATE, TravelModel())["types"]}
    sup = by_code["supermarket"]
    assert sup["covered"] is False
    assert sup["nearest"]["merchant_id"] == "b-super"
    assert sup["nearest"]["name"] == "shop b-super"
    assert sup["nearest"]["distance_m"] == pytest.approx(600, abs=1e-6)
    assert sup["nearest"]["walk_minutes"] == pytest.approx(600 * 1.3 / 75)
    assert by_code["laundry"]["nearest"] is None
    assert by_code["cafe"] == {**by_code["cafe"], "covered": False, "nearest": None}


def test_a_secondary_type_covers_that_type():
    by_code = {t["code"]: t for t in coverage(*ORIGIN, DELIBERATE, TravelModel())["types"]}
    assert by_code["fresh_produce"]["covered"] is True
    assert by_code["fresh_produce"]["nearest"]["merchant_id"] == "b-wet"


def test_a_shop_just_inside_the_ten_minute_target_covers_its_type():
    model = TravelModel()
    inside = shop("in", "supermarket", model.max_distance_m(10) - 1)
    outside = shop("out", "breakfast", model.max_distance_m(10) + 1)
    by_code = {t["code"]: t for t in coverage(*ORIGIN, [inside, outside], model)["types"]}
    assert by_code["supermarket"]["covered"] is True
    assert by_code["breakfast"]["covered"] is False


def test_the_nearest_of_several_merchants_is_chosen_and_ties_keep_input_order():
    merchants = [shop("far", "cafe", 500), shop("near1", "cafe", 100, 0),
                 shop("near2", "cafe", 100, 0)]  # fmt: skip
    by_code = {t["code"]: t for t in coverage(*ORIGIN, merchants, TravelModel())["types"]}
    assert by_code["cafe"]["nearest"]["merchant_id"] == "near1"


def test_a_slower_walker_sees_more_gaps():
    merchants = [shop("c", "convenience_store", 500)]
    assert "convenience_store" not in coverage(*ORIGIN, merchants, TravelModel())["missing"]
    slow = TravelModel(speed_m_per_min=50.0)
    assert "convenience_store" in coverage(*ORIGIN, merchants, slow)["missing"]


def test_an_empty_circle_misses_everything_basic_first():
    missing = coverage(*ORIGIN, [], TravelModel())["missing"]
    assert missing == [t["code"] for t in BUSINESS_TYPES]  # taxonomy lists basic first
    assert missing[:13] == [t["code"] for t in BUSINESS_TYPES if t["category"] == "basic"]


# --- area helpers ----------------------------------------------------------------------------


def test_cells_for_a_small_bbox_have_their_centres_inside_it():
    s, w, n, e = 31.22, 121.46, 31.24, 121.48
    cells = cells_for_bbox(s, w, n, e, 9)
    # ~2.22 km x 1.90 km ≈ 4.23 km², divided by the area of a local res-9 cell.
    expected = 2224.0 * 1901.6 / h3.cell_area(h3.latlng_to_cell(31.23, 121.47, 9), "m^2")
    assert 0.85 * expected <= len(cells) <= 1.15 * expected
    assert cells == sorted(cells)
    for c in cells:
        lat, lng = h3.cell_to_latlng(c)
        assert s <= lat <= n and w <= lng <= e
        assert h3.get_resolution(c) == 9


def test_a_bbox_smaller_than_a_cell_gives_the_cell_at_its_centre():
    assert cells_for_bbox(31.2300, 121.4700, 31.2301, 121.4701) == [
        h3.latlng_to_cell(31.23005, 121.47005, 9)
    ]


def test_a_city_sized_bbox_at_fine_resolution_is_refused():
    with pytest.raises(ValueError, match="too large"):
        cells_for_bbox(30.7, 120.8, 31.9, 122.2, 9)


def test_the_cell_cap_can_be_lowered():
    with pytest.raises(ValueError, match="too large"):
        cells_for_bbox(31.22, 121.46, 31.24, 121.48, 9, max_cells=10)


@pytest.mark.parametrize(
    "bbox", [(31.24, 121.46, 31.22, 121.48), (31.22, 121.48, 31.24, 121.46), (95, 0, 96, 1)]
)
def test_inverted_or_out_of_range_bboxes_are_rejected(bbox):
    with pytest.raises(ValueError):
        cells_for_bbox(*bbox)


def test_a_cell_outline_is_a_closed_lng_lat_geojson_polygon():
    cell = h3.latlng_to_cell(*ORIGIN, 9)
    geo = cell_boundary_geojson(cell)
    assert geo["type"] == "Polygon"
    (ring,) = geo["coordinates"]
    assert len(ring) == 7 and ring[0] == ring[-1]
    expected = {(round(lng, 9), round(lat, 9)) for lat, lng in h3.cell_to_boundary(cell)}
    assert {(round(x, 9), round(y, 9)) for x, y in ring} == expected
    assert all(121 < x < 122 and 31 < y < 32 for x, y in ring)  # [lng, lat], not swapped
    signed_area = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:], strict=False))
    assert signed_area > 0  # counter-clockwise per RFC 7946


def test_an_invalid_cell_id_is_rejected():
    with pytest.raises(ValueError, match="not a valid H3 cell"):
        cell_boundary_geojson("not-a-cell")
