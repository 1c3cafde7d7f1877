"""The outbox on the embedded store: events recorded with the state change, published once
flushed, and re-published by the relay when a crash left them behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common import outbox
from services.common.events import make_event
from services.common.store import open_database


@pytest.fixture
def collection(tmp_path):
    database = open_database("test", "", str(tmp_path))
    yield database.db["things"]
    database.close()


def event(n: int, at: datetime | None = None) -> dict:
    return make_event("stock_rejected", {
        "order_id": f"ord_{n}", "merchant_id": "m", "reason": "out_of_stock", "message": "x",
        "product_id": None}, source="catalog", correlation_id=f"ord_{n}", occurred_at=at)


def test_flushing_publishes_recorded_events_in_order_and_clears_them(collection):
    first, second = event(1), event(2)
    collection.insert_one(outbox.with_outbox({"_id": "a"}, [first]))
    collection.update_one({"_id": "a"}, outbox.outbox_update([second], {"$set": {"x": 1}}))
    sent: list = []
    assert outbox.flush(collection, "a", sent.append) == 2
    assert [e["id"] for e in sent] == [first["id"], second["id"]]
    doc = collection.find_one({"_id": "a"})
    assert doc["x"] == 1 and doc[outbox.OUTBOX] == [] and doc[outbox.PENDING] is False
    assert outbox.flush(collection, "a", sent.append) == 0


def test_the_relay_publishes_only_events_older_than_the_grace_period(collection):
    now = datetime.now(UTC)
    old, fresh = event(1, now - timedelta(seconds=30)), event(2, now)
    collection.insert_one(outbox.with_outbox({"_id": "crashed"}, [old]))
    collection.insert_one(outbox.with_outbox({"_id": "in-flight"}, [fresh]))
    sent: list = []
    assert outbox.relay([collection], sent.append, now - timedelta(seconds=3)) == 1
    assert [e["id"] for e in sent] == [old["id"]]
    assert collection.find_one({"_id": "in-flight"})[outbox.PENDING] is True


def test_a_failed_publish_keeps_the_event_for_the_next_try(collection):
    collection.insert_one(outbox.with_outbox({"_id": "a"}, [event(1)]))

    def broker_down(_event):
        raise ConnectionError("broker unreachable")

    with pytest.raises(ConnectionError):
        outbox.flush(collection, "a", broker_down)
    assert len(collection.find_one({"_id": "a"})[outbox.OUTBOX]) == 1


def test_public_views_never_show_the_outbox():
    assert outbox.public(outbox.with_outbox({"_id": "a", "x": 1}, [])) == {"_id": "a", "x": 1}


def test_an_event_recorded_while_others_were_published_is_published_too(collection):
    first, second = event(1), event(2)
    collection.insert_one(outbox.with_outbox({"_id": "a"}, [first]))
    sent: list = []

    def publish_while_another_write_lands(e):
        sent.append(e["id"])
        if len(sent) == 1:
            collection.update_one({"_id": "a"}, outbox.outbox_update([second], {"$set": {}}))

    outbox.flush(collection, "a", publish_while_another_write_lands,
                 written={outbox.OUTBOX: [first]})
    doc = collection.find_one({"_id": "a"})
    assert sent == [first["id"], second["id"]]
    assert doc[outbox.OUTBOX] == [] and doc[outbox.PENDING] is False


def test_a_write_that_recorded_no_event_publishes_nothing(collection):
    collection.insert_one(outbox.with_outbox({"_id": "a"}, []))
    assert outbox.flush(collection, "a", lambda e: None, written={"_id": "a"}) == 0


def test_events_the_broker_did_not_confirm_stay_for_the_relay(collection):
    from services.common.publisher import PublishFailed

    class Refused:
        def __call__(self, e):
            raise PublishFailed("nack")

        many = __call__

    collection.insert_one(outbox.with_outbox({"_id": "a"}, [event(1)]))
    with pytest.raises(PublishFailed):
        outbox.flush(collection, "a", Refused())
    assert collection.find_one({"_id": "a"})[outbox.PENDING] is True


def test_of_two_replicas_claiming_the_same_document_exactly_one_wins(collection):
    now = datetime.now(UTC)
    collection.insert_one(outbox.with_outbox({"_id": "a"}, [event(1, now)]))
    first = outbox.claim(collection, "a", now)
    second = outbox.claim(collection, "a", now)
    assert first is not None and second is None
    # A replica that died holding the lease delays the relay; it does not stop it.
    assert outbox.claim(collection, "a", now + outbox.LEASE_FOR) is not None


def test_two_relays_running_at_the_same_moment_publish_a_left_behind_event_once(collection):
    """Two replicas' relay timers on the same documents: the second finds the lease taken
    while the first is publishing, so nothing goes out twice."""
    now = datetime.now(UTC)
    old = [event(n, now - timedelta(seconds=30)) for n in range(3)]
    for n, e in enumerate(old):
        collection.insert_one(outbox.with_outbox({"_id": f"doc{n}"}, [e]))
    sent: list = []

    def publish_while_the_other_replica_relays(e):
        sent.append(e["id"])
        if len(sent) == 1:  # replica B's timer fires while A is publishing its first event
            outbox.relay([collection], lambda e2: sent.append(e2["id"]),
                         now - timedelta(seconds=3))

    outbox.relay([collection], publish_while_the_other_replica_relays,
                 now - timedelta(seconds=3))
    assert sorted(sent) == sorted(e["id"] for e in old)
    assert all(d[outbox.PENDING] is False and d[outbox.LEASE] is None
               for d in collection.find({}))


def test_a_flush_racing_another_flush_of_the_same_document_publishes_each_event_once(
        collection):
    """Two timers of two replicas move one repair at once: each flushes the document. The
    one holding the lease publishes; the other's event, written meanwhile, is published by
    the holder when it looks again."""
    first, second = event(1), event(2)
    collection.insert_one(outbox.with_outbox({"_id": "a"}, [first]))
    sent: list = []

    def publish_while_another_writer_flushes(e):
        sent.append(e["id"])
        if e["id"] == first["id"]:
            collection.update_one({"_id": "a"}, outbox.outbox_update([second], {}))
            assert outbox.flush(collection, "a", lambda e2: sent.append(e2["id"])) == 0

    assert outbox.flush(collection, "a", publish_while_another_writer_flushes) == 2
    assert sent == [first["id"], second["id"]]
    assert collection.find_one({"_id": "a"})[outbox.PENDING] is False
