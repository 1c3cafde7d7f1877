"""The one page shape every list RPC returns."""

from services.common.paging import offset, page_dict, slice_page


def test_a_page_carries_its_items_through_the_view_and_its_position():
    page = page_dict([{"_id": "a"}, {"_id": "b"}], page=2, page_size=2, total=5,
                     view=lambda d: {"id": d["_id"]})
    assert page == {"items": [{"id": "a"}, {"id": "b"}], "page": 2, "page_size": 2,
                    "total": 5}


def test_pages_count_from_one():
    assert offset(1, 20) == 0
    assert offset(3, 20) == 40
    assert slice_page(list(range(10)), 2, 4) == [4, 5, 6, 7]
    assert slice_page(list(range(10)), 4, 4) == []
