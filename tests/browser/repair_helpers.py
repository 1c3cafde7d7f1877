"""Repairs made and moved through the API, for journeys that start in the middle."""

from __future__ import annotations

import uuid

from services import demo
from tests.helpers import ApiClient

DISPATCHER = ("dispatcher-jianghan", "dispatcher")


def technician_sub(web_system, technician_id: str) -> str:
    """The demo technician's sign-in name for a technician id."""
    return next(sub for sub, tid in web_system.demo["technicians"].items()
                if tid == technician_id)


def open_repair(web_system, resident: str, description: str, skill: str) -> str:
    home = demo.RESIDENTS[resident]
    r = ApiClient(web_system.base_url).post(
        "/api/v1/repairs", as_=(resident, "resident"),
        headers={"Idempotency-Key": str(uuid.uuid4())},
        json={"skill": skill, "description": description, "address": home["address"],
              "location": home["location"]})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def assign_best(web_system, repair_id: str) -> str:
    """Assign the first candidate; their sign-in name."""
    api = ApiClient(web_system.base_url)
    ranked = api.get(f"/api/v1/repairs/{repair_id}/candidates", as_=DISPATCHER).json()
    best = ranked["candidates"][0]["technician_id"]
    r = api.post(f"/api/v1/repairs/{repair_id}/assign", as_=DISPATCHER,
                 json={"technician_id": best})
    assert r.status_code == 200, r.text
    return technician_sub(web_system, best)


def cancel(web_system, resident: str, repair_id: str) -> None:
    r = ApiClient(web_system.base_url).post(f"/api/v1/repairs/{repair_id}/cancel",
                                            as_=(resident, "resident"), json={})
    assert r.status_code == 200, r.text
