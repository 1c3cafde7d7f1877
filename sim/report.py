"""What a day felt like: for residents, technicians and deliveries. Plain data in, plain data out.

A request is "within 15 minutes" when the first technician arrived by its deadline (due_by,
the same rule as the service's SLA); a request cancelled before anyone arrived counts as a
breach (residents give up only after 20 minutes or more). Arrival percentiles are over the
requests that were reached.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from services.common.config import DEFAULTS
from services.common.times import as_utc
from sim.deliveries import Delivery
from sim.engine import Outcome


def gini(values: list[float]) -> float:
    """0 when everyone has the same, towards 1 when one has everything."""
    x = np.sort(np.asarray(values, dtype=float))
    if len(x) == 0 or x.sum() == 0:
        return 0.0
    n = len(x)
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def arrival_minutes(outcome: Outcome) -> list[float]:
    return [(as_utc(r["arrived_at"]) - as_utc(r["requested_at"])).total_seconds() / 60
            for r in outcome.repairs.values() if r.get("arrived_at") is not None]


def on_time(repair: dict[str, Any]) -> bool:
    return repair.get("arrived_at") is not None and \
        as_utc(repair["arrived_at"]) <= as_utc(repair["due_by"])


def summarise(outcome: Outcome) -> dict[str, Any]:
    tz = ZoneInfo(DEFAULTS["CITY_TZ"])
    repairs = list(outcome.repairs.values())
    arrivals = arrival_minutes(outcome)
    by_hour: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    by_skill: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    breach_cells: Counter[str] = Counter()
    for r in repairs:
        hour = as_utc(r["requested_at"]).astimezone(tz).hour
        ok = on_time(r)
        for bucket in (by_hour[hour], by_skill[r["skill"]]):
            bucket[0] += 1
            bucket[1] += not ok
        if not ok:
            breach_cells[r["h3_cell"]] += 1
    n = len(repairs)
    ok_total = sum(on_time(r) for r in repairs)
    stats = outcome.stats
    worked = [tid for tid, s in stats.items() if s.shift_s > 0]
    jobs = [stats[t].jobs for t in worked]
    busy = [stats[t].busy_s for t in worked]
    shift = sum(stats[t].shift_s for t in worked)
    return {
        "requests": n,
        "within_15": round(ok_total / n, 4) if n else None,
        "breaches": n - ok_total,
        "cancelled": sum(r["status"] == "cancelled" for r in repairs),
        "arrival_p50": _pct(arrivals, 50),
        "arrival_p90": _pct(arrivals, 90),
        "arrival_p99": _pct(arrivals, 99),
        "by_hour": {h: {"requests": v[0], "breaches": v[1],
                        "within_15": round(1 - v[1] / v[0], 4)}
                    for h, v in sorted(by_hour.items())},
        "by_skill": {s: {"requests": v[0], "breaches": v[1],
                         "within_15": round(1 - v[1] / v[0], 4)}
                     for s, v in sorted(by_skill.items())},
        "breach_cells": dict(sorted(breach_cells.items())),
        "technicians": len(worked),
        "utilisation": round(sum(busy) / shift, 4) if shift else None,
        "jobs_per_technician": {"mean": round(float(np.mean(jobs)), 2) if jobs else None,
                                "min": min(jobs, default=None), "max": max(jobs, default=None)},
        "km_per_technician": round(
            float(np.mean([stats[t].travel_m for t in worked])) / 1000, 2) if worked else None,
        "gini_jobs": round(gini(jobs), 4),
        "gini_busy": round(gini(busy), 4),
    }


def summarise_deliveries(deliveries: list[Delivery]) -> dict[str, Any]:
    minutes = [d.door_to_door_minutes for d in deliveries if d.door_to_door_minutes is not None]
    return {
        "orders": len(deliveries),
        "no_shop_within_15_min_walk": sum(d.shop is None for d in deliveries),
        "door_to_door_p50": _pct(minutes, 50),
        "door_to_door_p90": _pct(minutes, 90),
        "door_to_door_p99": _pct(minutes, 99),
        "walk_p50": _pct([d.walk_minutes for d in deliveries if d.shop is not None], 50),
    }
