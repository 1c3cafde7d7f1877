"""Who goes to a repair: the candidate search and automatic assignment.

Two layers. ``rank`` and ``choose`` are plain functions over plain dicts (the repair, the
technicians near it, ``now`` and the policy): no store, no broker, so a simulator can drive
the real rules on a simulated clock. ``rank_nearby``, ``auto_assign`` and ``assign_waiting``
put them to work over the dispatch store: the H3-cell search (never a full scan) and the
booking, through repairs.book.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import h3

from services.common.geo import candidate_cells, cell_for, haversine_m
from services.common.outbox import Dispatch
from services.common.refusals import Conflict
from services.dispatch import domain, repairs
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
    return domain.pick_for_auto_assign(ranked, set(repair.get("declined_technician_ids") or []),
                                       policy.max_eta_minutes)


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
    if not policy.auto_assign_on:
        return 0
    return sum(auto_assign(store, publish, repair["_id"], now, policy)
               for repair in store.active_repairs(("open",), limit=limit))
