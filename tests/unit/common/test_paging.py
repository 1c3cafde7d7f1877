"""The one page shape every list RPC returns."""

from services.common.paging import TOTAL_CAP, offset, page_dict, read_capped, slice_page


def test_a_page_carries_its_items_through_the_view_and_its_position():
    page = page_dict([{"_id": "a"}, {"_id": "b"}], page=2, page_size=2, total=5,
                     view=lambda d: {"id": d["_id"]})
    assert page == {"items": [{"id": "a"}, {"id": "b"}], "page": 2, "page_size": 2,
                    "total": 5, "total_capped": False}


def test_pages_count_from_one():
    assert offset(1, 20) == 0
    assert offset(3, 20) == 40
    assert slice_page(list(range(10)), 2, 4) == [4, 5, 6, 7]
    assert slice_page(list(range(10)), 4, 4) == []


class Cursor:
    """A sorted cursor that records the limit it was read with."""

    def __init__(self, n: int):
        self.n, self.limited = n, None

    def limit(self, count: int) -> list[int]:
        self.limited = count
        return list(range(min(count, self.n)))


def test_a_list_reads_no_further_than_the_cap_and_says_so():
    cursor = Cursor(10_000)
    assert read_capped(cursor, 40, 20) == (list(range(40, 60)), TOTAL_CAP, True)
    assert cursor.limited == TOTAL_CAP + 1
    assert read_capped(Cursor(7), 0, 5) == ([0, 1, 2, 3, 4], 7, False)
