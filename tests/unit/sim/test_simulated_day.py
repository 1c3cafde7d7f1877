"""Invariants of a simulated day, for every policy, on a short day (a small city and fleet)."""

from __future__ import annotations

from functools import cache

import pytest

from services.common.times import as_utc
from services.dispatch import policies
from sim import report
from sim.city import build_city
from sim.demand import learn_demand, repairs_for_day
from sim.engine import Params, Simulation
from sim.experiment import day_start
from sim.fleet import build_fleet
from sim.report import on_time

RELEASES = {"decline", "accept_timeout", "complete", "cannot_fix", "cancel"}


@cache
def city():
    return build_city(3, homes=1500, shops=60)


def simulate(policy: str, seed: int = 5, fleet: int = 60, repairs: float = 250):
    c = city()
    start = day_start(__import__("datetime").date(2026, 3, 2))
    sim = Simulation(c, repairs_for_day(c, seed, repairs), build_fleet(c, fleet, 3, start),
                     Params(policy=policy), start, learn_demand(c, [seed + 1], repairs))
    return sim.run()


@cache
def day(policy: str):
    return simulate(policy)


@pytest.mark.parametrize("policy", policies.POLICIES)
def test_the_clock_never_goes_back(policy):
    times = [t for t, *_ in day(policy).log]
    assert times == sorted(times)
    assert len(times) > 1000


@pytest.mark.parametrize("policy", policies.POLICIES)
def test_every_request_ends_completed_or_cancelled(policy):
    outcome = day(policy)
    assert len(outcome.repairs) > 200
    assert {r["status"] for r in outcome.repairs.values()} <= {"completed", "rated", "cancelled"}
    assert all(t["current_repair_id"] is None for t in outcome.technicians.values())


@pytest.mark.parametrize("policy", policies.POLICIES)
def test_no_technician_is_on_two_jobs_at_once(policy):
    holding: dict[str, str] = {}  # technician -> the repair they hold
    for _, what, repair, tech in day(policy).log:
        if what == "assign":
            assert tech not in holding, f"{tech} given {repair} while on {holding.get(tech)}"
            holding[tech] = repair
        elif what in RELEASES and tech and holding.get(tech) == repair:
            del holding[tech]
        elif what in ("accept", "arrive"):
            assert holding.get(tech) == repair
    assert holding == {}


@pytest.mark.parametrize("policy", policies.POLICIES)
def test_arrivals_never_come_before_the_assignment(policy):
    outcome = day(policy)
    arrived = [r for r in outcome.repairs.values() if r.get("arrived_at")]
    assert len(arrived) > 200
    for r in arrived:
        assigned = [h["at"] for h in r["history"] if h["status"] == "assigned"]
        accepted = [h["at"] for h in r["history"] if h["status"] == "accepted"]
        assert assigned and as_utc(assigned[0]) <= as_utc(accepted[0]) <= as_utc(r["arrived_at"])


def test_the_same_seed_gives_the_same_report_and_another_seed_another():
    first = report.summarise(simulate("batched_reposition", seed=9))
    again = report.summarise(simulate("batched_reposition", seed=9))
    other = report.summarise(simulate("batched_reposition", seed=10))
    assert first == again
    assert first != other


def test_a_fleet_too_small_for_the_day_breaks_the_promise_more_often():
    short = report.summarise(simulate("ranking", fleet=25))
    enough = report.summarise(simulate("ranking", fleet=60))
    assert short["within_15"] < enough["within_15"]
    assert short["breaches"] == sum(h["breaches"] for h in short["by_hour"].values())


def test_on_time_means_arrived_by_the_deadline():
    outcome = day("ranking")
    late = [r for r in outcome.repairs.values() if r.get("arrived_at") and not on_time(r)]
    assert all(as_utc(r["arrived_at"]) > as_utc(r["due_by"]) for r in late)
