"""The lease that keeps one order (or scale post) to one worker of one replica at a time, on the
embedded store (tests/mongo runs the same writes on a MongoDB server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import eventlet
import pytest

from services.common.leases import LeaseBusy, LeaseLost, Leases
from services.common.store import open_database
from tests.helpers import wait_for

T0 = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def collection(tmp_path):
    database = open_database("catalog", "", str(tmp_path))
    yield database.db["leases"]
    database.close()


def replica(collection, name, clock=None, seconds=5.0, wait=0.2):
    return Leases(collection, name, seconds, wait, **({"now": clock} if clock else {}))


def test_a_live_lease_is_nobody_elses_until_it_lapses(collection):
    clock = FakeClock()
    a, b = replica(collection, "a", clock), replica(collection, "b", clock)
    assert a.take("order:1")
    assert not b.take("order:1")
    assert a.take("order:1")  # its own: taken back at once (a release that failed)
    clock.at += timedelta(seconds=4.9)
    assert not b.take("order:1")
    clock.at += timedelta(seconds=5.2)  # a's holder died: its lease lapsed
    assert b.take("order:1")
    assert not a.take("order:1")
    assert b.take("order:2") and a.take("order:3")  # one lease per key


def test_handing_back_frees_it_for_the_next_and_leaves_no_document(collection):
    a, b = replica(collection, "a"), replica(collection, "b")
    with a.hold("order:1"):
        assert not b.take("order:1")
        b.release("order:1")  # not b's to hand back
        assert not b.take("order:1")
    assert collection.count_documents({}) == 0
    assert b.take("order:1")


def test_a_second_replica_waits_for_the_holder_then_runs(collection):
    a, b = replica(collection, "a", wait=10), replica(collection, "b", wait=10)
    order: list[str] = []

    def work(leases, name):
        with leases.hold("order:1"):
            order.append(f"{name} in")
            for _ in range(5):
                eventlet.sleep(0.01)  # the holder's store round trips
            order.append(f"{name} out")

    first = eventlet.spawn(work, a, "a")
    eventlet.sleep(0)  # a takes the lease
    second = eventlet.spawn(work, b, "b")
    first.wait()
    second.wait()
    assert order == ["a in", "a out", "b in", "b out"]


def test_workers_of_one_replica_take_turns_too(collection):
    a = replica(collection, "a")
    inside, most = [0], [0]

    def work():
        with a.hold("order:1"):
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            eventlet.sleep(0.01)
            inside[0] -= 1

    pool = eventlet.GreenPool()
    for _ in range(4):
        pool.spawn(work)
    pool.waitall()
    assert most[0] == 1


def test_a_replica_that_cannot_get_it_in_time_is_told_busy(collection):
    a, b = replica(collection, "a"), replica(collection, "b", wait=0.05)
    with a.hold("order:1"):
        with pytest.raises(LeaseBusy):
            with b.hold("order:1"):
                pytest.fail("ran while another replica held the order")
    with b.hold("order:1"):
        pass


def test_a_holder_that_works_longer_than_the_lease_keeps_it(collection):
    clock = FakeClock()
    a = replica(collection, "a", clock, seconds=0.3)
    b = replica(collection, "b", clock, seconds=0.3)
    with a.hold("order:1") as held:
        clock.at += timedelta(seconds=60)  # far past the lease a took
        wait_for(lambda: collection.find_one({"_id": "order:1"})["until"]
                 > clock.at, what="a renewal")
        assert not b.take("order:1")
        assert not held.lost


def test_a_holder_whose_lease_was_taken_over_fails_when_its_work_ends(collection):
    a = replica(collection, "a", seconds=0.3)
    with pytest.raises(LeaseLost):
        with a.hold("order:1") as held:
            # a froze past its lease and b took it over (as b.take would have)
            collection.update_one({"_id": "order:1"}, {"$set": {"holder": "b"}})
            wait_for(lambda: held.lost, what="the renewal to find the lease gone")
    assert collection.find_one({"_id": "order:1"})["holder"] == "b"  # b's, left alone
