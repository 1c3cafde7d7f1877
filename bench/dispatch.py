"""Dispatch: ranking candidates among many technicians, and automatic assignment under a burst.

    .venv/bin/python -m bench.dispatch [--samples 500] [--burst 100] [--skip-system]

1. Ranking, inside the service (assignment.rank_nearby on a real embedded store holding 1k and
   10k technicians spread uniformly over a 25 km x 25 km city): p50/p99 per ranking call for
   random repair points and skills, once with the per-neighbourhood search-cell cache cold
   (first pass) and once warm (same points again; a running service keeps it warm).
   Baselines from the same run: ranking by a full scan of
   every technician (domain.rank_with_exclusions over all of them), and the same H3-cell
   query answered by the database instead of the in-memory cell index
   (DISPATCH_TECH_CACHE=0).
2. Automatic assignment, through the running system (private vhost, data and port; HTTP in,
   DISPATCH_AUTO_ASSIGN=all): 150 technicians near one neighbourhood, then a burst of N
   simultaneous POST /api/v1/repairs. Reports request -> assigned time (the service's
   assigned_at - requested_at, and the wall time until every repair is assigned), and checks
   that no request is lost and no technician holds two jobs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.stats import print_table, summary
from services.common.config import setting
from services.common.events import new_id
from services.common.store import open_database
from services.dispatch import domain
from services.dispatch.assignment import rank_nearby, search_cells
from services.dispatch.schemas import SKILL_CODES
from services.dispatch.store import DispatchStore, cells_of

CENTRE = (30.5800, 114.2700)  # Wuhan, Jianghan district
CITY_KM = 25.0
MAX_ETA = 30.0
TZ = setting(None, "CITY_TZ")
SHIFT_PLANS = [None, {d: [["07:00", "23:00"]] for d in ("mon", "tue", "wed", "thu", "fri",
                                                          "sat", "sun")},
               {d: [["20:00", "08:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                  "sun")}]


def random_point(rng: random.Random, km: float = CITY_KM, centre=CENTRE) -> dict:
    half = km / 2
    return {"lat": centre[0] + rng.uniform(-half, half) / 111.195,
            "lng": centre[1] + rng.uniform(-half, half) / 95.8}  # km per degree at 30.6 N


def technician_doc(rng: random.Random, now: datetime) -> dict:
    home = random_point(rng)
    here = random_point(rng) if rng.random() < 0.7 else None
    h3_cell, search_cell = cells_of(here or home)
    return {"_id": new_id("tec"), "sub": uuid.uuid4().hex, "name": "bench",
            "skills": rng.sample(SKILL_CODES, rng.randint(1, 3)), "home": home,
            "shifts": rng.choice(SHIFT_PLANS), "travel_mode": rng.choice(["walking", "ebike"]),
            "status": "available" if rng.random() < 0.6 else "offline", "location": here,
            "location_at": now if here else None, "h3_cell": h3_cell, "search_cell": search_cell,
            "current_repair_id": None, "active_jobs": 0,
            "rating_sum": 0, "rating_count": (count := rng.randint(0, 40)),
            "rating_avg": round(rng.uniform(3, 5), 2) if count else None,
            "created_at": now, "updated_at": now}


def timed(fn, samples: list) -> list[float]:
    out = []
    for arg in samples:
        started = time.perf_counter()
        fn(arg)
        out.append(time.perf_counter() - started)
    return out


def bench_ranking(n_techs: int, samples: int, tmp: Path) -> list[dict]:
    rng = random.Random(n_techs)
    now = datetime.now(UTC)
    db = open_database(f"bench{n_techs}", "", str(tmp))
    try:
        store = DispatchStore(db.db, cache=True)
        store.ensure_indexes()
        store.insert_technicians([technician_doc(rng, now) for _ in range(n_techs)])
        repairs = [{"_id": "rep", "skill": rng.choice(SKILL_CODES),
                    "location": random_point(rng, CITY_KM * 0.8)} for _ in range(samples)]
        ranked_sizes = []

        def near(repair):
            return rank_nearby(store, repair, now, max_eta_minutes=MAX_ETA, tz=TZ)

        def indexed(repair):
            ranked_sizes.append(len(near(repair)[0]))

        everyone = list(store.technicians.find({}))
        rows = [summary(f"{n_techs} techs: full scan (baseline)",
                        timed(lambda r: domain.rank_with_exclusions(r, everyone, now, tz=TZ),
                              repairs[:50]), 1)]
        store.cache_enabled = False
        rows.append(summary(f"{n_techs} techs: H3 cells, database query",
                            timed(near, repairs[:30]), 1))
        store.cache_enabled = True
        search_cells.cache_clear()
        elapsed = time.perf_counter()
        latencies = timed(indexed, repairs)
        rows.append(summary(f"{n_techs} techs: in-memory, first pass (cold)", latencies,
                            time.perf_counter() - elapsed))
        ranked_sizes.clear()
        elapsed = time.perf_counter()
        latencies = timed(indexed, repairs)
        rows.append(summary(f"{n_techs} techs: in-memory, warm cell cache", latencies,
                            time.perf_counter() - elapsed))
        for row in rows[:2]:
            row["rate_per_s"] = round(1000 / row["mean_ms"], 1)
        print(f"  {n_techs} technicians: {statistics.fmean(ranked_sizes):.1f} ranked per "
              f"request on average (max {max(ranked_sizes)})")
        return rows
    finally:
        db.close()


# ------------------------------------------------------------------ burst through HTTP


def token(base: str, sub: str, role: str) -> str:
    r = requests.post(f"{base}/api/v1/auth/dev-token", json={"sub": sub, "role": role},
                      timeout=10)
    return r.json()["access_token"]


def bench_burst(base: str, burst: int, n_techs: int = 150) -> list[dict]:
    rng = random.Random(7)
    boss = {"Authorization": f"Bearer {token(base, 'bench-dispatcher', 'dispatcher')}"}
    for i in range(n_techs):
        r = requests.post(f"{base}/api/v1/technicians", headers=boss, timeout=10, json={
            "sub": f"bench-tech-{i}", "name": f"师傅{i}",
            "skills": list(SKILL_CODES[:4]), "home": random_point(rng, 4.0),
            "travel_mode": "ebike", "status": "available"})
        assert r.status_code == 201, r.text
    residents = [{"Authorization": f"Bearer {token(base, f'bench-resident-{i}', 'resident')}"}
                 for i in range(10)]
    barrier = threading.Barrier(burst)
    posted: list[tuple[str, dict, float]] = []
    lock = threading.Lock()

    def report(i: int) -> None:
        auth = residents[i % len(residents)]
        body = {"skill": SKILL_CODES[i % 4], "description": "漏水", "address": f"{i}号",
                "location": random_point(random.Random(i), 3.0)}
        barrier.wait()
        started = time.perf_counter()
        r = requests.post(f"{base}/api/v1/repairs", json=body, timeout=30,
                          headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
        assert r.status_code == 201, r.text
        with lock:
            posted.append((r.json()["id"], auth, time.perf_counter() - started))

    threads = [threading.Thread(target=report, args=(i,)) for i in range(burst)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    post_done = time.perf_counter() - started

    session = requests.Session()
    final: dict[str, dict] = {}
    deadline = time.monotonic() + 120
    while len(final) < len(posted) and time.monotonic() < deadline:
        for rid, auth, _ in posted:
            if rid not in final:
                repair = session.get(f"{base}/api/v1/repairs/{rid}", headers=auth,
                                     timeout=10).json()
                if repair["status"] == "assigned":
                    final[rid] = repair
        time.sleep(0.02)
    all_assigned = time.perf_counter() - started

    techs = [r["technician_id"] for r in final.values()]
    lost = burst - len(posted)
    verdict = ("no technician holds two jobs" if len(set(techs)) == len(techs)
               else "A TECHNICIAN WAS BOOKED TWICE")
    print(f"\nburst of {burst} simultaneous POST /api/v1/repairs, {n_techs} technicians: "
          f"{len(posted)} accepted (lost {lost}), {len(final)} assigned to "
          f"{len(set(techs))} distinct technicians ({verdict}); all POSTs answered in "
          f"{post_done:.2f}s, all assigned {all_assigned:.2f}s after the burst started")
    delays = [(datetime.fromisoformat(r["assigned_at"]) - datetime.fromisoformat(
        r["requested_at"])).total_seconds() for r in final.values()]
    # Baseline in the same run: the same burst shape of one-RPC reads.
    sample_id, sample_auth, _ = posted[0]
    reads: list[float] = []
    barrier = threading.Barrier(burst)

    def read() -> None:
        barrier.wait()
        t0 = time.perf_counter()
        r = requests.get(f"{base}/api/v1/repairs/{sample_id}", headers=sample_auth, timeout=30)
        assert r.status_code == 200, r.text
        with lock:
            reads.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=read) for _ in range(burst)]
    t_reads = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [summary("burst GET /api/v1/repairs/{id} (1 RPC, baseline)", reads,
                    time.perf_counter() - t_reads),
            summary("POST /api/v1/repairs (201) under the burst",
                    [p for *_, p in posted], post_done),
            summary("requested_at -> assigned_at (service clock)", delays, all_assigned)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--skip-system", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        print(f"ranking: {args.samples} random repairs per size, city {CITY_KM:g} km square, "
              f"search radius {MAX_ETA:g} min by e-bike")
        rows = []
        for n in (1000, 10_000):
            rows += bench_ranking(n, args.samples, Path(tmp))
        print()
        print_table(rows)
        print("(baseline rows: rate/s = 1000 / mean ms)")

    if args.skip_system:
        return
    from services.common.broker import temporary_vhost
    from services.launcher import start_private

    with temporary_vhost(setting(None, "AMQP_URI"), f"lifecircle-bench-{os.getpid()}") as uri, \
            tempfile.TemporaryDirectory() as tmp:
        system = start_private(uri, Path(tmp), {"DISPATCH_AUTO_ASSIGN": "all",
                                                "DISPATCH_TIMER_SECONDS": "1"})
        try:
            rows = bench_burst(system.base_url, args.burst)
        finally:
            system.stop_all()
    print()
    print_table(rows, baseline="burst GET /api/v1/repairs/{id} (1 RPC, baseline)")


if __name__ == "__main__":
    main()
