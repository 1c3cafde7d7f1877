"""Technicians as plain functions over the dispatch store: the dispatcher's roster and a
technician's own profile, location and status. A technician's status while on a job
(en_route, on_site) follows the job; only offline/available are theirs to set, guarded in
the same write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common.paging import offset, page_dict
from services.common.refusals import Conflict, Forbidden, NotFound
from services.dispatch import domain, records
from services.dispatch.store import CACHE_RELOAD_EVERY, DispatchStore


def require_role(who: dict[str, str], *roles: str) -> None:
    """Admins may do anything a role may."""
    if who["role"] not in roles and who["role"] != "admin":
        raise Forbidden(f"this needs the role: {' or '.join(roles)}")


def create(store: DispatchStore, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    doc = records.new_technician(data, now)
    if store.insert_technician(doc) is None:
        raise Conflict("a technician with this sub already exists",
                       {"sub": ["already registered"]}, code="technician_exists")
    return records.public_technician(doc)


def update(store: DispatchStore, technician_id: str, data: dict[str, Any], now: datetime
           ) -> dict[str, Any]:
    tech = store.technician(technician_id)
    if tech is None:
        raise NotFound("no such technician")
    query: dict[str, Any] = {"_id": technician_id}
    if "status" in data:
        query["status"] = {"$in": list(domain.SELF_STATUSES)}
    updated = store.update_technician(
        query, {"$set": records.technician_changes(tech, data, now)})
    if updated is None:
        raise Conflict(f"the technician is {store.technician(technician_id)['status']}"
                       " on a job; their status follows the job",
                       {"status": [tech["status"]]}, code="technician_on_job")
    return records.public_technician(updated)


def roster(store: DispatchStore, page: int, page_size: int, status: str | None,
           skill: str | None) -> dict[str, Any]:
    """Who is available, en route or on site, by name."""
    query: dict[str, Any] = {}
    if status:
        query["status"] = status
    if skill:
        query["skills"] = skill
    docs, total, capped = store.page_technicians(query, offset(page, page_size), page_size)
    return page_dict(docs, page, page_size, total, records.public_technician, capped)


def visible(store: DispatchStore, who: dict[str, str], technician_id: str) -> dict[str, Any]:
    """Dispatchers see everyone, a technician only themself; others get 404."""
    tech = store.technician(technician_id)
    if tech is None or not (who["role"] in ("dispatcher", "admin")
                            or tech["sub"] == who["sub"] and who["role"] == "technician"):
        raise NotFound("no such technician")
    return records.public_technician(tech)


def me(store: DispatchStore, who: dict[str, str]) -> dict[str, Any]:
    """The signed-in technician's own record."""
    if who["role"] != "technician":
        raise Forbidden("only technicians have a technician profile")
    found = store.technician_by_sub(who["sub"])
    if found is None:
        raise NotFound("you are not registered as a technician; ask a dispatcher")
    return store.technician(found["_id"]) or found


def set_location(store: DispatchStore, who: dict[str, str], point: dict[str, float],
                 now: datetime) -> dict[str, Any]:
    mine = me(store, who)
    updated = store.update_technician(
        {"_id": mine["_id"]}, {"$set": records.location_fields(point, now)})
    return records.public_technician(updated)


def set_status(store: DispatchStore, who: dict[str, str], status: str, now: datetime
               ) -> dict[str, Any]:
    mine = me(store, who)
    updated = store.update_technician(
        {"_id": mine["_id"], "status": {"$in": list(domain.SELF_STATUSES)}},
        {"$set": {"status": status, "updated_at": now}})
    if updated is None:
        current = store.technician(mine["_id"])["status"]
        raise Conflict(f"you are {current} on a job; finish or hand it back first",
                       {"status": [current]}, code="technician_on_job")
    return records.public_technician(updated)


def reload_if_due(store: DispatchStore, now: datetime) -> int:
    """Every CACHE_RELOAD_EVERY, reload this replica's technician copies (the backstop for an
    announcement from another replica that never arrived); how many were read."""
    if not store.cache_enabled or (store.reloaded_at is not None
                                   and now - store.reloaded_at < CACHE_RELOAD_EVERY):
        return 0
    return store.reload_technicians(now)
