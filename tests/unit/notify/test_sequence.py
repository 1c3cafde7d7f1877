"""The live-stream numbering: it comes from a counter in the database (so replicas never
repeat a number), continues above what is stored, and an idle poll is answered from memory
while one process did all the numbering."""

from __future__ import annotations

import pytest

from services.common.store import open_database
from services.notify.sequence import Sequencer


@pytest.fixture
def counters(tmp_path):
    database = open_database("test", "", str(tmp_path))
    yield database.db["counters"]
    database.close()


def test_numbering_continues_above_the_highest_stored_seq(counters):
    numbers = Sequencer(counters)
    numbers.start_at(41)
    assert numbers.current() == 41
    assert numbers.next_for("resident-a") == 42
    assert numbers.next_for("resident-b") == 43


def test_two_replicas_numbering_at_once_never_hand_out_the_same_number(counters):
    a, b = Sequencer(counters), Sequencer(counters)
    a.start_at(5)
    b.start_at(0)  # a replica that finds fewer stored does not go back
    handed = [s.next_for("resident-a") for _ in range(50) for s in (a, b)]
    assert sorted(handed) == list(range(6, 106))


def test_a_poll_needs_no_query_unless_one_of_its_inboxes_got_something_newer(counters):
    numbers = Sequencer(counters)
    numbers.start_at(10)
    assert numbers.nothing_after(["resident-a"], 10)  # nothing numbered since start-up
    assert not numbers.nothing_after(["resident-a"], 9)  # older ones may be its own
    numbers.next_for("role:dispatcher")
    assert numbers.nothing_after(["resident-a"], 10)
    assert not numbers.nothing_after(["dispatcher-a", "role:dispatcher"], 10)


def test_after_another_replica_numbered_something_a_poll_asks_the_database(counters):
    mine, other = Sequencer(counters), Sequencer(counters)
    mine.start_at(10)
    other.start_at(10)
    other.next_for("resident-a")
    assert not mine.nothing_after(["resident-a"], 10)
    assert mine.nothing_after(["resident-a"], 11)  # the counter says nothing is newer
