"""Charts drawn on the server as SVG (templates/dispatch/chart.svg.html): plain geometry from
plain rows, so a page needs no chart library and no script."""

from __future__ import annotations

from typing import Any

ROW_HEIGHT = 34
BAR_HEIGHT = 22
LABEL_WIDTH = 130
BAR_WIDTH = 300
VALUE_WIDTH = 230
TOP = 24  # room for the axis labels


def share_bars(rows: list[dict[str, Any]], share_key: str, label_key: str) -> dict[str, Any]:
    """One horizontal bar per row, as long as ``row[share_key]`` (a share 0..1, or None when
    nothing could be judged yet), with gridlines at 0, 50 and 100 %."""
    bars = []
    for i, row in enumerate(rows):
        share = row.get(share_key)
        y = TOP + i * ROW_HEIGHT
        bars.append({
            "label": row[label_key],
            "y": y,
            "text_y": y + BAR_HEIGHT - 6,
            "width": round(BAR_WIDTH * max(0.0, min(1.0, share))) if share is not None else 0,
            "percent": round(share * 100) if share is not None else None,
            "row": row,
        })
    grid = [{"x": LABEL_WIDTH + round(BAR_WIDTH * p / 100), "label": f"{p}%"}
            for p in (0, 50, 100)]
    return {"bars": bars, "grid": grid, "bar_x": LABEL_WIDTH, "bar_height": BAR_HEIGHT,
            "value_x": LABEL_WIDTH + BAR_WIDTH + 10,
            "width": LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
            "height": TOP + max(1, len(rows)) * ROW_HEIGHT}
