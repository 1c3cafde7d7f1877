"""The dispatch service's gauges for Prometheus: repairs by status, and the last hour's arrivals
within and beyond 15 minutes of the request (the circle's promise).

Counts come from indexed queries (status; arrived_at over one hour), never from a scan.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.dispatch.domain import DEFAULT_SLA_MINUTES, STATUSES

PROMISE = timedelta(minutes=DEFAULT_SLA_MINUTES)
WINDOW = timedelta(hours=1)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def arrivals_by_promise(arrivals: list[dict[str, Any]]) -> dict[str, int]:
    """How many of these repairs were reached within 15 minutes of the request, and beyond."""
    within = sum(1 for r in arrivals
                 if _utc(r["arrived_at"]) - _utc(r["requested_at"]) <= PROMISE)
    return {"true": within, "false": len(arrivals) - within}


def repair_gauges(store: Any, now: datetime | None = None
                  ) -> dict[str, tuple[str, list[tuple[dict[str, str], float]]]]:
    now = now or datetime.now(UTC)
    arrived = arrivals_by_promise(store.arrived_since(now - WINDOW))
    return {
        "lifecircle_repairs": (
            "Repairs by status",
            [({"status": status}, store.count_with_status(status)) for status in STATUSES]),
        "lifecircle_repairs_arrived_last_hour": (
            "Repairs a technician reached in the last hour, by within_15min",
            [({"within_15min": key}, value) for key, value in arrived.items()]),
    }
