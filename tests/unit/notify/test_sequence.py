"""The live-stream numbering: it continues above what is stored, and an idle poll is
answered from memory."""

from __future__ import annotations

from services.notify.sequence import Sequencer


def test_numbering_continues_above_the_highest_stored_seq():
    numbers = Sequencer()
    numbers.start_at(41)
    assert numbers.current() == 41
    assert numbers.next_for("resident-a") == 42
    assert numbers.next_for("resident-b") == 43


def test_a_poll_needs_no_query_unless_one_of_its_inboxes_got_something_newer():
    numbers = Sequencer()
    numbers.start_at(10)
    assert numbers.nothing_after(["resident-a"], 10)  # nothing numbered since start-up
    assert not numbers.nothing_after(["resident-a"], 9)  # older ones may be its own
    numbers.next_for("role:dispatcher")
    assert numbers.nothing_after(["resident-a"], 10)
    assert not numbers.nothing_after(["dispatcher-a", "role:dispatcher"], 10)
