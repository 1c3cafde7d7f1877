"""The dispatch service's metrics for Prometheus: repairs in each active status, repairs
this process moved into each status, and the last hour's arrivals within and beyond 15
minutes of the request (the circle's promise).

Gauges come from indexed queries over bounded sets (an active status; arrived_at over one
hour), never from a scan. Terminal statuses pile up forever, so they are counted as moves
(``lifecircle_repair_moves_total``, per process: sum across replicas).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter

from services.common.times import as_utc
from services.dispatch.domain import ACTIVE_STATUSES, DEFAULT_SLA_MINUTES

MOVES = Counter("lifecircle_repair_moves_total",
                "Repairs moved into a status by this process", ["status"])

PROMISE = timedelta(minutes=DEFAULT_SLA_MINUTES)
WINDOW = timedelta(hours=1)


def moved(status: str) -> None:
    MOVES.labels(status=status).inc()


def arrivals_by_promise(arrivals: list[dict[str, Any]]) -> dict[str, int]:
    """How many of these repairs were reached within 15 minutes of the request, and beyond."""
    within = sum(1 for r in arrivals
                 if as_utc(r["arrived_at"]) - as_utc(r["requested_at"]) <= PROMISE)
    return {"true": within, "false": len(arrivals) - within}


def repair_gauges(store: Any, now: datetime | None = None
                  ) -> dict[str, tuple[str, list[tuple[dict[str, str], float]]]]:
    now = now or datetime.now(UTC)
    arrived = arrivals_by_promise(store.arrived_since(now - WINDOW))
    return {
        "lifecircle_repairs": (
            "Repairs in an active status",
            [({"status": status}, store.count_with_status(status))
             for status in ACTIVE_STATUSES]),
        "lifecircle_repairs_arrived_last_hour": (
            "Repairs a technician reached in the last hour, by within_15min",
            [({"within_15min": key}, value) for key, value in arrived.items()]),
    }
