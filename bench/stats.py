"""Small helpers every benchmark uses to report rates and percentiles."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence


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


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Seconds each of ``repeat`` calls of ``fn`` took."""
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        out.append(time.perf_counter() - began)
    return out


def print_size_table(results: dict[int, dict[str, list[float]]], width: int = 36) -> None:
    """Per operation: p50/p99 ms at each stored-data size, and the largest size's p50 over
    the smallest's (1.0 = flat in stored data)."""
    sizes = list(results)
    small, large = sizes[0], sizes[-1]
    print(f"\n{'operation':<{width}}" + "".join(f"{f'{s} p50/p99 ms':>22}" for s in sizes)
          + f"{'p50 ratio':>11}")
    for name in results[small]:
        cells = []
        for size in sizes:
            ms = [v * 1000 for v in results[size][name]]
            cells.append(f"{percentile(ms, 50):>10.2f} /{percentile(ms, 99):>9.2f}")
        ratio = percentile(results[large][name], 50) / percentile(results[small][name], 50)
        print(f"{name:<{width}}" + "".join(f"{c:>22}" for c in cells) + f"{ratio:>11.2f}")
