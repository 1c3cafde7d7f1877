from services.common.districts import jianghan


def test_jianghan_outline_has_the_districts_real_size_and_place():
    district = jianghan()
    assert 27.0 < district.area_km2() < 30.0  # official figure about 28.3 km²
    min_lat, min_lng, max_lat, max_lng = district.bbox
    assert 30.55 < min_lat < max_lat < 30.66
    assert 114.20 < min_lng < max_lng < 114.31


def test_a_point_in_the_district_is_inside_and_one_across_the_river_is_not():
    district = jianghan()
    assert district.contains(30.585, 114.275)  # near Jianghan Road, the old town
    assert not district.contains(30.55, 114.31)  # Wuchang, across the Yangtze
    assert not district.contains(30.644, 114.22)  # outside the north-west corner
