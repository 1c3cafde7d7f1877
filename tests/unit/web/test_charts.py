"""The server-drawn bar chart: bars as long as the share, nothing for what is not judged."""

from __future__ import annotations

from services.web.charts import BAR_WIDTH, LABEL_WIDTH, share_bars


def test_each_bar_is_as_long_as_its_share_and_an_unjudged_row_has_no_bar():
    rows = [{"skill": "plumbing", "within_sla": 0.75}, {"skill": "locks", "within_sla": None},
            {"skill": "electrical", "within_sla": 1.0}]
    chart = share_bars(rows, "within_sla", "skill")
    assert [b["width"] for b in chart["bars"]] == [BAR_WIDTH * 3 // 4, 0, BAR_WIDTH]
    assert [b["percent"] for b in chart["bars"]] == [75, None, 100]
    assert [b["label"] for b in chart["bars"]] == ["plumbing", "locks", "electrical"]
    ys = [b["y"] for b in chart["bars"]]
    assert ys == sorted(ys) and len(set(ys)) == 3  # one row each, top to bottom
    assert chart["height"] > ys[-1] + chart["bar_height"] - 1
    assert [g["label"] for g in chart["grid"]] == ["0%", "50%", "100%"]
    assert chart["grid"][0]["x"] == chart["bar_x"] == LABEL_WIDTH


def test_a_share_outside_zero_to_one_never_draws_outside_the_chart():
    chart = share_bars([{"s": 1.7, "l": "a"}, {"s": -0.2, "l": "b"}], "s", "l")
    assert [b["width"] for b in chart["bars"]] == [BAR_WIDTH, 0]
