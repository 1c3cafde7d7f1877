"""One simulated day of repairs: a discrete-event loop on a simulated clock.

Every change to a repair goes through the domain's `transition` (the same state machine,
deadlines and history as the service); candidates come from the service's own search and
policies (sim/bridge.py). What the simulator adds is the world: when residents ask, how
technicians answer, travel, work and move, and when residents give up.

The service's behaviour is reproduced where it matters to timing: automatic assignment on
request, decline and reopen, an accept timeout, a sweep every 5 s that retries open repairs
(here run only when something changed since the last one: a technician freed or starting a
shift, a booking coming due — the outcome is the same), and bookings assigned no earlier than
DISPATCH_MAX_ETA_MINUTES before their window (policies.BOOKING_LEAD_MINUTES when batched).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from services.common.config import DEFAULTS
from services.common.geo import haversine_m
from services.common.times import as_utc
from services.dispatch import domain, policies, records, schemas
from sim import bridge
from sim.city import City, area_of
from sim.demand import Request

DAY_S = 86_400.0
ENDED = ("completed", "rated", "cancelled")


@dataclass(frozen=True)
class Params:
    policy: str = "ranking"
    max_eta_minutes: float = 30.0  # DISPATCH_MAX_ETA_MINUTES
    accept_timeout_s: float = 120.0  # DISPATCH_ACCEPT_TIMEOUT_SECONDS
    sweep_s: float = 5.0  # DISPATCH_TIMER_SECONDS
    batch_s: float = 30.0  # batched policies: the matching interval (DISPATCH_BATCH_SECONDS)
    reposition_s: float = 300.0  # batched_reposition: how often idle technicians are sent
    # Only what repositioning needs from the batch parameters (the overheads of a match).
    batch: policies.BatchParams = field(default_factory=policies.BatchParams)


@dataclass
class TechStats:
    shift_s: float = 0.0
    busy_s: float = 0.0  # from booking to release
    jobs: int = 0
    travel_m: float = 0.0  # route metres (straight line x detour), jobs and repositioning


@dataclass
class Outcome:
    repairs: dict[str, dict[str, Any]]
    requests: dict[str, Request]
    technicians: dict[str, dict[str, Any]]
    stats: dict[str, TechStats]
    log: list[tuple[float, str, str, str]]  # (seconds, what, repair id, technician id)
    day_start: datetime


@dataclass
class _Move:
    t0: float
    lat0: float
    lng0: float
    lat1: float
    lng1: float
    seconds: float


class Simulation:
    def __init__(self, city: City, requests: list[Request], fleet: list[dict[str, Any]],
                 params: Params, day_start: datetime,
                 demand: dict[tuple[int, str, str], float] | None = None) -> None:
        policies.check_policy(params.policy)
        self.city, self.params, self.day_start = city, params, as_utc(day_start)
        self.demand = demand or {}
        self.batched = policies.is_batched(params.policy)
        self.policy = bridge.policy(params.policy, params.max_eta_minutes,
                                    params.accept_timeout_s, params.batch_s)
        self.store = bridge.SimStore(fleet)
        self.techs = self.store.techs
        self.stats = {tid: TechStats() for tid in self.techs}
        self.requests: dict[str, Request] = {}
        self.repairs: dict[str, dict[str, Any]] = {}
        self.ended: set[str] = set()
        self.open: dict[str, None] = {}  # open repair ids (insertion-ordered: deterministic)
        self.offers: dict[str, int] = {}
        self.booked_at: dict[str, float] = {}  # technician -> when booked
        self.moves: dict[str, _Move] = {}
        self.log: list[tuple[float, str, str, str]] = []
        self.t = 0.0
        self._heap: list[tuple[float, int, str, tuple]] = []
        self._seq = 0
        self._sweep_due: float | None = None
        self._last_request_s = 0.0
        for r in requests:
            self._at(r.created_s, "request", r)
            self._last_request_s = max(self._last_request_s, r.created_s)
        for tid, tech in self.techs.items():
            for start, end in self._shift_seconds(tech):
                self._at(start, "shift_start", tid)
                self._at(end, "shift_end", tid)
        first_start = min((s for t in self.techs.values() for s, _ in self._shift_seconds(t)),
                          default=0.0)
        if self.batched:
            self._at(first_start, "batch")
        if params.policy == "batched_reposition":
            self._coverage()
            self._at(first_start, "reposition")

    # ------------------------------------------------------------------ clock and queue

    def now(self, t: float | None = None) -> datetime:
        return self.day_start + timedelta(seconds=self.t if t is None else t)

    def _at(self, t: float, kind: str, *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, args))

    def run(self, progress: Callable[[float], None] | None = None) -> Outcome:
        handlers = {"request": self._request, "shift_start": self._shift_start,
                    "shift_end": self._shift_end, "respond": self._respond,
                    "arrive": self._arrive, "done": self._done, "patience": self._patience,
                    "sweep": self._sweep, "eligible": self._eligible, "batch": self._batch,
                    "reposition": self._reposition}
        while self._heap:
            t, _, kind, args = heapq.heappop(self._heap)
            if t < self.t:
                raise AssertionError(f"clock went back from {self.t} to {t}")
            self.t = t
            handlers[kind](*args)
            if progress is not None:
                progress(t)
        return Outcome(self.repairs, self.requests, self.techs, self.stats, self.log,
                       self.day_start)

    def _busy(self) -> bool:
        """Anything left to do: requests still to come or repairs not finished."""
        return self.t <= self._last_request_s or len(self.ended) < len(self.repairs)

    # ------------------------------------------------------------------ shifts

    def _shift_seconds(self, tech: dict[str, Any]) -> list[tuple[float, float]]:
        weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[
            self.day_start.astimezone(self._tz()).weekday()]
        out = []
        for start, end in (tech.get("shifts") or {}).get(weekday, []):
            a, b = _hhmm_s(start), _hhmm_s(end)
            out.append((a, b if b > a else b + DAY_S))
        return out

    def _tz(self) -> ZoneInfo:
        return ZoneInfo(DEFAULTS["CITY_TZ"])

    def _shift_start(self, tid: str) -> None:
        tech = self.techs[tid]
        self.stats[tid].shift_s -= self.t  # + shift end below
        if tech.get("current_repair_id") is None and tech["status"] == "offline":
            tech.update(status="available", location=dict(tech["home"]))
            self.store.refresh(tech)
            self._log("on_shift", "", tid)
            self._changed()

    def _shift_end(self, tid: str) -> None:
        tech = self.techs[tid]
        self.stats[tid].shift_s += self.t
        if tech.get("current_repair_id") is None and tech["status"] == "available":
            self._stop(tid)
            tech["status"] = "offline"
            self.store.refresh(tech)
            self._log("off_shift", "", tid)

    # ------------------------------------------------------------------ repairs

    def _request(self, req: Request) -> None:
        now = self.now()
        data = {"skill": req.skill, "description": f"simulated {req.skill}",
                "address": f"home in {req.cell}", "location": {"lat": req.lat, "lng": req.lng},
                "preferred_time": self.now(req.booked_s) if req.booked_s is not None else None}
        repair = records.new_repair(f"sim-resident-{req.n}", f"sim-key-{req.n:06d}", data, now,
                                    schemas.SLA_MINUTES)
        rid = f"rep_{req.n:05d}"
        repair["_id"] = rid
        self.repairs[rid], self.requests[rid] = repair, req
        self.open[rid] = None
        self.offers[rid] = 0
        self._log("request", rid, "")
        self._at(req.window_s + req.patience_min * 60, "patience", rid)
        lead = (policies.BOOKING_LEAD_MINUTES if self.batched
                else self.params.max_eta_minutes) * 60
        if req.window_s - lead > self.t:
            self._at(req.window_s - lead, "eligible", rid)
        elif not self.batched:
            self._auto_assign(rid)  # the service's repair_requested handler

    def _eligible(self, rid: str) -> None:
        if not self.batched:
            self._changed()

    def _move(self, rid: str, action: str, actor: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """A domain transition applied to the repair, as the service's guarded write does."""
        repair = self.repairs[rid]
        holder = kw.get("technician_id") or repair.get("technician_id") or ""
        updates, _events = bridge.transition(repair, action, actor, self.now(), **kw)
        if updates.get("technician_id", repair.get("technician_id")) is None:
            updates.update(eta_minutes=None, accept_by=None, technician_sub=None)
        repair.update(updates)
        repair["rev"] += 1
        if repair["status"] in ENDED:
            self.ended.add(rid)
        if repair["status"] == "open":
            self.open[rid] = None
        else:
            self.open.pop(rid, None)
        self._log(action, rid, str(holder))
        return repair

    def _assign(self, rid: str, cand: dict[str, Any]) -> None:
        tid = cand["technician_id"]
        tech = self.techs[tid]
        if tech.get("current_repair_id") is not None:
            raise AssertionError(f"{tid} offered {rid} while booked")  # the search excludes
        self._stop(tid)
        tech.update(current_repair_id=rid, active_jobs=1)
        self.booked_at[tid] = self.t
        repair = self._move(rid, "assign", bridge.SYSTEM, technician_id=tid,
                            technician_name=tech["name"])
        repair.update(eta_minutes=cand["eta_minutes"], technician_sub=tech["sub"],
                      accept_by=self.now() + timedelta(seconds=self.params.accept_timeout_s))
        req = self.requests[rid]
        k = self.offers[rid]
        self.offers[rid] = k + 1
        delay, declines = req.responses[min(k, len(req.responses) - 1)]
        if delay > self.params.accept_timeout_s:
            self._at(self.t + self.params.accept_timeout_s, "respond", rid, tid, "timeout")
        else:
            self._at(self.t + delay, "respond", rid, tid, "decline" if declines else "accept")

    def _respond(self, rid: str, tid: str, answer: str) -> None:
        repair = self.repairs[rid]
        if repair["status"] != "assigned" or repair.get("technician_id") != tid:
            return  # cancelled meanwhile
        tech = self.techs[tid]
        if answer == "accept":
            self._move(rid, "accept", {"id": tid, "role": "technician"})
            tech["status"] = "en_route"
            self.store.refresh(tech)
            origin = tech.get("location") or tech["home"]
            dist = haversine_m(origin["lat"], origin["lng"], repair["location"]["lat"],
                               repair["location"]["lng"])
            model = bridge.TRAVEL_MODES[tech["travel_mode"]]
            self.stats[tid].travel_m += dist * model.detour_factor
            # A booking is reached at its booked time at the earliest.
            arrive = max(self.t + model.minutes_for(dist) * 60, self.requests[rid].window_s)
            self._at(arrive, "arrive", rid, tid)
            return
        if answer == "timeout":
            self._move(rid, "accept_timeout", bridge.SYSTEM, technician_id=tid)
        else:
            self._move(rid, "decline", {"id": tid, "role": "technician"},
                       reason="busy with something else")
        self._release(tid)
        if not self.batched:
            self._auto_assign(rid)  # the service's repair_declined handler

    def _arrive(self, rid: str, tid: str) -> None:
        repair = self._move(rid, "arrive", {"id": tid, "role": "technician"})
        tech = self.techs[tid]
        tech.update(status="on_site", location=dict(repair["location"]))
        self.store.refresh(tech)
        req = self.requests[rid]
        if req.cannot_fix and len([h for h in repair["history"] if h["status"] == "arrived"]) == 1:
            self._at(self.t + req.duration_min * 30, "done", rid, tid, False)
        else:
            self._at(self.t + req.duration_min * 60, "done", rid, tid, True)

    def _done(self, rid: str, tid: str, fixed: bool) -> None:
        repair = self.repairs[rid]
        if fixed:
            self._move(rid, "complete", {"id": tid, "role": "technician"},
                       code=repair["completion_code"])
            self.stats[tid].jobs += 1
            stars = self.requests[rid].stars
            if stars is not None:
                self._move(rid, "rate", {"id": repair["resident_id"], "role": "resident"},
                           stars=stars)
                tech = self.techs[tid]
                tech["rating_sum"] += stars
                tech["rating_count"] += 1
                tech["rating_avg"] = round(tech["rating_sum"] / tech["rating_count"], 2)
        else:
            self._move(rid, "cannot_fix", {"id": tid, "role": "technician"},
                       reason="needs a part / another trade")
        self._release(tid)
        if not fixed and not self.batched:
            self._auto_assign(rid)  # the service's repair_reopened handler

    def _patience(self, rid: str) -> None:
        repair = self.repairs[rid]
        status = repair["status"]
        if status in ("open", "assigned"):
            tid = repair.get("technician_id")
            self._move(rid, "cancel", {"id": repair["resident_id"], "role": "resident"},
                       reason="waited too long")
            if tid:
                self._release(tid)
        elif status in ("accepted", "arrived"):
            self._at(self.t + 900, "patience", rid)  # someone is coming: wait some more

    def _release(self, tid: str) -> None:
        tech = self.techs[tid]
        self.stats[tid].busy_s += self.t - self.booked_at.pop(tid)
        on = bridge.on_shift(tech.get("shifts"), self.now())
        tech.update(current_repair_id=None, active_jobs=0,
                    status="available" if on else "offline")
        self.store.refresh(tech)
        self._changed()

    # ------------------------------------------------------------------ one at a time

    def _changed(self) -> None:
        """Something a sweep could use happened: run one at the next 5 s tick."""
        if self.batched or self._sweep_due is not None:
            return
        due = math.floor(self.t / self.params.sweep_s + 1) * self.params.sweep_s
        self._sweep_due = due
        self._at(due, "sweep")

    def _sweep(self) -> None:
        self._sweep_due = None
        for rid in sorted(self.open, key=lambda r: self.repairs[r]["due_by"]):
            self._auto_assign(rid)

    def _auto_assign(self, rid: str) -> bool:
        """The service's auto_assign: assignment.choose over the technicians near the repair
        (not before a booking is near, never to someone who gave it back)."""
        repair = self.repairs[rid]
        if repair["status"] != "open":
            return False
        technicians, _ = bridge.nearby_technicians(self.store, repair,
                                                   self.params.max_eta_minutes)
        pick = bridge.choose(repair, technicians, self.now(), self.policy)
        if pick is None:
            return False
        self._assign(rid, pick)
        return True

    # ------------------------------------------------------------------ batched

    def _batch(self) -> None:
        """The service's batch round: assignment.plan_batch over the open repairs."""
        self._advance_moves()
        now = self.now()
        lead = timedelta(minutes=policies.BOOKING_LEAD_MINUTES)
        waiting = [(self.repairs[rid], bridge.nearby_technicians(
                        self.store, self.repairs[rid], self.params.max_eta_minutes)[0])
                   for rid in self.open if as_utc(self.repairs[rid]["requested_at"]) - now <= lead]
        if waiting:
            # What the service does not know yet: how much keeping each technician free is
            # worth, from the demand learned on previous days (batched_reposition only).
            keep = self._keep_values() if self.params.policy == "batched_reposition" else None
            for repair, cand in bridge.plan_batch(waiting, now, self.policy, keep):
                self._assign(repair["_id"], cand)
        if self._busy():
            self._at(self.t + self.params.batch_s, "batch")

    # ------------------------------------------------------------------ repositioning

    def _reposition(self) -> None:
        """Idle technicians of each trade wait where they cover most of the coming hour's
        expected requests for their skills (e-bikes placed first, walkers on what is left)."""
        self._advance_moves()
        hour = int(((self.t + 1800) % DAY_S) // 3600)  # demand of the coming hour
        groups: dict[tuple[str, ...], list[str]] = {}
        for tid in self._idle():
            groups.setdefault(tuple(self.techs[tid]["skills"]), []).append(tid)
        areas = self._areas
        demand = self._demand_at(hour)
        for skills, ids in sorted(groups.items()):
            weight = sum(demand[s] for s in skills)
            for mode in ("ebike", "walking"):
                movers = [tid for tid in ids if self.techs[tid]["travel_mode"] == mode]
                slots, weight = policies.coverage_slots(weight, self._near[mode], len(movers))
                targets = [(areas[a], *self.city.area_points[areas[a]]) for a in slots]
                minutes = [[self._minutes_to(tid, lat, lng) for _, lat, lng in targets]
                           for tid in movers]
                for tid, (_, lat, lng) in policies.reposition_targets(
                        movers, targets, minutes).items():
                    here = self.techs[tid].get("location") or self.techs[tid]["home"]
                    self.moves[tid] = _Move(self.t, here["lat"], here["lng"], lat, lng,
                                            self._minutes_to(tid, lat, lng) * 60)
        if self._busy():
            self._at(self.t + self.params.reposition_s, "reposition")

    def _idle(self) -> list[str]:
        """Free technicians on shift (status follows the shift events and on_shift)."""
        return [tid for tid, tech in self.techs.items()
                if tech["status"] == "available" and tech.get("current_repair_id") is None]

    def _keep_values(self) -> dict[str, float]:
        """What each idle technician is worth kept free (policies.keep_values)."""
        idle = self._idle()
        hour = int(((self.t + 1800) % DAY_S) // 3600)
        reach = np.zeros((len(idle), len(self._areas)), dtype=bool)
        for k, tid in enumerate(idle):
            tech = self.techs[tid]
            a = self._area_index.get(area_of(tech["h3_cell"]))
            if a is not None:
                reach[k] = self._near[tech["travel_mode"]][a]
        demand = self._demand_at(hour)
        values = policies.keep_values(reach, [self.techs[t]["skills"] for t in idle], demand)
        return dict(zip(idle, values, strict=True))

    def _demand_at(self, hour: int) -> dict[str, np.ndarray]:
        """Expected requests per area for each skill in that hour (cached)."""
        if hour not in self._demand_cache:
            self._demand_cache[hour] = {
                s: np.array([self.demand.get((hour, a, s), 0.0) for a in self._areas])
                for s in self._skills}
        return self._demand_cache[hour]

    def _coverage(self) -> None:
        """Areas and which areas a technician waiting in each reaches in time, per mode."""
        self._areas = sorted(self.city.area_points)
        self._area_index = {a: k for k, a in enumerate(self._areas)}
        self._demand_cache: dict[int, dict[str, np.ndarray]] = {}
        self._skills = sorted({s for t in self.techs.values() for s in t["skills"]})
        points = [self.city.area_points[a] for a in self._areas]
        dist = np.array([[haversine_m(*p, *q) for q in points] for p in points])
        bp = self.params.batch
        minutes = domain.DEFAULT_SLA_MINUTES - bp.accept_minutes - bp.window_minutes
        self._near = {mode: dist <= model.max_distance_m(minutes)
                      for mode, model in bridge.TRAVEL_MODES.items()}

    def _minutes_to(self, tid: str, lat: float, lng: float) -> float:
        tech = self.techs[tid]
        here = tech.get("location") or tech["home"]
        model = bridge.TRAVEL_MODES[tech["travel_mode"]]
        return model.minutes_for(haversine_m(here["lat"], here["lng"], lat, lng))

    def _advance_moves(self) -> None:
        for tid in list(self.moves):
            self._stop(tid, keep_going=True)

    def _stop(self, tid: str, keep_going: bool = False) -> None:
        """Put a drifting technician where they are now (and stop them unless keep_going)."""
        move = self.moves.get(tid)
        if move is None:
            return
        frac = 1.0 if move.seconds <= 0 else min(1.0, (self.t - move.t0) / move.seconds)
        lat = move.lat0 + frac * (move.lat1 - move.lat0)
        lng = move.lng0 + frac * (move.lng1 - move.lng0)
        tech = self.techs[tid]
        here = tech.get("location") or tech["home"]
        model = bridge.TRAVEL_MODES[tech["travel_mode"]]
        self.stats[tid].travel_m += haversine_m(here["lat"], here["lng"], lat, lng) \
            * model.detour_factor
        tech["location"] = {"lat": lat, "lng": lng}
        self.store.refresh(tech)
        if frac >= 1.0 or not keep_going:
            del self.moves[tid]

    # ------------------------------------------------------------------ log

    def _log(self, what: str, rid: str, tid: str) -> None:
        self.log.append((self.t, what, rid, tid))


def _hhmm_s(hhmm: str) -> float:
    hh, mm = hhmm.split(":")
    return int(hh) * 3600.0 + int(mm) * 60.0

