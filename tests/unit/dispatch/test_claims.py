"""Two dispatch replicas on one database: a booking left by a crash is freed by exactly one
of them, and a replica's technician copy follows another replica's write once announced,
never going back to an older version."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.store import open_database
from services.dispatch.store import DispatchStore

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


class Wire:
    """What the broker does with announcements: hands them to the other replicas."""

    def __init__(self):
        self.replicas: list[DispatchStore] = []

    def announce_from(self, sender_index: int) -> Link:
        return Link(self, sender_index)


class Link:
    """A replica's Announcer, wired straight to the other replicas."""

    def __init__(self, wire: Wire, sender_index: int):
        self.wire, self.sender = wire, sender_index

    def __call__(self, data: dict) -> None:
        for i, replica in enumerate(self.wire.replicas):
            if i != self.sender:
                replica.heard_change({**data, "replica": self.sender})

    def from_other_replica(self, payload: dict) -> bool:
        return payload["replica"] != self.sender


@pytest.fixture
def two_replicas(tmp_path):
    database = open_database("dispatch", "", str(tmp_path))
    wire = Wire()
    wire.replicas = [DispatchStore(database.db, announce=wire.announce_from(i))
                     for i in range(2)]
    for replica in wire.replicas:
        replica.ensure_indexes()
    yield wire.replicas
    database.close()


def technician(tech_id: str) -> dict:
    return {"_id": tech_id, "sub": tech_id, "name": tech_id, "skills": ["plumbing"],
            "status": "available", "current_repair_id": None, "search_cell": "cell",
            "h3_cell": "fine", "updated_at": NOW}


def test_of_two_replicas_freeing_the_same_stray_booking_exactly_one_wins(two_replicas):
    a, b = two_replicas
    a.insert_technician(technician("tec_1"))
    assert a.claim_technician("tec_1", "rep_gone", NOW) is not None
    assert [a.release_technician("tec_1", "rep_gone", NOW),
            b.release_technician("tec_1", "rep_gone", NOW)] == [True, False]


def test_a_write_through_one_replica_reaches_the_others_copy(two_replicas):
    a, b = two_replicas
    a.insert_technician(technician("tec_1"))
    assert b.technicians_in(["cell"], "plumbing")[0]["_id"] == "tec_1"
    a.claim_technician("tec_1", "rep_1", NOW)
    assert b.technician("tec_1")["current_repair_id"] == "rep_1"
    a.update_technician({"_id": "tec_1"}, {"$set": {"status": "offline"}})
    assert b.technicians_in(["cell"], "plumbing") == []  # no longer offered by the other


def test_a_late_reload_never_replaces_a_newer_copy(two_replicas):
    a, _ = two_replicas
    a.insert_technician(technician("tec_1"))
    old = a.technicians.find_one({"_id": "tec_1"})
    a.claim_technician("tec_1", "rep_1", NOW)
    a._remember(old)  # an older read arriving late (MongoDB yields between calls)
    assert a.technician("tec_1")["current_repair_id"] == "rep_1"
