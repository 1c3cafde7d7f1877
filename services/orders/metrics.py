"""The orders service's gauges for Prometheus: orders by status (indexed counts)."""

from __future__ import annotations

from typing import Any

from services.orders.domain import EVENT_FOR_STATUS

STATUSES = ("pending", *EVENT_FOR_STATUS)


def order_gauges(store: Any) -> dict[str, tuple[str, list[tuple[dict[str, str], float]]]]:
    return {"lifecircle_orders": (
        "Orders by status",
        [({"status": status}, store.count_with_status(status)) for status in STATUSES])}
