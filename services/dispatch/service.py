"""Dispatch service: technicians, repair requests, assignment and the arrival promise (SLA).

Thin entrypoints over domain.py (the rules) and store.py (guarded writes with outbox).
"""

from __future__ import annotations

import functools
import os
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import h3
from nameko.rpc import rpc
from nameko.timer import timer

from services.common import idempotency
from services.common.config import setting
from services.common.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    load_or_raise,
)
from services.common.events import load_event
from services.common.geo import candidate_cells, cell_for, haversine_m
from services.common.messaging import event_handler
from services.common.metrics import ServiceMetrics
from services.common.service_base import ServiceBase, actor_of
from services.common.store import StoreProvider, open_database
from services.dispatch import domain, records, schemas
from services.dispatch.metrics import repair_gauges
from services.dispatch.store import SEARCH_RES, DispatchStore

# Timer intervals are fixed when the class is defined, so they come from the environment.
TIMER_SECONDS = float(os.environ.get("DISPATCH_TIMER_SECONDS", "5"))
MAX_STATS_DAYS = 92
STRAY_BOOKING_SECONDS = 30
SYSTEM = {"id": "system", "role": "system"}

# action -> (request schema, domain keyword arguments from the validated body)
ACTIONS: dict[str, tuple[type | None, Any]] = {
    "accept": (None, lambda b: {}),
    "decline": (schemas.ReasonRequiredSchema, lambda b: {"reason": b["reason"]}),
    "arrive": (None, lambda b: {}),
    "complete": (schemas.CompleteSchema, lambda b: {"code": b["code"]}),
    "cannot_fix": (schemas.ReasonRequiredSchema, lambda b: {"reason": b["reason"]}),
    "cancel": (schemas.CancelSchema, lambda b: {"reason": b.get("reason")}),
    "rate": (schemas.RateSchema, lambda b: {"stars": b["rating"], "comment": b.get("comment")}),
}
# Technician status while a job is in this repair status.
TECH_STATUS_FOR = {"accepted": "en_route", "arrived": "on_site"}
# Actions after which the technician no longer holds the job.
RELEASING = {"decline", "accept_timeout", "complete", "cannot_fix", "cancel"}


class DispatchStoreProvider(StoreProvider):
    def setup(self) -> None:
        config = self.container.config
        self.database = open_database(
            self.db_name, setting(config, "MONGO_URL"), setting(config, "DATA_DIR"),
            setting(config, "MONGO_DB_PREFIX"))
        self.store = DispatchStore(self.database.db, cache=setting(config, "DISPATCH_TECH_CACHE"))
        self.store.ensure_indexes()


def search_radius_m(max_eta_minutes: float) -> float:
    """How far the fastest travel mode gets within the longest ETA worth offering."""
    return max(mode.max_distance_m(max_eta_minutes) for mode in domain.TRAVEL_MODES.values())


def auto_assign_enabled(setting_value: str, skill: str) -> bool:
    """DISPATCH_AUTO_ASSIGN: "" (off), "all", or a comma-separated list of skills."""
    chosen = {s.strip() for s in str(setting_value or "").split(",") if s.strip()}
    return "all" in chosen or skill in chosen


def _domain_error(exc: domain.DispatchError, repair: dict[str, Any]) -> Exception:
    if isinstance(exc, domain.IllegalTransition):
        return Conflict(str(exc), {"status": repair["status"]}, code="illegal_transition")
    if isinstance(exc, domain.NotAllowed):
        return Forbidden(str(exc))
    if isinstance(exc, domain.WrongCode):
        return InvalidInput(str(exc), {"code": [str(exc)]}, code="wrong_code")
    return InvalidInput(str(exc), {"_schema": [str(exc)]})


@functools.lru_cache(maxsize=4096)
def _search_cells(cell: str, radius_m: float) -> list[str]:
    """Search cells covering radius_m around any point of ``cell`` (a search-resolution
    cell): computed once for the cell's centre with the cell's own reach added (its farthest
    vertex), so every repair in that neighbourhood reuses them."""
    lat, lng = h3.cell_to_latlng(cell)
    reach = max(haversine_m(lat, lng, v_lat, v_lng) for v_lat, v_lng in h3.cell_to_boundary(cell))
    return candidate_cells(lat, lng, radius_m + reach + 1.0, SEARCH_RES)


def _within_reach(tech: dict[str, Any], target: dict[str, float], max_eta: float) -> bool:
    """Cheap straight-line pre-filter; the domain ranks whoever passes (or says why not)."""
    origin = tech.get("location") or tech.get("home")
    mode = domain.TRAVEL_MODES.get(tech.get("travel_mode") or domain.DEFAULT_TRAVEL_MODE)
    if not origin or mode is None:
        return True  # let the domain exclude it with the reason
    distance = haversine_m(origin["lat"], origin["lng"], target["lat"], target["lng"])
    return distance <= mode.max_distance_m(max_eta)


def rank_nearby(store: DispatchStore, repair: dict[str, Any], now: datetime,
                max_eta: float) -> tuple[list[dict], list[dict], float]:
    """Candidates from the H3 cells around the repair (never a full scan), ranked; also who
    was left out and why, and the search radius in metres."""
    # The domain rounds ETAs to 0.1 min, so "within max_eta" reaches half a step further.
    reach = max_eta + 0.05
    radius = search_radius_m(reach)
    loc = repair["location"]
    cells = _search_cells(cell_for(loc["lat"], loc["lng"], SEARCH_RES), radius)
    free, excluded = [], []
    for tech in store.technicians_in(cells, repair["skill"]):
        if not _within_reach(tech, loc, reach):
            continue  # in a nearby cell but too far for their travel mode: not a candidate
        if tech.get("current_repair_id"):
            excluded.append({"technician_id": tech["_id"], "name": tech["name"],
                             "reasons": ["booked for another job"]})
        else:
            free.append(tech)
    ranked, not_eligible = domain.rank_with_exclusions(repair, free, now)
    near = [c for c in ranked if c["eta_minutes"] <= max_eta]
    for far in ranked[len(near):]:
        excluded.append({"technician_id": far["technician_id"], "name": far["name"],
                         "reasons": [f"ETA {far['eta_minutes']:.1f} min is over the "
                                     f"{max_eta:g} min limit"]})
    for rank, row in enumerate(near, start=1):
        row["rank"] = rank
    return near, not_eligible + excluded, radius


class DispatchService(ServiceBase):
    name = "dispatch"
    store = DispatchStoreProvider(DispatchStore, "dispatch")
    metrics = ServiceMetrics(repair_gauges)

    # ------------------------------------------------------------ technicians

    @rpc
    def create_technician(self, actor: dict, technician: dict) -> dict:
        self._require(actor_of(actor), "dispatcher")
        data = load_or_raise(schemas.TechnicianCreateSchema(), technician)
        doc = records.new_technician(data, self.clock.now())
        if self.store.insert_technician(doc) is None:
            raise Conflict("a technician with this sub already exists",
                           {"sub": ["already registered"]}, code="technician_exists")
        return records.public_technician(doc)

    @rpc
    def update_technician(self, actor: dict, technician_id: str, changes: dict) -> dict:
        self._require(actor_of(actor), "dispatcher")
        data = load_or_raise(schemas.TechnicianUpdateSchema(), changes)
        tech = self.store.technician(technician_id)
        if tech is None:
            raise NotFound("no such technician")
        query: dict[str, Any] = {"_id": technician_id}
        if "status" in data:
            query["status"] = {"$in": list(schemas.SELF_STATUSES)}
        fields = records.technician_changes(tech, data, self.clock.now())
        updated = self.store.update_technician(query, {"$set": fields})
        if updated is None:
            raise Conflict(f"the technician is {self.store.technician(technician_id)['status']}"
                           " on a job; their status follows the job",
                           {"status": [tech["status"]]}, code="technician_on_job")
        return records.public_technician(updated)

    @rpc
    def list_technicians(self, actor: dict, page: int = 1, page_size: int = 20,
                         status: str | None = None, skill: str | None = None) -> dict:
        """The dispatcher's roster: who is available, en route or on site, by name."""
        self._require(actor_of(actor), "dispatcher", "admin")
        query: dict[str, Any] = {}
        if status:
            query["status"] = status
        if skill:
            query["skills"] = skill
        docs, total = self.store.page_technicians(query, (page - 1) * page_size, page_size)
        return {"items": [records.public_technician(d) for d in docs], "page": page,
                "page_size": page_size, "total": total}

    @rpc
    def get_technician(self, actor: dict, technician_id: str) -> dict:
        who = actor_of(actor)
        tech = self.store.technician(technician_id)
        if tech is None or not (who["role"] in ("dispatcher", "admin") or tech["sub"] == who["sub"]
                                and who["role"] == "technician"):
            raise NotFound("no such technician")
        return records.public_technician(tech)

    @rpc
    def my_technician(self, actor: dict) -> dict:
        return records.public_technician(self._me(actor_of(actor)))

    @rpc
    def set_my_location(self, actor: dict, location: dict) -> dict:
        me = self._me(actor_of(actor))
        point = load_or_raise(schemas.LocationSchema(), location)
        updated = self.store.update_technician(
            {"_id": me["_id"]}, {"$set": records.location_fields(point, self.clock.now())})
        return records.public_technician(updated)

    @rpc
    def set_my_status(self, actor: dict, status: dict) -> dict:
        me = self._me(actor_of(actor))
        data = load_or_raise(schemas.TechnicianStatusSchema(), status)
        updated = self.store.update_technician(
            {"_id": me["_id"], "status": {"$in": list(schemas.SELF_STATUSES)}},
            {"$set": {"status": data["status"], "updated_at": self.clock.now()}})
        if updated is None:
            current = self.store.technician(me["_id"])["status"]
            raise Conflict(f"you are {current} on a job; finish or hand it back first",
                           {"status": [current]}, code="technician_on_job")
        return records.public_technician(updated)

    # ------------------------------------------------------------ repairs

    @rpc
    def request_repair(self, actor: dict, idempotency_key: str, repair: dict) -> dict:
        """Open a repair request. The same key and body returns the same repair."""
        who = actor_of(actor)
        if who["role"] != "resident":
            raise Forbidden("only residents report repairs")
        if not isinstance(idempotency_key, str) or not 8 <= len(idempotency_key) <= 100:
            raise BadRequest("an Idempotency-Key of 8 to 100 characters is required")
        data = load_or_raise(schemas.RepairCreateSchema(), repair)
        now = self.clock.now()
        doc = records.new_repair(who["sub"], idempotency_key, data, now, schemas.SLA_MINUTES)
        event = records.repair_event("repair_requested", doc, None, now, by=who["sub"])
        if self.store.insert_repair(doc, [event]) is None:
            existing = self.store.repair_by_idempotency_key(doc["idempotency_key"])
            idempotency.check_replay(existing["fingerprint"], data, "repair")
            return {"repair": records.public_repair(existing, who, now), "created": False}
        self.flush(self.store.repairs, doc["_id"])
        return {"repair": records.public_repair(doc, who, now), "created": True}

    @rpc
    def get_repair(self, actor: dict, repair_id: str) -> dict:
        who = actor_of(actor)
        return records.public_repair(self._visible(who, repair_id), who, self.clock.now())

    @rpc
    def list_repairs(self, actor: dict, page: int = 1, page_size: int = 20,
                     status: str | None = None) -> dict:
        who = actor_of(actor)
        query: dict[str, Any]
        if who["role"] in ("dispatcher", "admin"):
            query = {} if status else {"status": {"$in": list(schemas.ACTIVE_STATUSES)}}
        elif who["role"] == "technician":
            me = self.store.technician_by_sub(who["sub"])
            query = {"technician_id": me["_id"] if me else None}
        elif who["role"] == "resident":
            query = {"resident_id": who["sub"]}
        else:
            raise Forbidden("repairs are for residents, technicians and dispatchers")
        if status:
            query["status"] = status
        docs, total = self.store.page(query, (page - 1) * page_size, page_size)
        now = self.clock.now()
        return {"items": [records.public_repair(d, who, now) for d in docs], "page": page,
                "page_size": page_size, "total": total}

    @rpc
    def candidates(self, actor: dict, repair_id: str) -> dict:
        self._require(actor_of(actor), "dispatcher")
        repair = self.store.repair(repair_id)
        if repair is None:
            raise NotFound("no such repair")
        ranked, excluded, radius = self._rank(repair, self.clock.now())
        return {"repair_id": repair_id, "search_radius_m": round(radius),
                "candidates": ranked, "excluded": excluded[:50]}

    @rpc
    def assign(self, actor: dict, repair_id: str, technician_id: str) -> dict:
        who = actor_of(actor)
        self._require(who, "dispatcher")
        repair = self.store.repair(repair_id)
        if repair is None:
            raise NotFound("no such repair")
        if repair["status"] != "open":
            raise Conflict(f"cannot assign a repair that is {repair['status']}",
                           {"status": repair["status"]}, code="illegal_transition")
        tech = self.store.technician(technician_id)
        if tech is None:
            raise NotFound("no such technician")
        now = self.clock.now()
        if tech.get("current_repair_id"):
            raise Conflict("the technician is already booked for another job",
                           {"technician_id": ["busy"]}, code="technician_busy")
        ranked, excluded = domain.rank_with_exclusions(repair, [tech], now)
        if not ranked:
            reasons = excluded[0]["reasons"]
            raise Conflict(f"the technician cannot take this job: {', '.join(reasons)}",
                           {"technician_id": reasons}, code="technician_unavailable")
        moved = self._assign(repair, tech, {"id": who["sub"], "role": who["role"]},
                             who["sub"], ranked[0]["eta_minutes"])
        return records.public_repair(moved, who, self.clock.now())

    @rpc
    def act(self, actor: dict, repair_id: str, action: str, body: dict | None = None) -> dict:
        """accept, decline, arrive, complete, cannot_fix (technician); cancel, rate
        (resident)."""
        who = actor_of(actor)
        if action not in ACTIONS:
            raise BadRequest(f"unknown action {action!r}")
        schema, to_kwargs = ACTIONS[action]
        data = load_or_raise(schema(), body or {}) if schema else {}
        repair = self._visible(who, repair_id)
        tech_id = None
        if who["role"] == "technician":
            me = self.store.technician_by_sub(who["sub"])
            tech_id = me["_id"] if me else None
        acting = {"id": tech_id if who["role"] == "technician" else who["sub"],
                  "role": who["role"]}
        extra: dict[str, Any] = {}
        if action == "complete":
            extra = {"resolution": data["resolution"], "parts_used": data["parts_used"]}
        before, moved = self._transition(repair["_id"], action, acting, who["sub"],
                                         extra=extra, **to_kwargs(data))
        self._after(action, before, moved)
        return records.public_repair(moved, who, self.clock.now())

    # ------------------------------------------------------------ board and stats

    @rpc
    def board(self, actor: dict) -> dict:
        self._require(actor_of(actor), "dispatcher")
        now = self.clock.now()
        out: dict[str, Any] = {"now": records.iso(now), "open": [], "assigned": [],
                               "at_risk": [], "breached": []}
        for doc in self.store.active_repairs():
            item = records.board_item(doc, now)
            out["open" if doc["status"] == "open" else "assigned"].append(item)
            if item["sla_state"] in ("at_risk", "breached"):
                out[item["sla_state"]].append(item)
        return out

    @rpc
    def stats(self, actor: dict, from_: str | None = None, to: str | None = None) -> dict:
        self._require(actor_of(actor), "dispatcher")
        args = load_or_raise(schemas.StatsArgs(), {
            k: v for k, v in (("from", from_), ("to", to)) if v is not None})
        zone = ZoneInfo(setting(self.config, "CITY_TZ"))
        now = self.clock.now()
        last = args.get("to") or now.astimezone(zone).date()
        first = args.get("from_") or last - timedelta(days=6)
        if first > last or (last - first).days >= MAX_STATS_DAYS:
            raise InvalidInput(f"from must be on or before to, at most {MAX_STATS_DAYS} days",
                               {"from": ["bad range"]})
        start = datetime.combine(first, time(0), zone)
        end = datetime.combine(last + timedelta(days=1), time(0), zone)
        rows = domain.daily_stats(self.store.requested_between(start, end),
                                  setting(self.config, "CITY_TZ"), now)
        return {"from_": first.isoformat(), "to": last.isoformat(), "rows": rows}

    # ------------------------------------------------------------ automatic assignment

    @event_handler("dispatch", "repair_requested")
    def on_repair_requested(self, payload: dict) -> None:
        event = load_event(payload, "repair_requested")
        self.auto_assign(event["data"]["repair_id"], event["id"])

    @event_handler("dispatch", "repair_declined")
    def on_repair_declined(self, payload: dict) -> None:
        event = load_event(payload, "repair_declined")
        self.auto_assign(event["data"]["repair_id"], event["id"])

    @event_handler("dispatch", "repair_reopened")
    def on_repair_reopened(self, payload: dict) -> None:
        event = load_event(payload, "repair_reopened")
        self.auto_assign(event["data"]["repair_id"], event["id"])

    def auto_assign(self, repair_id: str, causation_id: str | None = None) -> bool:
        """Assign the best free candidate if automatic assignment is on for the skill.
        Idempotent: a repair that is no longer open is left alone."""
        repair = self.store.repair(repair_id)
        if repair is None or repair["status"] != "open":
            return False
        if not auto_assign_enabled(setting(self.config, "DISPATCH_AUTO_ASSIGN"), repair["skill"]):
            return False
        now = self.clock.now()
        max_eta = setting(self.config, "DISPATCH_MAX_ETA_MINUTES")
        if domain._utc(repair["requested_at"]) - now > timedelta(minutes=max_eta):
            return False  # booked for later: the sweep assigns it when its time comes
        ranked, _, _ = self._rank(repair, now)
        skip = set(repair.get("declined_technician_ids") or [])
        while (pick := domain.pick_for_auto_assign(ranked, skip, max_eta)) is not None:
            tech = self.store.technician(pick["technician_id"])
            try:
                self._assign(repair, tech, SYSTEM, "system", pick["eta_minutes"], causation_id)
                return True
            except Conflict as exc:
                if exc.error_code != "technician_busy":
                    return False  # the repair moved on (cancelled, assigned by hand)
                skip.add(pick["technician_id"])  # booked meanwhile by another request
        return False

    # ------------------------------------------------------------ timers

    @timer(interval=TIMER_SECONDS)
    def sweep(self) -> dict[str, int]:
        """Accept timeouts, SLA alerts, and automatic assignment of repairs still open."""
        return {"timeouts": self.expire_unaccepted(), "sla_events": self.check_sla(),
                "auto_assigned": self.assign_waiting(), "freed": self.free_stray_bookings()}

    def free_stray_bookings(self) -> int:
        """A crash between booking a technician and moving the repair leaves the technician
        booked for a job they do not hold; free them once the booking is clearly stale."""
        stale_before = self.clock.now() - timedelta(seconds=STRAY_BOOKING_SECONDS)
        freed = 0
        for tech in self.store.booked_technicians():
            repair = self.store.repair(tech["current_repair_id"])
            holds = (repair is not None and repair.get("technician_id") == tech["_id"]
                     and repair["status"] in schemas.ACTIVE_STATUSES)
            if not holds and domain._utc(tech["updated_at"]) < stale_before:
                self.store.release_technician(tech["_id"], tech["current_repair_id"],
                                              self.clock.now())
                freed += 1
        return freed

    def expire_unaccepted(self) -> int:
        expired = 0
        for repair in self.store.overdue_acceptances(self.clock.now()):
            try:
                before, moved = self._transition(repair["_id"], "accept_timeout", SYSTEM,
                                                 "system", technician_id=repair["technician_id"])
            except (Conflict, Forbidden, InvalidInput):
                continue  # accepted or moved meanwhile
            self._after("accept_timeout", before, moved)
            expired += 1
        return expired

    def check_sla(self) -> int:
        now = self.clock.now()
        sent = 0
        for repair in self.store.sla_watch():
            due = domain.sla_events_due(repair, now)
            if not due:
                continue
            events = [records.repair_event(kind, repair, None, now, by="system",
                                           reason=kind.removeprefix("sla_").replace("_", " "))
                      for kind in due]
            if self.store.flag_sla(repair, domain.sla_flag_updates(due), events):
                self.flush(self.store.repairs, repair["_id"])
                sent += len(events)
        return sent

    def assign_waiting(self, limit: int = 100) -> int:
        if not str(setting(self.config, "DISPATCH_AUTO_ASSIGN") or "").strip():
            return 0
        assigned = 0
        for repair in self.store.active_repairs(("open",), limit=limit):
            assigned += self.auto_assign(repair["_id"])
        return assigned

    # ------------------------------------------------------------ helpers

    def _require(self, who: dict[str, str], *roles: str) -> None:
        if who["role"] not in roles and who["role"] != "admin":
            raise Forbidden(f"this needs the role: {' or '.join(roles)}")

    def _me(self, who: dict[str, str]) -> dict[str, Any]:
        if who["role"] != "technician":
            raise Forbidden("only technicians have a technician profile")
        me = self.store.technician_by_sub(who["sub"])
        if me is None:
            raise NotFound("you are not registered as a technician; ask a dispatcher")
        return self.store.technician(me["_id"]) or me

    def _visible(self, who: dict[str, str], repair_id: str) -> dict[str, Any]:
        repair = self.store.repair(repair_id)
        tech_id = None
        if repair is not None and who["role"] == "technician":
            me = self.store.technician_by_sub(who["sub"])
            tech_id = me["_id"] if me else None
        if repair is None or not records.can_see(repair, who, tech_id):
            raise NotFound("no such repair")
        return repair

    def _rank(self, repair: dict[str, Any], now: datetime
              ) -> tuple[list[dict], list[dict], float]:
        return rank_nearby(self.store, repair, now,
                           setting(self.config, "DISPATCH_MAX_ETA_MINUTES"))

    def _assign(self, repair: dict[str, Any], tech: dict[str, Any], acting: dict[str, Any],
                by: str, eta: float, causation_id: str | None = None) -> dict[str, Any]:
        """Book the technician, then move the repair; undo the booking if the move loses."""
        now = self.clock.now()
        if self.store.claim_technician(tech["_id"], repair["_id"], now) is None:
            raise Conflict("the technician is already booked for another job",
                           {"technician_id": ["busy"]}, code="technician_busy")
        timeout = timedelta(seconds=setting(self.config, "DISPATCH_ACCEPT_TIMEOUT_SECONDS"))
        try:
            _, moved = self._transition(
                repair["_id"], "assign", acting, by, causation_id=causation_id,
                extra={"eta_minutes": eta, "accept_by": now + timeout,
                       "technician_sub": tech["sub"]},
                technician_id=tech["_id"], technician_name=tech["name"])
        except Exception:
            self.store.release_technician(tech["_id"], repair["_id"], now)
            raise
        return moved

    def _transition(self, repair_id: str, action: str, acting: dict[str, Any], by: str,
                    extra: dict[str, Any] | None = None, causation_id: str | None = None,
                    **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Run a domain transition as one guarded write with its event; retried when only an
        unrelated field changed meanwhile, a 409 naming the status when someone else moved the
        repair first."""
        for _ in range(5):
            repair = self.store.repair(repair_id)
            if repair is None:
                raise NotFound("no such repair")
            now = self.clock.now()
            try:
                updates, domain_events = domain.transition(repair, action, acting, now, **kw)
            except domain.DispatchError as exc:
                raise _domain_error(exc, repair) from None
            updates.update(extra or {})
            if updates.get("technician_id", repair.get("technician_id")) is None:
                updates.update(eta_minutes=None, accept_by=None, technician_sub=None)
            after = {**repair, **updates}
            if action in RELEASING and repair.get("technician_id"):
                # Tell the technician who handed it back / whose job was cancelled.
                after = {**after, "technician_id": repair["technician_id"],
                         "technician_name": repair.get("technician_name"),
                         "technician_sub": repair.get("technician_sub")}
            event = records.repair_event(
                domain_events[0]["type"], after, repair["status"], now, by=by,
                reason=domain_events[0]["data"].get("reason"), causation_id=causation_id)
            moved = self.store.move_repair(repair, updates, [event])
            if moved is not None:
                self.flush(self.store.repairs, repair_id)
                return repair, moved
            current = self.store.repair(repair_id)
            if current is None or current["status"] != repair["status"]:
                status = current["status"] if current else "gone"
                raise Conflict(f"cannot {action.replace('_', ' ')} a repair that is {status}",
                               {"status": status}, code="illegal_transition")
        raise Conflict("the repair is changing too fast; retry", code="busy")

    def _after(self, action: str, before: dict[str, Any], moved: dict[str, Any]) -> None:
        """Keep the technician's own document in step with the job (follow-up writes)."""
        tech_id = before.get("technician_id")
        now = self.clock.now()
        if tech_id and action in RELEASING:
            self.store.release_technician(tech_id, before["_id"], now)
        elif tech_id and moved["status"] in TECH_STATUS_FOR:
            self.store.technician_on_job(tech_id, before["_id"],
                                         TECH_STATUS_FOR[moved["status"]], now)
        if action == "rate" and tech_id:
            self.store.add_rating(tech_id, moved["rating"]["stars"])
