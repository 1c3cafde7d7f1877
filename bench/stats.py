"""Small helpers every benchmark uses to report rates and percentiles."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(name: str, latencies_s: Sequence[float], elapsed_s: float) -> dict:
    ms = [v * 1000 for v in latencies_s]
    return {
        "name": name,
        "n": len(ms),
        "rate_per_s": round(len(ms) / elapsed_s, 1) if elapsed_s else float("nan"),
        "p50_ms": round(percentile(ms, 50), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
    }


def print_table(rows: list[dict], baseline: str | None = None) -> None:
    base = next((r for r in rows if r["name"] == baseline), None)
    print(f"{'measure':<44}{'n':>6}{'rate/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
          + (f"{'× base':>9}" if base else ""))
    for r in rows:
        ratio = f"{r['rate_per_s'] / base['rate_per_s']:>9.3f}" if base else ""
        print(f"{r['name']:<44}{r['n']:>6}{r['rate_per_s']:>10}{r['p50_ms']:>9}"
              f"{r['p99_ms']:>9}{ratio}")
