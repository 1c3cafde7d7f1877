"""Who goes to a repair: the candidate search and automatic assignment.

Two layers. ``rank``, ``choose`` and ``plan_batch`` are plain functions over plain dicts
(the repairs, the technicians near them, ``now`` and the policy): no store, no broker, so the
simulator (sim/) drives the real rules on a simulated clock. ``rank_nearby``, ``auto_assign``,
``assign_waiting`` and ``assign_batch`` put them to work over the dispatch store: the H3-cell
search (never a full scan) and the booking, through repairs.book.

DISPATCH_POLICY picks how the automatic assigner chooses (services/dispatch/policies.py):
"ranking" and "nearest" choose for each repair as it comes (on its event, and the sweep
retries); "batched" leaves the events alone and matches every open repair at once each
DISPATCH_BATCH_SECONDS (the service's ``match`` timer).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import h3

from services.common.geo import candidate_cells, cell_for, haversine_m
from services.common.outbox import Dispatch
from services.common.refusals import Conflict
from services.common.times import as_utc
from services.dispatch import domain, policies, repairs
from services.dispatch.store import SEARCH_RES, DispatchStore

SYSTEM = {"id": "system", "role": "system"}
# The domain rounds ETAs to 0.1 min, so "within max_eta" reaches half a step further.
ROUNDING_SLACK_MINUTES = 0.05


# ------------------------------------------------------------------ pure: rank and choose


def within_reach(tech: dict[str, Any], target: dict[str, float], max_eta: float) -> bool:
    """Cheap straight-line pre-filter; the domain ranks whoever passes (or says why not)."""
    origin = tech.get("location") or tech.get("home")
    mode = domain.TRAVEL_MODES.get(tech.get("travel_mode") or domain.DEFAULT_TRAVEL_MODE)
    if not origin or mode is None:
        return True  # let the domain exclude it with the reason
    distance = haversine_m(origin["lat"], origin["lng"], target["lat"], target["lng"])
    return distance <= mode.max_distance_m(max_eta)


def rank(repair: dict[str, Any], technicians: list[dict[str, Any]], now: datetime, *,
         max_eta_minutes: float, tz: str) -> tuple[list[dict], list[dict]]:
    """The technicians who could reach ``repair`` within ``max_eta_minutes``, best first,
    each with its rank, ETA and reasons; and who was left out and why. ``technicians`` may
    include booked ones (listed as excluded) and far ones (dropped without a word)."""
    reach = max_eta_minutes + ROUNDING_SLACK_MINUTES
    free, excluded = [], []
    for tech in technicians:
        if not within_reach(tech, repair["location"], reach):
            continue  # too far for their travel mode: not a candidate at all
        if tech.get("current_repair_id"):
            excluded.append({"technician_id": tech["_id"], "name": tech["name"],
                             "reasons": ["booked for another job"]})
        else:
            free.append(tech)
    ranked, not_eligible = domain.rank_with_exclusions(repair, free, now, tz=tz)
    near = [c for c in ranked if c["eta_minutes"] <= max_eta_minutes]
    for far in ranked[len(near):]:
        excluded.append({"technician_id": far["technician_id"], "name": far["name"],
                         "reasons": [f"ETA {far['eta_minutes']:.1f} min is over the "
                                     f"{max_eta_minutes:g} min limit"]})
    for position, row in enumerate(near, start=1):
        row["rank"] = position
    return near, not_eligible + excluded


def choose(repair: dict[str, Any], technicians: list[dict[str, Any]], now: datetime,
           policy: domain.Policy) -> dict[str, Any] | None:
    """The candidate the automatic assigner sends to ``repair`` now, or None: the repair is
    not open, is booked for later, or nobody free is within the max ETA. Never offers it
    again to someone who declined it or let it time out."""
    if repair.get("status", "open") != "open":
        return None
    if domain.booked_for_later(repair, now, policy.max_eta_minutes):
        return None
    ranked, _ = rank(repair, technicians, now, max_eta_minutes=policy.max_eta_minutes,
                     tz=policy.tz)
    return policies.pick(policy.rule, ranked, set(repair.get("declined_technician_ids") or []),
                         policy.max_eta_minutes)


def plan_batch(waiting: list[tuple[dict[str, Any], list[dict[str, Any]]]], now: datetime,
               policy: domain.Policy, keep: dict[str, float] | None = None
               ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """One round of the batched policy: (repair, chosen candidate) pairs for the open repairs
    in ``waiting`` (each with the technicians near it), all matched at once by least total
    cost (policies.batch_match). A booking joins once its window opens within
    policies.BOOKING_LEAD_MINUTES; a technician who declined a repair is not offered it again.
    ``keep``: optional technician id -> what keeping them free is worth (policies.keep_values).
    """
    jobs, by_id = [], {}
    for repair, technicians in waiting:
        if repair.get("status", "open") != "open" or \
                domain.booked_for_later(repair, now, policies.BOOKING_LEAD_MINUTES):
            continue
        ranked, _ = rank(repair, technicians, now, max_eta_minutes=policy.max_eta_minutes,
                         tz=policy.tz)
        declined = {str(t) for t in repair.get("declined_technician_ids") or []}
        offered = [c for c in ranked if str(c["technician_id"]) not in declined]
        for cand in offered:
            cand["keep"] = (keep or {}).get(cand["technician_id"], 0.0)
        start = as_utc(repair["requested_at"])
        jobs.append(policies.BatchJob(
            repair["_id"], (as_utc(now) - start).total_seconds() / 60,
            (as_utc(repair["due_by"]) - start).total_seconds() / 60, offered))
        by_id[repair["_id"]] = repair
    params = policies.BatchParams(window_minutes=policy.batch_seconds / 60)
    return [(by_id[rid], cand) for rid, cand in policies.batch_match(jobs, params)]


# ------------------------------------------------------------------ over the store


def search_radius_m(max_eta_minutes: float) -> float:
    """How far the fastest travel mode gets within the longest ETA worth offering."""
    return max(mode.max_distance_m(max_eta_minutes) for mode in domain.TRAVEL_MODES.values())


@functools.lru_cache(maxsize=4096)
def search_cells(cell: str, radius_m: float) -> list[str]:
    """Search cells covering radius_m around any point of ``cell`` (a search-resolution
    cell): computed once for the cell's centre with the cell's own reach added (its farthest
    vertex), so every repair in that neighbourhood reuses them."""
    lat, lng = h3.cell_to_latlng(cell)
    reach = max(haversine_m(lat, lng, v_lat, v_lng) for v_lat, v_lng in h3.cell_to_boundary(cell))
    return candidate_cells(lat, lng, radius_m + reach + 1.0, SEARCH_RES)


def nearby_technicians(store: DispatchStore, repair: dict[str, Any], max_eta_minutes: float
                       ) -> tuple[list[dict[str, Any]], float]:
    """Available technicians with the skill in the H3 cells around the repair (free or
    booked), and the search radius in metres."""
    radius = search_radius_m(max_eta_minutes + ROUNDING_SLACK_MINUTES)
    loc = repair["location"]
    cells = search_cells(cell_for(loc["lat"], loc["lng"], SEARCH_RES), radius)
    return store.technicians_in(cells, repair["skill"]), radius


def rank_nearby(store: DispatchStore, repair: dict[str, Any], now: datetime, *,
                max_eta_minutes: float, tz: str) -> tuple[list[dict], list[dict], float]:
    """Candidates from the cells around the repair, ranked; who was left out and why; and
    the search radius in metres."""
    technicians, radius = nearby_technicians(store, repair, max_eta_minutes)
    ranked, excluded = rank(repair, technicians, now, max_eta_minutes=max_eta_minutes, tz=tz)
    return ranked, excluded, radius


def candidates(store: DispatchStore, repair: dict[str, Any], now: datetime,
               policy: domain.Policy) -> dict[str, Any]:
    """What a dispatcher sees before choosing: ranked candidates and (some of) who not."""
    ranked, excluded, radius = rank_nearby(store, repair, now,
                                           max_eta_minutes=policy.max_eta_minutes, tz=policy.tz)
    return {"repair_id": repair["_id"], "search_radius_m": round(radius),
            "candidates": ranked, "excluded": excluded[:50]}


def auto_assign(store: DispatchStore, publish: Dispatch, repair_id: str, now: datetime,
                policy: domain.Policy, causation_id: str | None = None) -> bool:
    """Assign the best free candidate if automatic assignment is on for the skill.
    Idempotent: a repair that is no longer open is left alone."""
    if policies.is_batched(policy.rule):
        return False  # the batch timer matches it with the others (assign_batch)
    repair = store.repair(repair_id)
    if repair is None or repair["status"] != "open" or not policy.auto_assigns(repair["skill"]):
        return False
    if domain.booked_for_later(repair, now, policy.max_eta_minutes):
        return False  # the sweep assigns it when its time comes
    technicians, _ = nearby_technicians(store, repair, policy.max_eta_minutes)
    while (pick := choose(repair, technicians, now, policy)) is not None:
        tech = store.technician(pick["technician_id"])
        try:
            repairs.book(store, publish, repair, tech, SYSTEM, "system", pick["eta_minutes"],
                         now, policy, causation_id)
            return True
        except domain.TechnicianBusy:  # booked meanwhile by another request: next one
            technicians = [t for t in technicians if t["_id"] != pick["technician_id"]]
        except Conflict:
            return False  # the repair moved on (cancelled, assigned by hand)
    return False


def assign_waiting(store: DispatchStore, publish: Dispatch, now: datetime,
                   policy: domain.Policy, limit: int = 100) -> int:
    """The sweep's retry for repairs still open (nobody was free, or booked for later)."""
    if not policy.auto_assign_on or policies.is_batched(policy.rule):
        return 0
    return sum(auto_assign(store, publish, repair["_id"], now, policy)
               for repair in store.active_repairs(("open",), limit=limit))


def assign_batch(store: DispatchStore, publish: Dispatch, now: datetime,
                 policy: domain.Policy, limit: int = 100) -> int:
    """A round of the batched policy over the store: every open repair whose skill is
    auto-assigned (most urgent first, up to ``limit``) matched at once, then booked. A
    technician booked meanwhile by a dispatcher is skipped; that repair waits for the next
    round."""
    if not policy.auto_assign_on or not policies.is_batched(policy.rule):
        return 0
    waiting = [(repair, nearby_technicians(store, repair, policy.max_eta_minutes)[0])
               for repair in store.active_repairs(("open",), limit=limit)
               if policy.auto_assigns(repair["skill"])]
    booked = 0
    for repair, pick in plan_batch(waiting, now, policy):
        tech = store.technician(pick["technician_id"])
        try:
            repairs.book(store, publish, repair, tech, SYSTEM, "system", pick["eta_minutes"],
                         now, policy)
            booked += 1
        except (domain.TechnicianBusy, Conflict):
            continue  # booked or moved meanwhile: the next round sees what is left
    return booked
