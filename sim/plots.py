"""PNG plots of a run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import h3  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from services.common.districts import District  # noqa: E402

DPI = 80


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def arrival_distribution(arrivals: dict[str, list[float]], fleet: int, path: Path) -> Path:
    """Cumulative share of requests reached by minute, one line per policy."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for policy, minutes in arrivals.items():
        xs = sorted(minutes)
        ax.plot(xs, [(k + 1) / len(xs) for k in range(len(xs))], label=policy)
    ax.axvline(15, color="grey", linestyle="--", linewidth=1)
    ax.set_xlim(0, 40)
    ax.set_xlabel("minutes from request (or booked time) to arrival")
    ax.set_ylabel("share of reached requests")
    ax.set_title(f"Arrival time, {fleet} technicians")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def share_by_hour(by_hour: dict[str, dict[int, dict[str, Any]]], fleet: int, path: Path
                  ) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    for policy, hours in by_hour.items():
        hs = sorted(hours)
        ax.plot(hs, [hours[h]["within_15"] for h in hs], marker="o", markersize=3, label=policy)
    ax.axhline(0.95, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("hour of the day (local)")
    ax.set_ylabel("share within 15 minutes")
    ax.set_title(f"Share within 15 minutes by hour, {fleet} technicians")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def fleet_curve(curve: dict[str, dict[int, float]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    for policy, points in curve.items():
        xs = sorted(points)
        ax.plot(xs, [points[x] for x in xs], marker="o", label=policy)
    ax.axhline(0.95, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("technicians in the district (on shift over the day)")
    ax.set_ylabel("share within 15 minutes")
    ax.set_title("Fleet size against the 15-minute promise")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def breaches_map(district: District, cells: dict[str, dict[str, int]], path: Path) -> Path:
    """Breaches per H3 cell, one panel per policy, with the district outline."""
    fig, axes = plt.subplots(1, len(cells), figsize=(4.5 * len(cells), 4.5), squeeze=False)
    top = max((n for c in cells.values() for n in c.values()), default=1)
    outline = list(district.outline) + [district.outline[0]]
    for ax, (policy, counts) in zip(axes[0], cells.items(), strict=True):
        polys = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in counts]
        coll = PolyCollection(polys, array=list(counts.values()), cmap="Reds",
                              edgecolors="none")
        coll.set_clim(0, top)
        ax.add_collection(coll)
        ax.plot([p[1] for p in outline], [p[0] for p in outline], color="black", linewidth=1)
        ax.set_title(f"{policy}: {sum(counts.values())} breaches")
        ax.set_aspect(1 / 0.86)  # 1 degree of longitude is ~0.86 of a degree of latitude here
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(coll, ax=ax, shrink=0.7, label="breaches per H3 cell (res 9)")
    return _save(fig, path)
