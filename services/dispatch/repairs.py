"""Repairs as plain functions over the dispatch store and an event publisher: reporting,
moves (each one guarded write with its event), booking a technician, the sweeps (accept
timeouts, SLA alerts, stray bookings) and the dispatcher's board and stats.

The rules are in domain.py; this module reads, applies them and writes. Every write that
records an event publishes it right after (the outbox's flush); the relay timer publishes
whatever a crash left behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.common import idempotency, outbox, scopes
from services.common.outbox import Dispatch
from services.common.paging import empty_page, offset, page_dict
from services.common.refusals import BadRequest, Conflict, Forbidden, InvalidInput, NotFound
from services.common.times import as_utc, iso
from services.dispatch import domain, records, schemas
from services.dispatch.store import DispatchStore

SYSTEM = {"id": "system", "role": "system"}
STRAY_BOOKING_SECONDS = 30
MOVE_ATTEMPTS = 5


def _flush(store: DispatchStore, publish: Dispatch, repair_id: str) -> None:
    outbox.flush(store.repairs, repair_id, publish)


def _technician_id(store: DispatchStore, who: dict[str, str]) -> str | None:
    """The technician record of a signed-in technician (None for anyone else)."""
    if who["role"] != "technician":
        return None
    me = store.technician_by_sub(who["sub"])
    return me["_id"] if me else None


# ------------------------------------------------------------------ reading


def visible(store: DispatchStore, who: dict[str, str], repair_id: str) -> dict[str, Any]:
    """The repair if ``who`` may see it; otherwise 404, so ids do not leak."""
    repair = store.repair(repair_id)
    if repair is None or not records.can_see(repair, who, _technician_id(store, who)):
        raise NotFound("no such repair")
    return repair


def list_for(store: DispatchStore, who: dict[str, str], page: int, page_size: int,
             status: str | None, now: datetime) -> dict[str, Any]:
    """Residents their own, technicians their jobs, dispatchers the active ones (or a
    status), newest first. A scope of nothing (a technician without a profile) is an empty
    page, not a query."""
    scope = domain.repair_scope(who, _technician_id(store, who), status)
    if scope is scopes.NOTHING:
        return empty_page(page, page_size)
    docs, total, capped = store.page(scope, offset(page, page_size), page_size, now)
    return page_dict(docs, page, page_size, total, lambda d: records.public_repair(d, who, now),
                     capped)


# ------------------------------------------------------------------ reporting


def check_reporter(who: dict[str, str], idempotency_key: Any) -> None:
    """Checked before the body: only residents report, always with a usable key."""
    if who["role"] != "resident":
        raise Forbidden("only residents report repairs")
    if not isinstance(idempotency_key, str) or not 8 <= len(idempotency_key) <= 100:
        raise BadRequest("an Idempotency-Key of 8 to 100 characters is required")


def report(store: DispatchStore, publish: Dispatch, who: dict[str, str], idempotency_key: str,
           data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Open a repair request (after check_reporter). The same key and body return the same
    repair."""
    doc = records.new_repair(who["sub"], idempotency_key, data, now, schemas.SLA_MINUTES)
    event = records.repair_event("repair_requested", doc, None, now, by=who["sub"])
    if store.insert_repair(doc, [event]) is None:
        existing = store.repair_by_idempotency_key(who["sub"], idempotency_key)
        idempotency.check_replay(existing["fingerprint"], data, "repair")
        return {"repair": records.public_repair(existing, who, now), "created": False}
    _flush(store, publish, doc["_id"])
    return {"repair": records.public_repair(doc, who, now), "created": True}


# ------------------------------------------------------------------ moves


def move(store: DispatchStore, publish: Dispatch, repair_id: str, action: str,
         acting: dict[str, Any], by: str, now: datetime, *, extra: dict[str, Any] | None = None,
         causation_id: str | None = None, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run a domain transition as one guarded write with its event. When the repair changed
    meanwhile, the transition is judged again on what it is now: a move still allowed from the
    new status goes ahead (a resident's cancel that crosses the automatic assignment), one no
    longer allowed is a 409 naming the status. Returns the repair before and after."""
    for _ in range(MOVE_ATTEMPTS):
        repair = store.repair(repair_id)
        if repair is None:
            raise NotFound("no such repair")
        updates, domain_events = domain.transition(repair, action, acting, now, **kw)
        updates.update(extra or {})
        event = records.repair_event(
            domain_events[0]["type"], domain.event_view(repair, action, updates),
            repair["status"], now, by=by, reason=domain_events[0]["data"].get("reason"),
            causation_id=causation_id)
        moved = store.move_repair(repair, updates, [event])
        if moved is not None:
            _flush(store, publish, repair_id)
            return repair, moved
    raise Conflict("the repair is changing too fast; retry", code="busy")


def follow_up(store: DispatchStore, action: str, before: dict[str, Any],
              moved: dict[str, Any], now: datetime) -> None:
    """Keep the technician's own document in step with the job (follow-up writes)."""
    tech_id = before.get("technician_id")
    if tech_id and action in domain.RELEASING:
        store.release_technician(tech_id, before["_id"], now)
    elif tech_id and moved["status"] in domain.TECH_STATUS_FOR:
        store.technician_on_job(tech_id, before["_id"], domain.TECH_STATUS_FOR[moved["status"]],
                                now)
    if action == "rate" and tech_id:
        store.add_rating(tech_id, moved["rating"]["stars"])


def _move_arguments(action: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A person's validated request body as (domain keyword arguments, fields stored as
    they are)."""
    if action == "complete":
        return ({"code": body["code"]},
                {"resolution": body["resolution"], "parts_used": body["parts_used"]})
    if action == "rate":
        return {"stars": body["rating"], "comment": body.get("comment")}, {}
    if action in ("decline", "cannot_fix", "cancel"):
        return {"reason": body.get("reason")}, {}
    return {}, {}


def _acting(store: DispatchStore, who: dict[str, str]) -> dict[str, Any]:
    """Who makes a move, as the domain knows them: a technician by their profile's id."""
    return {"id": _technician_id(store, who) if who["role"] == "technician" else who["sub"],
            "role": who["role"]}


def act(store: DispatchStore, publish: Dispatch, who: dict[str, str], repair_id: str,
        action: str, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A move a person makes by name (domain.PERSON_MOVES), with its validated body."""
    repair = visible(store, who, repair_id)
    acting = _acting(store, who)
    if action == "complete":
        return complete(store, publish, who, repair, acting, body, now)
    kwargs, extra = _move_arguments(action, body)
    if action == "arrive" and repair.get("technician_id"):
        # The arrival check compares the technician's last reported location with the address.
        kwargs["technician"] = store.technician(repair["technician_id"])
    before, moved = move(store, publish, repair["_id"], action, acting, who["sub"], now,
                         extra=extra, **kwargs)
    follow_up(store, action, before, moved, now)
    return moved


def complete(store: DispatchStore, publish: Dispatch, who: dict[str, str],
             repair: dict[str, Any], acting: dict[str, Any], body: dict[str, Any],
             now: datetime) -> dict[str, Any]:
    """The technician closes the job with the resident's code. Every attempt is counted
    before the code is compared (store.count_code_attempt), so however many arrive at once
    at most domain.MAX_CODE_ATTEMPTS are compared per code; the wrong one that uses the last
    attempt locks the job and tells the resident and the dispatchers."""
    for _ in range(MOVE_ATTEMPTS):
        domain.check_code_attempt(repair, acting)
        counted = store.count_code_attempt(repair["_id"], domain.MAX_CODE_ATTEMPTS)
        if counted is not None:
            break
        repair = visible(store, who, repair["_id"])  # moved, locked or given a new code
    else:
        raise Conflict("the repair is changing too fast; retry", code="busy")
    kwargs, extra = _move_arguments("complete", body)
    try:
        before, moved = move(store, publish, repair["_id"], "complete", acting, who["sub"],
                             now, extra=extra, **kwargs)
    except domain.WrongCode:
        if domain.attempts_left(counted) > 0:
            raise domain.wrong_code(counted) from None
        lock_code(store, publish, repair["_id"], now)
        raise domain.CodeLocked("completion code does not match, and that was the last "
                                "attempt: the job is locked until the resident issues a new "
                                "code") from None
    follow_up(store, "complete", before, moved, now)
    return moved


def lock_code(store: DispatchStore, publish: Dispatch, repair_id: str, now: datetime
              ) -> dict[str, Any] | None:
    """Lock the job (once: a locked, moved or re-coded repair is left alone), with the
    completion_code_locked event in the same write."""
    for _ in range(MOVE_ATTEMPTS):
        repair = store.repair(repair_id)
        if repair is None or not domain.should_lock(repair):
            return None
        updates = domain.lock_updates(repair, now)
        event = records.repair_event("completion_code_locked", {**repair, **updates},
                                     repair["status"], now, by="system",
                                     reason=domain.CODE_LOCKED_REASON)
        moved = store.move_repair(repair, updates, [event])
        if moved is not None:
            _flush(store, publish, repair_id)
            return moved
    return None


def new_code(store: DispatchStore, who: dict[str, str], repair_id: str, now: datetime
             ) -> dict[str, Any]:
    """The reporting resident issues a new completion code; it unlocks a locked job."""
    for _ in range(MOVE_ATTEMPTS):
        repair = visible(store, who, repair_id)
        updates = domain.new_code_updates(repair, _acting(store, who),
                                          records.new_completion_code(), now)
        moved = store.move_repair(repair, updates, [])
        if moved is not None:
            return moved
    raise Conflict("the repair is changing too fast; retry", code="busy")


# ------------------------------------------------------------------ booking


def book(store: DispatchStore, publish: Dispatch, repair: dict[str, Any], tech: dict[str, Any],
         acting: dict[str, Any], by: str, eta: float, now: datetime, policy: domain.Policy,
         causation_id: str | None = None) -> dict[str, Any]:
    """Book the technician, then move the repair; undo the booking if the move loses."""
    if store.claim_technician(tech["_id"], repair["_id"], now) is None:
        raise domain.TechnicianBusy()
    try:
        _, moved = move(store, publish, repair["_id"], "assign", acting, by, now,
                        causation_id=causation_id,
                        extra={"eta_minutes": eta, "accept_by": now + policy.accept_timeout,
                               "technician_sub": tech["sub"]},
                        technician_id=tech["_id"], technician_name=tech["name"])
    except Exception:
        store.release_technician(tech["_id"], repair["_id"], now)
        raise
    return moved


def assign(store: DispatchStore, publish: Dispatch, who: dict[str, str], repair_id: str,
           technician_id: str, now: datetime, policy: domain.Policy) -> dict[str, Any]:
    """A dispatcher sends a technician: re-checked here, then booked."""
    repair = store.repair(repair_id)
    if repair is None:
        raise NotFound("no such repair")
    domain.check_move(repair["status"], "assign")
    tech = store.technician(technician_id)
    if tech is None:
        raise NotFound("no such technician")
    eta = domain.assignment_eta(repair, tech, now, tz=policy.tz)
    return book(store, publish, repair, tech, {"id": who["sub"], "role": who["role"]},
                who["sub"], eta, now, policy)


# ------------------------------------------------------------------ sweeps


def expire_unaccepted(store: DispatchStore, publish: Dispatch, now: datetime) -> int:
    """Assigned jobs nobody accepted in time go back to open."""
    expired = 0
    for repair in store.overdue_acceptances(now):
        try:
            before, moved = move(store, publish, repair["_id"], "accept_timeout", SYSTEM,
                                 "system", now, technician_id=repair["technician_id"])
        except (Conflict, Forbidden, InvalidInput):
            continue  # accepted or moved meanwhile
        follow_up(store, "accept_timeout", before, moved, now)
        expired += 1
    return expired


def check_sla(store: DispatchStore, publish: Dispatch, now: datetime) -> int:
    """SLA alerts, each exactly once: the flag is the guard of the write with the event."""
    sent = 0
    for repair in store.sla_watch():
        due = domain.sla_events_due(repair, now)
        if not due:
            continue
        events = [records.repair_event(kind, repair, None, now, by="system",
                                       reason=kind.removeprefix("sla_").replace("_", " "))
                  for kind in due]
        if store.flag_sla(repair, domain.sla_flag_updates(due), events):
            _flush(store, publish, repair["_id"])
            sent += len(events)
    return sent


def free_stray_bookings(store: DispatchStore, now: datetime) -> int:
    """A crash between booking a technician and moving the repair leaves the technician
    booked for a job they do not hold; free them once the booking is clearly stale."""
    stale_before = now - timedelta(seconds=STRAY_BOOKING_SECONDS)
    freed = 0
    for tech in store.booked_technicians():
        repair = store.repair(tech["current_repair_id"])
        holds = (repair is not None and repair.get("technician_id") == tech["_id"]
                 and repair["status"] in domain.ACTIVE_STATUSES)
        if (not holds and as_utc(tech["updated_at"]) < stale_before
                and store.release_technician(tech["_id"], tech["current_repair_id"], now)):
            freed += 1  # counted by the replica whose guarded write freed them
    return freed


# ------------------------------------------------------------------ board and stats


def board(store: DispatchStore, now: datetime) -> dict[str, Any]:
    """Open and assigned jobs, and those at risk of or past their arrival promise."""
    out: dict[str, Any] = {"now": iso(now), "open": [], "assigned": [], "at_risk": [],
                           "breached": []}
    for doc in store.active_repairs():
        item = records.board_item(doc, now)
        out["open" if doc["status"] == "open" else "assigned"].append(item)
        if item["sla_state"] in ("at_risk", "breached"):
            out[item["sla_state"]].append(item)
    return out


def stats(store: DispatchStore, args: dict[str, Any], now: datetime, tz: str) -> dict[str, Any]:
    """Per local day and skill, over the days the validated ``args`` ask for."""
    first, last, start, end = domain.stats_window(args.get("from_"), args.get("to"), now, tz=tz)
    rows = domain.daily_stats(store.requested_between(start, end), tz=tz, now=now)
    return {"from_": first.isoformat(), "to": last.isoformat(), "rows": rows}
