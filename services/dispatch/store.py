"""The dispatch database: technicians and repair requests.

Repairs carry their own outbox. Every invariant is a single-document guarded write:
- a repair moves only from the status (and revision) it was read in;
- a technician holds at most one job: ``current_repair_id`` is claimed with a filter on
  ``current_repair_id: None`` and released with a filter on the repair that holds it.

Technicians are also kept in memory, indexed by a coarse H3 cell (``search_cell``), so the
candidate query costs a few dict lookups instead of a database scan. Every technician write
here refreshes this replica's copy from the document the write returned and announces the
change (services/common/broadcast.py), so the other replicas reload that technician within
milliseconds; every write bumps the technician's version ``v`` and a copy is only ever
replaced by one at least as new, so a late reload never undoes a newer write. A missed
announcement is corrected by ``reload_technicians`` (the sweep runs it every minute). With
DISPATCH_TECH_CACHE off, the same query runs against the indexed ``search_cell`` field.
Bookings never trust the copy: they are guarded writes on the document itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common import idempotency, outbox, paging, windows
from services.common.geo import cell_for
from services.common.store import run_once
from services.common.times import as_utc
from services.dispatch import metrics
from services.dispatch.domain import ACTIVE_STATUSES

# H3 resolution 7 (~1.2 km edge) for the candidate search: a 6 km radius is ~60 cells rather
# than ~1,500 at the resolution-9 cell kept for display and fine-grained queries.
SEARCH_RES = 7
ACTIVE_REPAIR_STATUSES = ACTIVE_STATUSES
SLA_WATCHED_STATUSES = ("open", "assigned", "accepted")
CACHE_RELOAD_EVERY = timedelta(minutes=1)  # the backstop for a missed announcement


def _available_keys(tech: dict[str, Any]) -> list[tuple[str, str]]:
    if tech.get("status") != "available":
        return []
    return [(tech.get("search_cell"), skill) for skill in tech.get("skills") or []]


def cells_of(point: dict[str, float]) -> tuple[str, str]:
    return cell_for(point["lat"], point["lng"]), cell_for(point["lat"], point["lng"], SEARCH_RES)


class DispatchStore:
    def __init__(self, db: Any, cache: bool = True,
                 announce: Callable[[dict[str, Any]], None] | None = None):
        self.db = db
        self._announce = announce  # tells the other replicas (broadcast.Announcer)
        self.reloaded_at: datetime | None = None
        self.repairs = db["repairs"]
        self.technicians = db["technicians"]
        self.cache_enabled = cache
        self._techs: dict[str, dict[str, Any]] = {}
        # (search cell, skill) -> ids of available technicians there with that skill
        self._available: dict[tuple[str, str], set[str]] = defaultdict(set)

    def ensure_indexes(self) -> None:
        self.technicians.create_index("sub", unique=True)
        self.technicians.create_index("h3_cell")
        self.technicians.create_index("search_cell")
        self.technicians.create_index("current_repair_id")
        idempotency.ensure_key_index(self.repairs, "resident_id")
        self.repairs.create_index("status")
        self.repairs.create_index("resident_id")
        self.repairs.create_index("technician_id")
        self.repairs.create_index("requested_at")
        for bucket in windows.bucket_fields("requested"):
            self.repairs.create_index(bucket)
        # Pages sort by these; timers find due items by status and due time.
        self.technicians.create_index("name")
        self.technicians.create_index([("status", 1), ("name", 1)])
        self.technicians.create_index([("skills", 1), ("name", 1)])
        for field in ("status", "resident_id", "technician_id"):
            self.repairs.create_index([(field, 1), ("requested_at", -1)])
        self.repairs.create_index([("status", 1), ("due_by", 1)])
        self.repairs.create_index([("status", 1), ("accept_by", 1)])
        self.repairs.create_index("arrived_at")
        self.repairs.create_index("arrived_hour")  # the metrics' last hour of arrivals
        outbox.ensure_outbox_index(self.repairs)
        run_once(self.db["meta"], "requested_buckets_backfilled", self._backfill_buckets)
        if self.cache_enabled:
            self._techs.clear()
            self._available.clear()
            self.reload_technicians()

    def _backfill_buckets(self) -> None:
        """Repairs stored before the list buckets existed (a one-time migration)."""
        for doc in list(self.repairs.find({"requested_hour": {"$exists": False}},
                                          {"requested_at": 1, "arrived_at": 1})):
            fields = {}
            if doc.get("requested_at") is not None:
                fields = windows.buckets("requested", as_utc(doc["requested_at"]))
            if doc.get("arrived_at") is not None:
                fields["arrived_hour"] = windows.hour_of(as_utc(doc["arrived_at"]))
            if fields:
                self.repairs.update_one({"_id": doc["_id"]}, {"$set": fields})

    def outbox_collections(self) -> list[Any]:
        return [self.repairs]

    # ------------------------------------------------------------ technician cache

    def _remember(self, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        if doc is None or not self.cache_enabled:
            return doc
        old = self._techs.get(doc["_id"])
        if old is not None and old.get("v", 0) > doc.get("v", 0):
            return doc  # an older read than the copy held: keep the copy
        if old is not None:
            for key in _available_keys(old):
                self._available[key].discard(doc["_id"])
        self._techs[doc["_id"]] = doc
        for key in _available_keys(doc):
            self._available[key].add(doc["_id"])
        return doc

    def _changed(self, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        """A technician was written: keep this replica's copy, tell the other replicas."""
        self._remember(doc)
        if doc is not None and self._announce is not None and self.cache_enabled:
            self._announce({"technician_id": doc["_id"]})
        return doc

    def heard_change(self, announcement: dict[str, Any]) -> None:
        """A replica wrote this technician: reload the copy (unless it was this one's own
        write, whose copy is current already)."""
        own = self._announce is not None and not self._announce.from_other_replica(announcement)
        if self.cache_enabled and not own:
            self._remember(self.technicians.find_one({"_id": announcement["technician_id"]}))

    def reload_technicians(self, now: datetime | None = None) -> int:
        """Bring every copy up to date (at start-up, then as the backstop for a missed
        announcement); versions keep a copy newer than what is read."""
        count = 0
        for doc in self.technicians.find({}):
            self._remember(doc)
            count += 1
        self.reloaded_at = now
        return count

    # ------------------------------------------------------------ technicians

    def insert_technician(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        """None if a technician with this sub exists."""
        try:
            self.technicians.insert_one(doc)
        except DuplicateKeyError:
            return None
        return self._changed(dict(doc))

    def insert_technicians(self, docs: list[dict[str, Any]]) -> None:
        """Bulk load (benchmarks, demo data)."""
        self.technicians.insert_many(docs)
        for doc in docs:
            self._changed(dict(doc))

    def technician(self, tech_id: str) -> dict[str, Any] | None:
        if self.cache_enabled:
            return self._techs.get(tech_id)
        return self.technicians.find_one({"_id": tech_id})

    def technician_by_sub(self, sub: str) -> dict[str, Any] | None:
        return self.technicians.find_one({"sub": sub})

    def update_technician(self, query: dict[str, Any], update: dict[str, Any]
                          ) -> dict[str, Any] | None:
        """A guarded update; the technician after it, or None if the guard did not match.
        Every write bumps the version ``v`` (what keeps replicas' copies in order)."""
        versioned = {op: dict(fields) for op, fields in update.items()}
        versioned.setdefault("$inc", {})["v"] = 1
        doc = self.technicians.find_one_and_update(query, versioned,
                                                   return_document=ReturnDocument.AFTER)
        return self._changed(doc)

    def technicians_in(self, search_cells: list[str], skill: str) -> list[dict[str, Any]]:
        """Available technicians with the skill whose (location or home) lies in the cells."""
        if not self.cache_enabled:
            return list(self.technicians.find(
                {"search_cell": {"$in": search_cells}, "status": "available", "skills": skill}))
        found = []
        for cell in search_cells:
            for tech_id in self._available.get((cell, skill), ()):
                found.append(self._techs[tech_id])
        return found

    def claim_technician(self, tech_id: str, repair_id: str, now: datetime
                         ) -> dict[str, Any] | None:
        """Book an idle, available technician for a repair; None if they are not free."""
        return self.update_technician(
            {"_id": tech_id, "status": "available", "current_repair_id": None},
            {"$set": {"current_repair_id": repair_id, "active_jobs": 1, "updated_at": now}})

    def release_technician(self, tech_id: str, repair_id: str, now: datetime) -> bool:
        """Free a technician from this repair (only if it is still theirs); False if it was
        not (anymore): of two replicas freeing the same booking, one gets True."""
        self.update_technician(
            {"_id": tech_id, "current_repair_id": repair_id,
             "status": {"$in": ["en_route", "on_site"]}},
            {"$set": {"status": "available"}})
        return self.update_technician(
            {"_id": tech_id, "current_repair_id": repair_id},
            {"$set": {"current_repair_id": None, "active_jobs": 0, "updated_at": now}}
        ) is not None

    def booked_technicians(self) -> list[dict[str, Any]]:
        if self.cache_enabled:
            return [t for t in self._techs.values() if t.get("current_repair_id")]
        return list(self.technicians.find({"current_repair_id": {"$ne": None}}))

    def technician_on_job(self, tech_id: str, repair_id: str, status: str, now: datetime
                          ) -> None:
        self.update_technician({"_id": tech_id, "current_repair_id": repair_id},
                               {"$set": {"status": status, "updated_at": now}})

    def add_rating(self, tech_id: str, stars: int) -> None:
        doc = self.update_technician({"_id": tech_id},
                                     {"$inc": {"rating_sum": stars, "rating_count": 1}})
        if doc is not None:
            self.update_technician(
                {"_id": tech_id, "rating_count": doc["rating_count"]},
                {"$set": {"rating_avg": round(doc["rating_sum"] / doc["rating_count"], 2)}})

    # ------------------------------------------------------------ repairs

    def insert_repair(self, doc: dict[str, Any], events: list[dict]) -> dict[str, Any] | None:
        """Insert the repair with its events; None if its idempotency key is taken."""
        try:
            self.repairs.insert_one(outbox.with_outbox(doc, events))
        except DuplicateKeyError:
            return None
        return doc

    def repair_by_idempotency_key(self, sub: str, key: str) -> dict[str, Any] | None:
        return self.repairs.find_one(idempotency.key_fields(sub, key))

    def repair(self, repair_id: str) -> dict[str, Any] | None:
        return self.repairs.find_one({"_id": repair_id})

    def move_repair(self, repair: dict[str, Any], updates: dict[str, Any],
                    events: list[dict]) -> dict[str, Any] | None:
        """Apply updates only if the repair is still in the status and revision it was read
        in: one guarded write with its events. None if someone else moved it first."""
        if updates.get("arrived_at") is not None:
            updates = {**updates, "arrived_hour": windows.hour_of(as_utc(updates["arrived_at"]))}
        update = outbox.outbox_update(
            events, {"$set": updates, "$inc": {"rev": 1}})
        moved = self.repairs.find_one_and_update(
            {"_id": repair["_id"], "status": repair["status"], "rev": repair.get("rev", 0)},
            update, return_document=ReturnDocument.AFTER)
        if moved is not None and updates.get("status", repair["status"]) != repair["status"]:
            metrics.moved(updates["status"])
        return moved

    def count_code_attempt(self, repair_id: str, max_attempts: int) -> dict[str, Any] | None:
        """Take one completion-code attempt before the code is compared: one atomic increment,
        guarded so that at most ``max_attempts`` are ever taken per code, however many arrive
        at once. The repair after it, or None when none is left (or the job is not arrived).
        Does not bump ``rev``: it touches no field a transition writes."""
        return self.repairs.find_one_and_update(
            {"_id": repair_id, "status": "arrived", "code_locked": {"$ne": True},
             "code_attempts": {"$not": {"$gte": max_attempts}}},
            {"$inc": {"code_attempts": 1}}, return_document=ReturnDocument.AFTER)

    def flag_sla(self, repair: dict[str, Any], flags: dict[str, bool],
                 events: list[dict]) -> dict[str, Any] | None:
        """Record SLA alerts once: the guard is the flag itself, in the same write as the
        events. Does not bump ``rev``: it touches no field a transition writes."""
        guard: dict[str, Any] = {"_id": repair["_id"],
                                 "status": {"$in": list(SLA_WATCHED_STATUSES)}}
        for flag in flags:
            if not repair.get(flag):
                guard[flag] = {"$ne": True}
        return self.repairs.find_one_and_update(
            guard, outbox.outbox_update(events, {"$set": flags}),
            return_document=ReturnDocument.AFTER)

    def page_technicians(self, query: dict[str, Any], skip: int, limit: int
                         ) -> tuple[list[dict], int, bool]:
        """By name; the roster is the workforce, not history. Total capped (paging.py)."""
        return paging.read_capped(self.technicians.find(query).sort("name", 1), skip, limit)

    def page(self, query: dict[str, Any], skip: int, limit: int, now: datetime
             ) -> tuple[list[dict], int, bool]:
        """Newest request first: (the page, the total, whether it is capped at TOTAL_CAP).
        A resident's own repairs are read by ``resident_id`` (a person's repairs are few);
        active statuses (the jobs under way, a bounded set) by status; a technician's jobs
        and the terminal statuses through widening windows of request time
        (services/common/windows.py), so no list reads all history."""
        if "resident_id" in query:
            rest = {k: v for k, v in query.items() if k != "resident_id"}
            return windows.by_few(self.repairs, {"resident_id": query["resident_id"]}, rest,
                                  "requested_at", skip, limit)
        status = query.get("status")
        statuses = status["$in"] if isinstance(status, dict) else [status]
        if set(statuses) <= set(ACTIVE_STATUSES):
            return paging.read_capped(self.repairs.find(query).sort("requested_at", -1),
                                      skip, limit)
        return windows.newest_page(self.repairs, query, "requested", "requested_at", skip,
                                   limit, now, owner_wide="technician_id" in query)

    def active_repairs(self, statuses: tuple[str, ...] = ACTIVE_REPAIR_STATUSES,
                       limit: int = 2000) -> list[dict[str, Any]]:
        return list(self.repairs.find({"status": {"$in": list(statuses)}})
                    .sort("due_by", 1).limit(limit))

    def sla_watch(self, limit: int = 2000) -> list[dict[str, Any]]:
        """Repairs the SLA timer still has something to say about."""
        return list(self.repairs.find({"status": {"$in": list(SLA_WATCHED_STATUSES)},
                                       "sla_breached_sent": {"$ne": True}})
                    .sort("due_by", 1).limit(limit))

    def overdue_acceptances(self, now: datetime, limit: int = 200) -> list[dict[str, Any]]:
        return list(self.repairs.find({"status": "assigned", "accept_by": {"$lte": now}})
                    .limit(limit))

    def count_with_status(self, status: str) -> int:
        """Repairs in an active status (jobs under way: a bounded set). Terminal statuses
        are counted as moves instead (metrics.py), never by a count over history."""
        if status not in ACTIVE_STATUSES:
            raise ValueError(f"{status} repairs are history: count moves, not documents")
        return self.repairs.count_documents({"status": status})

    def arrived_since(self, since: datetime, limit: int = 100_000) -> list[dict[str, Any]]:
        """Repairs reached since ``since``, found by their arrival hour (a range alone is a
        scan on the embedded engine, which plans equalities only)."""
        hours = list(range(windows.hour_of(since), windows.hour_of(since) + 3))
        return list(self.repairs.find({"arrived_hour": {"$in": hours},
                                       "arrived_at": {"$gte": since}},
                                      {"requested_at": 1, "arrived_at": 1}).limit(limit))

    def requested_between(self, start: datetime, end: datetime, limit: int = 100_000
                          ) -> list[dict[str, Any]]:
        # By the day buckets (indexed, a few per stats range), then the exact range: a range
        # on requested_at alone reads every repair ever stored on the embedded engine.
        days = list(range(windows.day_of(start), windows.day_of(end) + 1))
        return list(self.repairs.find({"requested_day": {"$in": days},
                                       "requested_at": {"$gte": start, "$lt": end}})
                    .limit(limit))
