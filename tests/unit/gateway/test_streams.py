"""Live stream slots in a gateway process: per person, in all, freed on hang-up, ended at
shutdown (issue 10, items 2 and 12)."""

from __future__ import annotations

import threading

import eventlet
import pytest

from services.gateway.errors import ApiError
from services.gateway.streams import StreamEnded, StreamRegistry, hung_up


def test_a_third_stream_of_one_person_ends_their_oldest():
    registry = StreamRegistry(max_streams=4, max_per_user=2)
    first, second = registry.open("li"), registry.open("li")
    third = registry.open("li")
    with pytest.raises(StreamEnded) as ended:
        first.wait(10, client_gone=lambda: False)  # returns at once, not after 10 s
    assert ended.value.reason == "replaced"
    second.wait(0, client_gone=lambda: False)  # still open
    assert registry.count("li") == 2 and registry.count() == 2
    first.release()  # its generator's cleanup changes nothing more
    assert registry.count() == 2
    third.release()
    second.release()
    assert registry.count() == 0


def test_another_person_can_open_while_one_holds_the_maximum():
    registry = StreamRegistry(max_streams=3, max_per_user=2)
    for _ in range(5):
        registry.open("hog")
    assert registry.count("hog") == 2
    registry.open("wang")
    with pytest.raises(ApiError) as full:
        registry.open("zhao")
    assert (full.value.status, full.value.code) == (503, "too_many_streams")


def test_the_total_must_exceed_the_per_person_cap():
    with pytest.raises(RuntimeError, match="greater"):
        StreamRegistry(max_streams=2, max_per_user=2)


def test_shutdown_ends_every_stream_and_refuses_new_ones():
    registry = StreamRegistry(max_streams=4, max_per_user=2)
    slots = [registry.open("li"), registry.open("wang")]
    reasons = []

    def waiting(slot):
        try:
            slot.wait(60, client_gone=lambda: False)
        except StreamEnded as ended:
            reasons.append(ended.reason)

    threads = [threading.Thread(target=waiting, args=(s,)) for s in slots]
    for t in threads:
        t.start()
    registry.close_all()
    for t in threads:
        t.join(timeout=10)
    assert reasons == ["shutdown", "shutdown"]
    with pytest.raises(ApiError) as refused:
        registry.open("zhao")
    assert refused.value.status == 503


def test_a_client_that_hung_up_is_noticed_by_peeking_at_its_socket():
    # gunicorn's sockets are plain ones; the tests' eventlet would make a peek wait.
    server, client = eventlet.patcher.original("socket").socketpair()
    try:
        assert not hung_up(server)  # connected, nothing to read
        client.close()
        assert hung_up(server)
    finally:
        server.close()
    assert not hung_up(None)  # not served by gunicorn: the heartbeat finds out
