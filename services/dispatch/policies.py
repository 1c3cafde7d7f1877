"""Dispatch policies: which free technician goes to which open repair. Pure functions.

Every policy works on what the service's candidate search already produces: for each open
repair, its ranked candidates (rows of `domain.rank_with_exclusions`, each with
`technician_id`, `eta_minutes`, `distance_m`), so the ETA and eligibility rules stay in one
place. The simulator (sim/, docs/simulation.md) compares them on the same seeded days.

- "ranking": today's rule, one repair at a time as it comes: ETA, then load, then rating.
- "nearest": one repair at a time, the nearest free technician by straight-line distance,
  whatever their travel mode (the naive greedy baseline).
- "batched": every 30–60 s, all open repairs at once by minimum-cost assignment over ETA
  weighted by how close each repair is to its deadline; a repair whose best candidate went
  to a more urgent one waits for the next round instead of taking a poor match when it can
  still be on time then, which leaves that technician free for a repair that suits them.
- "batched_reposition": "batched", plus idle technicians drift toward the cells where
  demand is expected in the next hour (reposition_targets).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from services.dispatch import domain

POLICIES = ("ranking", "nearest", "batched", "batched_reposition")
# What the dispatch service can run (DISPATCH_POLICY): repositioning moves people, which a
# dispatcher can suggest but the service cannot do.
SERVICE_POLICIES = ("ranking", "nearest", "batched")
BATCHED = frozenset({"batched", "batched_reposition"})
# A booking joins the batch once its window opens within this many minutes: early enough to
# reach it on time, late enough not to leave a technician waiting at the door.
BOOKING_LEAD_MINUTES = 15.0


def is_batched(policy: str) -> bool:
    return policy in BATCHED


def check_policy(policy: str, allowed: Sequence[str] = POLICIES) -> str:
    if policy not in allowed:
        raise ValueError(f"unknown dispatch policy {policy!r}; one of {', '.join(allowed)}")
    return policy


# --------------------------------------------------------------------------- one at a time


def _usable(ranked: Iterable[dict[str, Any]], skip: Iterable[Any], max_eta: float | None
            ) -> list[dict[str, Any]]:
    busy = {str(i) for i in skip}
    return [c for c in ranked if str(c["technician_id"]) not in busy
            and (max_eta is None or c["eta_minutes"] <= max_eta)]


def pick_ranked(ranked: Sequence[dict[str, Any]], skip: Iterable[Any] = (),
                max_eta: float | None = None) -> dict[str, Any] | None:
    """Today's choice: the first of the ranking (ETA, load, rating) not skipped."""
    return domain.pick_for_auto_assign(list(ranked), set(skip), max_eta)


def pick_nearest(ranked: Sequence[dict[str, Any]], skip: Iterable[Any] = (),
                 max_eta: float | None = None) -> dict[str, Any] | None:
    """The nearest candidate in metres (ties by id), ignoring how fast they travel."""
    usable = _usable(ranked, skip, max_eta)
    return min(usable, key=lambda c: (c["distance_m"], str(c["technician_id"])), default=None)


PICKERS = {"ranking": pick_ranked, "nearest": pick_nearest}


def pick(policy: str, ranked: Sequence[dict[str, Any]], skip: Iterable[Any] = (),
         max_eta: float | None = None) -> dict[str, Any] | None:
    """One repair's choice under a one-at-a-time policy (a batched one ranks, too, when it
    must choose for a single repair)."""
    return PICKERS.get(policy, pick_ranked)(ranked, skip, max_eta)


# --------------------------------------------------------------------------- batched


@dataclass(frozen=True)
class BatchJob:
    """One open repair in a batch: its id, how long it has waited, its window, candidates."""

    repair_id: str
    waited_minutes: float  # now - requested_at (0 for a booking whose window starts later)
    sla_minutes: float  # due_by - requested_at
    candidates: Sequence[dict[str, Any]]  # ranked rows: technician_id, eta_minutes, ...


@dataclass(frozen=True)
class BatchParams:
    window_minutes: float = 0.5  # the batch interval: a repair left waiting waits this long
    accept_minutes: float = 0.75  # expected time for a technician to accept
    late_penalty: float = 1000.0  # any on-time arrival beats any late one
    urgency_weight: float = 1.0  # ETA weight grows from 1 to 1 + this as the deadline nears
    # Let a repair with slack wait a round rather than take a poor match. Off: on three
    # simulated days it cost more breaches than it saved (docs/simulation.md).
    hold: bool = False
    hold_max_urgency: float = 0.3  # ... and then only in the first 30 % of its window
    early_slack_minutes: float = 3.0  # a booking may be reached this early without cost
    early_weight: float = 2.0  # per minute a technician would wait at a booked door
    keep_weight: float = 8.0  # minutes per expected request only this technician covers


# Cost of a pair that is not a candidate at all: never chosen over a real option.
_FORBIDDEN = 1e9


def urgency(waited: float, sla: float) -> float:
    """0 when the repair has just come in, 1 when its deadline is here (or past)."""
    return min(1.0, max(0.0, waited / sla)) if sla > 0 else 1.0


def pair_cost(eta: float, waited: float, sla: float, params: BatchParams,
              keep: float = 0.0) -> float:
    """Cost in minutes of sending a technician `eta` minutes away to a repair that has waited
    `waited` of its `sla` minutes (negative: a booking whose window starts later).

    Late arrivals cost `late_penalty` plus the lateness, so any on-time match beats them.
    On time, the ETA weighted by deadline closeness (an urgent repair's minutes count
    more), plus the minutes the technician would stand at a booked door, plus what sending
    this technician gives up: `keep`, the requests expected soon that only they would reach
    in time (computed by the caller; 0 when unknown) — so of two technicians who both make
    it, the one whose area stays covered goes, and the other stays free.
    """
    arrival = waited + params.accept_minutes + eta
    cost = eta * (1.0 + params.urgency_weight * urgency(waited, sla))
    cost += params.early_weight * max(0.0, -arrival - params.early_slack_minutes)
    cost += params.keep_weight * keep
    if arrival > sla:
        cost += params.late_penalty + (arrival - sla)
    return cost


def _cand_cost(cand: dict[str, Any], waited: float, sla: float, params: BatchParams) -> float:
    return pair_cost(float(cand["eta_minutes"]), waited, sla, params,
                     float(cand.get("keep", 0.0)))


def hold_cost(job: BatchJob, params: BatchParams) -> float | None:
    """Cost of leaving the repair for the next round, or None when it cannot wait.

    A booking whose window has not opened yet may always wait (so it is matched just in
    time, not with a technician standing at the door). With `hold`, a repair early in its
    window may wait too, when it would still be on time next round with its best candidate
    of now: a repair whose best technician goes to a more urgent one then waits instead of
    taking a poor second choice. Waiting costs what that match would cost then plus the
    wait itself."""
    if not job.candidates:
        return None
    later = job.waited_minutes + params.window_minutes
    booking = later <= 0  # its window has not opened by the next round: waiting is free
    if not booking and (not params.hold or
                        urgency(job.waited_minutes, job.sla_minutes) > params.hold_max_urgency):
        return None
    if later + params.accept_minutes + min(c["eta_minutes"] for c in job.candidates) \
            > job.sla_minutes:
        return None
    best = min(_cand_cost(c, later, job.sla_minutes, params) for c in job.candidates)
    return best + params.window_minutes


def batch_match(jobs: Sequence[BatchJob], params: BatchParams = BatchParams()
                ) -> list[tuple[str, dict[str, Any]]]:
    """Minimum-cost assignment of technicians to all open repairs at once.

    Returns (repair_id, candidate row) pairs; a technician appears at most once, and a repair
    that is missing got no one this round (no candidate, or it waits). Deterministic: rows
    and columns are in input order and technician ids, so equal inputs give equal outputs.
    """
    techs: dict[str, int] = {}
    for job in jobs:
        for cand in job.candidates:
            techs.setdefault(str(cand["technician_id"]), len(techs))
    if not jobs or not techs:
        return []
    n_jobs, n_techs = len(jobs), len(techs)
    # Columns: technicians, then one "wait" column per repair (usable by that repair only).
    cost = np.full((n_jobs, n_techs + n_jobs), _FORBIDDEN)
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for j, job in enumerate(jobs):
        for cand in job.candidates:
            i = techs[str(cand["technician_id"])]
            c = _cand_cost(cand, job.waited_minutes, job.sla_minutes, params)
            if c < cost[j, i]:
                cost[j, i] = c
                rows[(j, i)] = cand
        held = hold_cost(job, params)
        if held is not None:
            cost[j, n_techs + j] = held
    job_idx, col_idx = linear_sum_assignment(cost)
    out = []
    for j, i in zip(job_idx.tolist(), col_idx.tolist(), strict=True):
        if i < n_techs and cost[j, i] < _FORBIDDEN:
            out.append((jobs[j].repair_id, rows[(j, i)]))
    return out


def total_cost(jobs: Sequence[BatchJob], pairs: Iterable[tuple[str, dict[str, Any]]],
               params: BatchParams = BatchParams()) -> float:
    """The objective batch_match minimises, for a given set of pairs (used by tests)."""
    chosen = dict(pairs)
    total = 0.0
    for job in jobs:
        cand = chosen.get(job.repair_id)
        if cand is not None:
            total += _cand_cost(cand, job.waited_minutes, job.sla_minutes, params)
        else:
            held = hold_cost(job, params)
            total += held if held is not None else _FORBIDDEN
    return total


# --------------------------------------------------------------------------- repositioning


def keep_values(reach: Any, skills: Sequence[Sequence[str]], demand: Mapping[str, Any],
                busy_hours: float = 0.75) -> list[float]:
    """For each idle technician k, the requests expected while a job keeps them busy that
    they alone would reach in time: sum over their skills s and the areas a they reach
    (reach[k][a]) of demand[s][a] per hour x busy_hours / (idle technicians with skill s
    reaching a). A technician in a well-covered area is worth little to keep free."""
    reach = np.asarray(reach, dtype=float)
    out = np.zeros(len(skills))
    if reach.size == 0:
        return out.tolist()
    for s in sorted({s for ks in skills for s in ks}):
        has = np.array([s in ks for ks in skills], dtype=float)
        covering = has @ reach  # idle technicians with skill s reaching each area
        share = np.asarray(demand.get(s, 0.0), dtype=float) / np.maximum(covering, 1.0)
        out += has * (reach @ share)
    return (out * busy_hours).tolist()


def coverage_slots(demand: Sequence[float], near: Any, slots: int, backup: float = 0.5
                   ) -> tuple[list[int], np.ndarray]:
    """Where to keep `slots` idle technicians so the expected demand covered is greatest.

    demand[a] is area a's expected requests; near[a][b] is True when a technician waiting in
    area a reaches area b in time. Greedy maximal covering: each slot goes to the area that
    covers the most demand not yet covered; demand that is covered keeps `backup` of its
    weight, so busy areas get a second technician once the rest is covered (the first one
    may be out on a job). Ties go to the lower index, so the result is deterministic.
    Returns the chosen areas and the demand left uncovered (to place another group on).
    """
    weight = np.asarray(demand, dtype=float).copy()
    reach = np.asarray(near, dtype=bool)
    chosen: list[int] = []
    if weight.sum() <= 0:
        return chosen, weight
    for _ in range(max(0, slots)):
        gains = reach.astype(float) @ weight
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        chosen.append(best)
        weight[reach[best]] *= backup
    return chosen, weight


def reposition_targets(technician_ids: Sequence[str], targets: Sequence[Any],
                       minutes: Any, min_move_minutes: float = 2.0) -> dict[str, Any]:
    """Send idle technicians to target slots so that the total travel time is least.

    minutes[k][t] is technician k's travel time to target t (e.g. slots from coverage_slots
    over the next hour's expected demand). Returns technician id -> target for those whose target
    is more than `min_move_minutes` away (a short hop is not worth the legs).
    """
    if not len(technician_ids) or not len(targets):
        return {}
    cost = np.asarray(minutes, dtype=float)
    rows, cols = linear_sum_assignment(cost)
    return {technician_ids[k]: targets[t] for k, t in zip(rows.tolist(), cols.tolist(), strict=True)
            if cost[k, t] > min_move_minutes}
