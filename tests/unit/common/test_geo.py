import math
import random

import h3
import pytest

from services.common.geo import (
    EARTH_RADIUS_M,
    H3_RESOLUTION,
    TravelModel,
    candidate_cells,
    candidate_k,
    cell_for,
    destination,
    haversine_m,
    validate_lat_lng,
    within,
)

ONE_DEGREE_M = EARTH_RADIUS_M * math.pi / 180  # 111195.08 m


# --- distances and the walking model ---------------------------------------------------------


def test_one_degree_of_latitude_is_about_111_km():
    assert haversine_m(30.0, 120.0, 31.0, 120.0) == pytest.approx(ONE_DEGREE_M, rel=1e-9)
    assert ONE_DEGREE_M == pytest.approx(111195.08, abs=0.01)


def test_one_degree_of_longitude_shrinks_with_the_cosine_of_latitude():
    assert haversine_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(ONE_DEGREE_M, rel=1e-9)
    assert haversine_m(60.0, 10.0, 60.0, 10.001) == pytest.approx(
        0.001 * ONE_DEGREE_M * 0.5, rel=1e-4
    )


def test_distance_from_a_point_to_itself_is_zero():
    assert haversine_m(31.23, 121.47, 31.23, 121.47) == 0.0


def test_destination_lands_at_the_requested_distance():
    lat, lng = destination(31.23, 121.47, 37.0, 1234.5)
    assert haversine_m(31.23, 121.47, lat, lng) == pytest.approx(1234.5, abs=1e-6)


def test_default_walk_of_750_m_takes_13_minutes():
    # 750 m straight line * 1.3 detour = 975 m of street at 75 m/min = 13 min.
    assert TravelModel().minutes_for(750.0) == pytest.approx(13.0)


def test_fifteen_minutes_reach_about_865_m_in_a_straight_line():
    # 15 min * 75 m/min = 1125 m of street / 1.3 = 865.38 m.
    assert TravelModel().max_distance_m(15) == pytest.approx(865.3846, abs=1e-4)


def test_a_slower_model_needs_more_minutes():
    elderly = TravelModel(speed_m_per_min=50.0, detour_factor=1.2)
    assert elderly.minutes_for(500.0) == pytest.approx(12.0)
    assert elderly.max_distance_m(12.0) == pytest.approx(500.0)


def test_models_with_zero_speed_or_a_shortcut_detour_are_rejected():
    with pytest.raises(ValueError):
        TravelModel(speed_m_per_min=0)
    with pytest.raises(ValueError):
        TravelModel(detour_factor=0.9)


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lng", "fragment"),
    [
        (91.0, 0.0, "lat must be between"),
        (0.0, -180.5, "lng must be between"),
        (float("nan"), 0.0, "lat must be finite"),
        (0.0, float("inf"), "lng must be finite"),
        ("31.2", 121.0, "lat must be a number"),
        (True, 121.0, "lat must be a number"),
        (None, 121.0, "lat must be a number"),
    ],
)
def test_bad_coordinates_are_rejected_with_a_message_naming_the_field(lat, lng, fragment):
    with pytest.raises(ValueError, match=fragment):
        validate_lat_lng(lat, lng)


def test_valid_coordinates_come_back_as_floats():
    assert validate_lat_lng(90, -180) == (90.0, -180.0)


# --- within ----------------------------------------------------------------------------------

SHANGHAI = (31.2304, 121.4737)


def _point_at(bearing, dist, name):
    lat, lng = destination(*SHANGHAI, bearing, dist)
    return {"name": name, "lat": lat, "lng": lng}


def test_a_shop_just_inside_fifteen_minutes_is_found_and_one_just_outside_is_not():
    model = TravelModel()
    edge = model.max_distance_m(15)
    inside = _point_at(80, edge - 1.0, "inside")
    outside = _point_at(80, edge + 1.0, "outside")
    found = within(*SHANGHAI, [outside, inside], 15, model)
    assert [p["name"] for p, _, _ in found] == ["inside"]
    _, dist, minutes = found[0]
    assert dist == pytest.approx(edge - 1.0, abs=1e-6)
    assert minutes == pytest.approx(15 - 1.3 / 75, abs=1e-6)


def test_results_are_sorted_nearest_first_and_ties_keep_input_order():
    pts = [
        _point_at(0, 500, "far"),
        _point_at(90, 100, "near-a"),
        _point_at(90, 100, "near-b"),
        _point_at(180, 300, "mid"),
    ]
    names = [p["name"] for p, _, _ in within(*SHANGHAI, pts, 15, TravelModel())]
    assert names == ["near-a", "near-b", "mid", "far"]


def test_nested_locations_are_read_through_the_key_argument():
    lat, lng = destination(*SHANGHAI, 45, 200)
    shop = {"_id": "m1", "location": {"lat": lat, "lng": lng}}
    found = within(
        *SHANGHAI,
        [shop],
        10,
        TravelModel(),
        key=lambda p: (p["location"]["lat"], p["location"]["lng"]),
    )
    assert found[0][0] is shop
    assert found[0][2] == pytest.approx(200 * 1.3 / 75)


def test_a_point_with_a_bad_coordinate_raises_instead_of_being_silently_dropped():
    with pytest.raises(ValueError):
        within(*SHANGHAI, [{"lat": 200.0, "lng": 0.0}], 15, TravelModel())


# --- H3 cells --------------------------------------------------------------------------------


def test_cell_for_uses_resolution_nine_by_default():
    cell = cell_for(*SHANGHAI)
    assert h3.get_resolution(cell) == H3_RESOLUTION == 9
    assert cell == h3.latlng_to_cell(*SHANGHAI, 9)


def _boundary_origins():
    """Origins right next to vertices and edge midpoints of cells, plus plain city points."""
    origins = [SHANGHAI, (39.9042, 116.4074), (22.5431, 114.0579), (-33.8688, 151.2093),
               (0.0001, 0.0001), (64.0, -21.9)]  # fmt: skip
    for base in [SHANGHAI, (39.9042, 116.4074)]:
        cell = h3.latlng_to_cell(*base, 9)
        clat, clng = h3.cell_to_latlng(cell)
        verts = h3.cell_to_boundary(cell)
        for i, (vlat, vlng) in enumerate(verts):
            # A hair inside the vertex (worst case: origin as far from its cell centre as
            # possible) and exactly on it.
            origins.append((vlat + (clat - vlat) * 1e-6, vlng + (clng - vlng) * 1e-6))
            origins.append((vlat, vlng))
            nlat, nlng = verts[(i + 1) % len(verts)]
            origins.append(((vlat + nlat) / 2, (vlng + nlng) / 2))
    return origins


@pytest.mark.parametrize("radius_m", [0.0, 30.0, 250.0, 865.3846, 2000.0])
@pytest.mark.parametrize("origin", _boundary_origins())
def test_every_point_on_the_radius_circle_lies_in_a_candidate_cell(origin, radius_m):
    cells = set(candidate_cells(*origin, radius_m))
    missed = []
    for tenth in range(0, 3600, 5):  # every half degree of bearing
        for r in (radius_m, radius_m * 0.999, radius_m * 0.5):
            lat, lng = destination(*origin, tenth / 10, r)
            if h3.latlng_to_cell(lat, lng, 9) not in cells:
                missed.append((tenth / 10, r))
    assert missed == []


def test_random_points_inside_the_radius_all_lie_in_candidate_cells():
    rng = random.Random(20240601)
    for origin in _boundary_origins()[:8]:
        cells = set(candidate_cells(*origin, 865.0))
        for _ in range(500):
            lat, lng = destination(*origin, rng.uniform(0, 360), 865.0 * math.sqrt(rng.random()))
            assert h3.latlng_to_cell(lat, lng, 9) in cells


def test_a_point_just_across_a_cell_edge_from_the_origin_is_a_candidate():
    cell = h3.latlng_to_cell(*SHANGHAI, 9)
    (alat, alng), (blat, blng) = h3.cell_to_boundary(cell)[:2]
    mid_lat, mid_lng = (alat + blat) / 2, (alng + blng) / 2
    clat, clng = h3.cell_to_latlng(cell)
    # Origin 1 m inside the edge; target 1 m outside it, in the neighbouring cell.
    toward_out = math.degrees(
        math.atan2(
            math.sin(math.radians(mid_lng - clng)) * math.cos(math.radians(mid_lat)),
            math.cos(math.radians(clat)) * math.sin(math.radians(mid_lat))
            - math.sin(math.radians(clat))
            * math.cos(math.radians(mid_lat))
            * math.cos(math.radians(mid_lng - clng)),
        )
    )
    origin = destination(mid_lat, mid_lng, toward_out + 180, 1.0)
    target = destination(mid_lat, mid_lng, toward_out, 1.0)
    assert h3.latlng_to_cell(*origin, 9) == cell
    target_cell = h3.latlng_to_cell(*target, 9)
    assert target_cell != cell
    assert target_cell in candidate_cells(*origin, 2.5)


def test_the_candidate_disk_is_not_wastefully_large_for_a_fifteen_minute_walk():
    # ~865 m over ~175 m edges: the disk should be k≈4-6 (61-127 cells), not hundreds.
    for origin in _boundary_origins():
        k = candidate_k(*origin, TravelModel().max_distance_m(15))
        assert 3 <= k <= 7
        assert (
            len(candidate_cells(*origin, TravelModel().max_distance_m(15))) == 3 * k * (k + 1) + 1
        )


def test_a_zero_radius_at_a_cell_centre_needs_only_the_origin_cell():
    cell = h3.latlng_to_cell(*SHANGHAI, 9)
    assert candidate_cells(*h3.cell_to_latlng(cell), 0.0) == [cell]


def test_candidates_near_a_pentagon_still_cover_the_circle():
    pentagon = h3.get_pentagons(9)[0]
    plat, plng = h3.cell_to_latlng(pentagon)
    origin = destination(plat, plng, 30, 300)
    cells = set(candidate_cells(*origin, 600.0))
    for deg in range(360):
        assert h3.latlng_to_cell(*destination(*origin, deg, 600.0), 9) in cells


def test_coarser_resolutions_give_fewer_cells():
    assert len(candidate_cells(*SHANGHAI, 865.0, res=8)) < len(candidate_cells(*SHANGHAI, 865.0))


@pytest.mark.parametrize("radius", [-1.0, 50_001.0, float("nan")])
def test_absurd_radii_are_rejected(radius):
    with pytest.raises(ValueError):
        candidate_cells(*SHANGHAI, radius)


def test_a_radius_too_large_for_a_fine_resolution_is_rejected():
    with pytest.raises(ValueError, match="too many cells"):
        candidate_cells(*SHANGHAI, 20_000.0, res=12)


@pytest.mark.parametrize("origin", _boundary_origins()[:10])
def test_one_ring_fewer_would_miss_part_of_the_circle_so_k_is_the_smallest(origin):
    radius = 865.3846
    k = candidate_k(*origin, radius)
    smaller = set(h3.grid_disk(h3.latlng_to_cell(*origin, 9), k - 1))
    on_circle = {h3.latlng_to_cell(*destination(*origin, d / 10, radius), 9) for d in range(3600)}
    assert not on_circle <= smaller


def test_the_neighbour_walk_fallback_gives_the_same_cells_as_grid_ring(monkeypatch):
    expected = candidate_cells(*SHANGHAI, 865.0)

    def refuse(*_args):
        raise h3.H3PentagonError("pretend a pentagon is in the way")

    monkeypatch.setattr(h3, "grid_ring", refuse)
    assert candidate_cells(*SHANGHAI, 865.0) == expected
