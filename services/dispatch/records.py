"""Documents and views over plain data: new technicians and repairs, what callers see, and
the contract events. No I/O (the rules themselves are in domain.py)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from services.common import idempotency, windows
from services.common.events import make_event, new_id
from services.common.times import as_utc, iso
from services.dispatch import domain
from services.dispatch.store import cells_of

SOURCE = "dispatch"
CODE_VISIBLE_IN = ("accepted", "arrived")
_rng = secrets.SystemRandom()


# ------------------------------------------------------------------ technicians


def new_technician(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    h3_cell, search_cell = cells_of(data["home"])
    return {
        "_id": new_id("tec"),
        "sub": data["sub"],
        "name": data["name"],
        "skills": list(data["skills"]),
        "home": data["home"],
        "shifts": data.get("shifts"),
        "travel_mode": data.get("travel_mode") or domain.DEFAULT_TRAVEL_MODE,
        "status": data.get("status") or "offline",
        "location": None,
        "location_at": None,
        # The cell of where the technician is now: the phone's location, else home.
        "h3_cell": h3_cell,
        "search_cell": search_cell,
        "current_repair_id": None,
        "active_jobs": 0,
        "rating_sum": 0,
        "rating_count": 0,
        "rating_avg": None,
        "created_at": now,
        "updated_at": now,
    }


def technician_changes(tech: dict[str, Any], changes: dict[str, Any], now: datetime
                       ) -> dict[str, Any]:
    fields = {**changes, "updated_at": now}
    if "home" in changes and tech.get("location") is None:
        fields["h3_cell"], fields["search_cell"] = cells_of(changes["home"])
    return fields


def location_fields(location: dict[str, float], now: datetime) -> dict[str, Any]:
    h3_cell, search_cell = cells_of(location)
    return {"location": location, "location_at": now, "h3_cell": h3_cell,
            "search_cell": search_cell, "updated_at": now}


def public_technician(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"], "sub": doc["sub"], "name": doc["name"], "skills": doc["skills"],
        "home": doc["home"], "shifts": doc.get("shifts"), "travel_mode": doc["travel_mode"],
        "status": doc["status"], "location": doc.get("location"),
        "location_at": iso(doc.get("location_at")), "h3_cell": doc.get("h3_cell"),
        "current_repair_id": doc.get("current_repair_id"),
        "active_jobs": doc.get("active_jobs") or 0, "rating_avg": doc.get("rating_avg"),
        "rating_count": doc.get("rating_count") or 0,
        "created_at": iso(doc["created_at"]), "updated_at": iso(doc["updated_at"]),
    }


# ------------------------------------------------------------------ repairs


def new_repair(resident_id: str, idempotency_key: str, data: dict[str, Any], now: datetime,
               sla_minutes: dict[str, int]) -> dict[str, Any]:
    preferred = data.get("preferred_time")
    # A booking for later starts its arrival window at the booked time, never before now.
    requested_at = max(now, as_utc(preferred)) if preferred else now
    h3_cell, _ = cells_of(data["location"])
    return {
        "_id": new_id("rep"),
        "rev": 0,
        "resident_id": resident_id,
        "skill": data["skill"],
        "description": data["description"],
        "address": data["address"],
        "location": data["location"],
        "h3_cell": h3_cell,
        "preferred_time": preferred,
        "requested_at": requested_at,
        **windows.buckets("requested", requested_at),  # lists read the newest first
        "due_by": domain.due_by(requested_at, data["skill"], sla_minutes),
        "status": "open",
        "technician_id": None,
        "technician_name": None,
        "technician_sub": None,
        "eta_minutes": None,
        "accept_by": None,
        "completion_code": new_completion_code(),
        "code_attempts": 0,
        "code_locked": False,
        "arrival_check": None,
        "declined_technician_ids": [],
        "sla_at_risk_sent": False,
        "sla_breached_sent": False,
        "history": [{"status": "open", "at": now, "by": {"id": resident_id, "role": "resident"},
                     "note": ""}],
        **idempotency.key_fields(resident_id, idempotency_key),
        "fingerprint": idempotency.fingerprint(data),
        "created_at": now,
        "updated_at": now,
    }


def new_completion_code() -> str:
    return domain.make_completion_code(_rng)


def can_see(repair: dict[str, Any], who: dict[str, str], tech_id: str | None) -> bool:
    if who["role"] in ("admin", "dispatcher"):
        return True
    if who["role"] == "resident":
        return repair["resident_id"] == who["sub"]
    if who["role"] == "technician":
        return tech_id is not None and repair.get("technician_id") == tech_id
    return False


def public_arrival_check(check: dict[str, Any] | None) -> dict[str, Any] | None:
    if not check:
        return None
    return {"at": iso(check["at"]), "location": check.get("location"),
            "location_at": iso(check.get("location_at")), "distance_m": check.get("distance_m")}


def public_repair(doc: dict[str, Any], who: dict[str, str], now: datetime) -> dict[str, Any]:
    show_code = (who["role"] == "resident" and doc["resident_id"] == who["sub"]
                 and doc["status"] in CODE_VISIBLE_IN)
    dispatching = who["role"] in ("dispatcher", "admin")
    rating = doc.get("rating") or {}
    return {
        "id": doc["_id"], "status": doc["status"], "resident_id": doc["resident_id"],
        "skill": doc["skill"], "description": doc["description"], "address": doc["address"],
        "location": doc["location"], "requested_at": iso(doc["requested_at"]),
        "due_by": iso(doc["due_by"]), "sla_state": domain.sla_state(doc, now),
        "technician_id": doc.get("technician_id"),
        "technician_name": doc.get("technician_name"),
        "eta_minutes": doc.get("eta_minutes"), "accept_by": iso(doc.get("accept_by")),
        "completion_code": doc["completion_code"] if show_code else None,
        "code_locked": bool(doc.get("code_locked")),
        "code_attempts_left": domain.attempts_left(doc),
        # Where the technician's phone last said they were when they pressed "arrived":
        # for dispatchers only (a technician's whereabouts are not the resident's business).
        "arrival_check": public_arrival_check(doc.get("arrival_check")) if dispatching else None,
        "resolution": doc.get("resolution"), "parts_used": doc.get("parts_used"),
        "rating": rating.get("stars"), "comment": rating.get("comment"),
        "assigned_at": iso(doc.get("assigned_at")), "accepted_at": iso(doc.get("accepted_at")),
        "arrived_at": iso(doc.get("arrived_at")), "completed_at": iso(doc.get("completed_at")),
        "cancelled_at": iso(doc.get("cancelled_at")),
        "history": [{"status": h["status"], "at": iso(h["at"]), "by": h.get("by"),
                     "note": h.get("note")} for h in doc.get("history") or []],
        "created_at": iso(doc["created_at"]), "updated_at": iso(doc["updated_at"]),
    }


def board_item(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    due = as_utc(doc["due_by"])
    return {
        "id": doc["_id"], "status": doc["status"], "skill": doc["skill"],
        "address": doc["address"], "resident_id": doc["resident_id"],
        "technician_id": doc.get("technician_id"),
        "technician_name": doc.get("technician_name"),
        "requested_at": iso(doc["requested_at"]), "due_by": iso(due),
        "minutes_to_due": round((due - as_utc(now)).total_seconds() / 60, 1),
        "sla_state": domain.sla_state(doc, now),
    }


def repair_event(event_type: str, repair: dict[str, Any], previous_status: str | None,
                 now: datetime, *, by: str | None = None, reason: str | None = None,
                 causation_id: str | None = None) -> dict[str, Any]:
    """The contract event for ``repair`` as it is after the change."""
    rating = repair.get("rating") or {}
    return make_event(
        event_type,
        {"repair_id": repair["_id"], "resident_id": repair["resident_id"],
         "technician_id": repair.get("technician_id"),
         "technician_name": repair.get("technician_name"),
         "technician_sub": repair.get("technician_sub"), "skill": repair["skill"],
         "status": repair["status"], "previous_status": previous_status,
         "requested_at": iso(repair["requested_at"]), "due_by": iso(repair["due_by"]),
         "eta_minutes": repair.get("eta_minutes"), "reason": reason or None, "by": by,
         "rating": rating.get("stars"), "comment": rating.get("comment")},
        source=SOURCE, correlation_id=repair["_id"], causation_id=causation_id,
        occurred_at=as_utc(now) if now else datetime.now(UTC),
    )
