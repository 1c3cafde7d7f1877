"""Policies x fleet sizes on the same seeded day: run, summarise, plot, write the report."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from services.common.config import DEFAULTS
from services.dispatch import policies
from sim import report
from sim.city import build_city
from sim.deliveries import deliver
from sim.demand import learn_demand, orders_for_day, repairs_for_day
from sim.engine import Params, Simulation
from sim.fleet import build_fleet

HISTORY_SEED_OFFSET = 1000  # previous days' seeds: seed + 1000, + 1001, ...


@dataclass
class Setup:
    seed: int = 7
    city_seed: int = 1
    repairs: float = 2000
    orders: float = 3000
    fleets: list[int] = field(default_factory=lambda: [400])
    policies: list[str] = field(default_factory=lambda: list(policies.POLICIES))
    history_days: int = 3
    batch_s: float = 30.0
    day: date = date(2026, 3, 2)  # a Monday
    homes: int = 12_000
    shops: int = 600


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(DEFAULTS["CITY_TZ"]))


def run(setup: Setup, progress: bool = True) -> dict[str, Any]:
    """Every (policy, fleet) on the same day; returns the results as plain data."""
    city = build_city(setup.city_seed, homes=setup.homes, shops=setup.shops)
    requests = repairs_for_day(city, setup.seed, setup.repairs)
    history = [setup.seed + HISTORY_SEED_OFFSET + k for k in range(setup.history_days)]
    demand = learn_demand(city, history, setup.repairs)
    start = day_start(setup.day)
    runs: dict[str, dict[int, dict[str, Any]]] = {p: {} for p in setup.policies}
    arrivals: dict[str, dict[int, list[float]]] = {p: {} for p in setup.policies}
    for fleet_size in setup.fleets:
        for policy in setup.policies:
            fleet = build_fleet(city, fleet_size, setup.city_seed, start)
            params = Params(policy=policy, batch_s=setup.batch_s,
                            batch=policies.BatchParams(window_minutes=setup.batch_s / 60))
            sim = Simulation(city, requests, fleet, params, start, demand)
            began = time.perf_counter()
            outcome = sim.run(_bar(f"{policy} x {fleet_size}") if progress else None)
            seconds = time.perf_counter() - began
            summary = report.summarise(outcome)
            summary["seconds"] = round(seconds, 1)
            runs[policy][fleet_size] = summary
            arrivals[policy][fleet_size] = report.arrival_minutes(outcome)
    deliveries = report.summarise_deliveries(deliver(city, orders_for_day(
        city, setup.seed, setup.orders)))
    return {"setup": _plain(setup), "runs": runs, "arrivals": arrivals,
            "deliveries": deliveries, "district": city.district,
            "area_km2": round(city.district.area_km2(), 1)}


def _plain(setup: Setup) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in vars(setup).items()}


def _bar(label: str) -> Any:
    from tqdm import tqdm

    bar = tqdm(total=24 * 60, desc=label, unit="sim min", leave=False)

    def update(t: float) -> None:
        minute = min(int(t // 60), 24 * 60)
        if minute > bar.n:
            bar.update(minute - bar.n)
        elif minute >= 24 * 60:
            bar.close()

    return update


# ------------------------------------------------------------------------------ output


def best_policy(results: dict[str, Any]) -> str:
    """The policy with the highest share within 15 minutes summed over the fleet sizes."""
    runs = results["runs"]
    return max(runs, key=lambda p: (sum(r["within_15"] for r in runs[p].values()), p))


def write(results: dict[str, Any], out: Path, command: str, plots: bool = True) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    runs = results["runs"]
    fleets = sorted({f for r in runs.values() for f in r})
    focus = _focus_fleet(results)
    images: list[str] = []
    if plots:
        from sim import plots as p

        pols = list(runs)
        images.append(p.arrival_distribution(
            {q: results["arrivals"][q][focus] for q in pols}, focus,
            out / "arrival_distribution.png").name)
        images.append(p.share_by_hour({q: runs[q][focus]["by_hour"] for q in pols}, focus,
                                      out / "share_by_hour.png").name)
        shown = [q for q in ("ranking", best_policy(results)) if q in runs]
        images.append(p.breaches_map(results["district"], {
            q: runs[q][focus]["breach_cells"] for q in dict.fromkeys(shown)},
            out / "breaches_map.png").name)
        if len(fleets) > 1:
            images.append(p.fleet_curve({q: {f: runs[q][f]["within_15"] for f in runs[q]}
                                         for q in pols}, out / "fleet_curve.png").name)
    (out / "report.json").write_text(json.dumps(
        {k: v for k, v in results.items() if k not in ("arrivals", "district")},
        indent=1, sort_keys=True, default=str) + "\n")
    path = out / "report.md"
    path.write_text(markdown(results, command, images))
    return path


def _focus_fleet(results: dict[str, Any]) -> int:
    """The smallest fleet at which some policy keeps the promise (>= 95 %), else the
    largest: where the choice of policy matters most to a district."""
    runs = results["runs"]
    fleets = sorted({f for r in runs.values() for f in r})
    for f in fleets:
        if any(runs[p][f]["within_15"] >= 0.95 for p in runs if f in runs[p]):
            return f
    return fleets[-1]


def markdown(results: dict[str, Any], command: str, images: list[str]) -> str:
    runs, setup = results["runs"], results["setup"]
    fleets = sorted({f for r in runs.values() for f in r})
    focus = _focus_fleet(results)
    lines = [
        "# A simulated day in Jianghan district",
        "",
        f"Command: `{command}`  ",
        f"Day seed {setup['seed']}, city seed {setup['city_seed']}, "
        f"{setup['repairs']:g} repairs expected, {setup['orders']:g} delivery orders expected, "
        f"demand learned from {setup['history_days']} previous days; district "
        f"{results['area_km2']} km².",
        "",
        "## Policies x fleet sizes",
        "",
        "| policy | technicians | within 15 min | p50 / p90 / p99 arrival (min) | breaches "
        "| cancelled | utilisation | jobs/tech (min-max) | km/tech | Gini (jobs) | run (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in fleets:
        for p, by_fleet in runs.items():
            r = by_fleet.get(f)
            if r is None:
                continue
            j = r["jobs_per_technician"]
            lines.append(
                f"| {p} | {f} | {r['within_15']:.1%} | {r['arrival_p50']} / {r['arrival_p90']}"
                f" / {r['arrival_p99']} | {r['breaches']} | {r['cancelled']} | "
                f"{r['utilisation']:.0%} | {j['mean']} ({j['min']}-{j['max']}) | "
                f"{r['km_per_technician']} | {r['gini_jobs']:.3f} | {r['seconds']} |")
    lines += ["", f"## Hour by hour, {focus} technicians (share within 15 minutes)", ""]
    hours = sorted({h for p in runs for h in runs[p][focus]["by_hour"]})
    lines.append("| hour | requests | " + " | ".join(runs) + " |")
    lines.append("|---" * (len(runs) + 2) + "|")
    first = next(iter(runs))
    for h in hours:
        cells = [f"{runs[p][focus]['by_hour'].get(h, {}).get('within_15', 0):.0%}" for p in runs]
        lines.append(f"| {h:02d}:00 | {runs[first][focus]['by_hour'][h]['requests']} | "
                     + " | ".join(cells) + " |")
    lines += ["", f"## By skill, {focus} technicians (breaches of requests)", ""]
    lines.append("| skill | requests | " + " | ".join(runs) + " |")
    lines.append("|---" * (len(runs) + 2) + "|")
    for s, v in runs[first][focus]["by_skill"].items():
        cells = [str(runs[p][focus]["by_skill"][s]["breaches"]) for p in runs]
        lines.append(f"| {s} | {v['requests']} | " + " | ".join(cells) + " |")
    d = results["deliveries"]
    lines += ["", "## Deliveries (shop staff on foot, shops within a 15-minute walk)", "",
              f"{d['orders']} orders; door to door p50 {d['door_to_door_p50']} min, p90 "
              f"{d['door_to_door_p90']} min, p99 {d['door_to_door_p99']} min (walk p50 "
              f"{d['walk_p50']} min); {d['no_shop_within_15_min_walk']} orders had no shop "
              "within a 15-minute walk.", ""]
    if images:
        lines += ["## Plots", ""] + [f"![{name}]({name})" for name in images] + [""]
    return "\n".join(lines)
