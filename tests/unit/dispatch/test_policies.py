import itertools
import random

import numpy as np
import pytest

from services.dispatch import policies
from services.dispatch.policies import BatchJob, BatchParams, batch_match, total_cost


def cand(tech, eta, distance=None, keep=0.0):
    return {"technician_id": tech, "eta_minutes": eta,
            "distance_m": distance if distance is not None else eta * 100, "keep": keep}


def brute_force(jobs, params):
    """Least total cost over every way to give each repair one of its candidates (each
    technician once) or nothing."""
    best = float("inf")
    options = [[None, *job.candidates] for job in jobs]
    for choice in itertools.product(*options):
        techs = [c["technician_id"] for c in choice if c is not None]
        if len(techs) != len(set(techs)):
            continue
        pairs = [(job.repair_id, c) for job, c in zip(jobs, choice, strict=True) if c is not None]
        best = min(best, total_cost(jobs, pairs, params))
    return best


@pytest.mark.parametrize("params", [BatchParams(), BatchParams(hold=True)])
def test_the_batched_matcher_finds_the_cheapest_assignment_on_small_cases(params):
    rng = random.Random(13)
    for _ in range(300):
        techs = [f"t{k}" for k in range(rng.randint(1, 4))]
        jobs = []
        for j in range(rng.randint(1, 4)):
            offered = [t for t in techs if rng.random() < 0.7]
            jobs.append(BatchJob(f"r{j}", waited_minutes=rng.uniform(-10, 16), sla_minutes=15,
                                 candidates=[cand(t, round(rng.uniform(1, 20), 1),
                                                  keep=rng.choice([0, 0, 0.3]))
                                             for t in offered]))
        pairs = batch_match(jobs, params)
        assert len({c["technician_id"] for _, c in pairs}) == len(pairs)
        assert total_cost(jobs, pairs, params) == pytest.approx(brute_force(jobs, params))


def test_two_on_time_arrivals_beat_one_quick_one_and_one_late():
    # Greedy in order gives r1 its nearest (A) and leaves r2 only B, too far to make it.
    jobs = [BatchJob("r1", 0, 15, [cand("A", 3), cand("B", 6)]),
            BatchJob("r2", 8, 15, [cand("A", 5), cand("B", 12)])]
    pairs = batch_match(jobs, BatchParams(hold=False))
    assert dict((r, c["technician_id"]) for r, c in pairs) == {"r1": "B", "r2": "A"}


@pytest.mark.parametrize("hold", [False, True])
def test_a_repair_close_to_its_deadline_gets_the_nearer_technician(hold):
    jobs = [BatchJob("fresh", 0, 15, [cand("A", 4), cand("B", 6)]),
            BatchJob("urgent", 6, 15, [cand("A", 4), cand("B", 6)])]
    pairs = dict((r, c["technician_id"]) for r, c in batch_match(jobs, BatchParams(hold=hold)))
    assert pairs["urgent"] == "A"


def test_a_booking_waits_rather_than_send_a_technician_to_stand_at_the_door():
    booking = BatchJob("later", waited_minutes=-14, sla_minutes=15, candidates=[cand("A", 4)])
    assert batch_match([booking]) == []
    now_due = BatchJob("later", waited_minutes=-5, sla_minutes=15, candidates=[cand("A", 4)])
    assert [r for r, _ in batch_match([now_due])] == ["later"]


def test_with_hold_a_repair_with_slack_waits_instead_of_taking_a_poor_match():
    # A is the only good match for both; the fresh repair can still make it next round.
    jobs = [BatchJob("urgent", 9, 15, [cand("A", 3), cand("B", 9)]),
            BatchJob("fresh", 0, 15, [cand("A", 3), cand("B", 9)])]
    held = dict((r, c["technician_id"]) for r, c in batch_match(jobs, BatchParams(hold=True)))
    assert held == {"urgent": "A"}
    # Without holding, the fresh repair takes B.
    held_off = dict((r, c["technician_id"]) for r, c in batch_match(jobs, BatchParams(hold=False)))
    assert held_off == {"urgent": "A", "fresh": "B"}


def test_of_two_technicians_who_both_make_it_the_one_nobody_else_covers_stays():
    jobs = [BatchJob("r", 0, 15, [cand("alone", 4, keep=0.8), cand("covered", 5, keep=0.1)])]
    assert batch_match(jobs)[0][1]["technician_id"] == "covered"


def test_no_candidates_no_assignment():
    assert batch_match([BatchJob("r", 0, 15, [])]) == []
    assert batch_match([]) == []


def test_nearest_ignores_travel_mode_and_ranking_takes_the_first():
    ranked = [cand("ebike", 3, distance=900), cand("walker", 6, distance=350)]
    assert policies.pick_nearest(ranked)["technician_id"] == "walker"
    assert policies.pick_ranked(ranked)["technician_id"] == "ebike"
    assert policies.pick_ranked(ranked, skip={"ebike"})["technician_id"] == "walker"
    assert policies.pick_ranked(ranked, max_eta=2) is None


def test_coverage_puts_idle_technicians_on_different_clusters_first():
    demand = [10, 9, 1]
    near = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=bool)  # areas 0 and 1 adjoin
    slots, left = policies.coverage_slots(demand, near, 2, backup=0.0)
    assert slots == [0, 2]
    assert left.tolist() == [0, 0, 0]


def test_a_technician_alone_in_an_area_is_worth_more_kept_free():
    reach = np.array([[1, 0], [0, 1], [0, 1]], dtype=bool)  # one covers area 0, two area 1
    demand = {"plumbing": np.array([2.0, 2.0])}
    alone, shared, _ = policies.keep_values(reach, [["plumbing"]] * 3, demand, busy_hours=1)
    assert alone == pytest.approx(2.0)
    assert shared == pytest.approx(1.0)


def test_unknown_policies_are_refused():
    with pytest.raises(ValueError, match="unknown dispatch policy"):
        policies.check_policy("fastest")
