"""The orders service's metrics for Prometheus.

- ``lifecircle_orders{status}``: orders in each live status now (pending .. out_for_delivery),
  counted over that bounded, indexed set at scrape time;
- ``lifecircle_order_moves_total{status}``: orders this process moved into each status.
  Terminal statuses pile up forever, so they are counted as moves, never by a count over the
  stored orders; per-process counters sum across replicas (``sum(rate(...))``).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter

from services.orders.domain import ORDER_STATUSES
from services.orders.store import ACTIVE_STATUSES

STATUSES = tuple(s for s in ORDER_STATUSES if s in ACTIVE_STATUSES)
MOVES = Counter("lifecircle_order_moves_total", "Orders moved into a status by this process",
                ["status"])


def moved(status: str) -> None:
    MOVES.labels(status=status).inc()


def order_gauges(store: Any) -> dict[str, tuple[str, list[tuple[dict[str, str], float]]]]:
    return {"lifecircle_orders": (
        "Orders in a live status",
        [({"status": status}, store.count_with_status(status)) for status in STATUSES])}
