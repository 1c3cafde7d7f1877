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


def test_an_event_recorded_while_others_were_published_stays_pending(collection):
    first, second = event(1), event(2)
    collection.insert_one(outbox.with_outbox({"_id": "a"}, [first]))

    def publish_while_another_write_lands(e):
        collection.update_one({"_id": "a"}, outbox.outbox_update([second], {"$set": {}}))

    outbox.flush(collection, "a", publish_while_another_write_lands,
                 written={outbox.OUTBOX: [first]})
    doc = collection.find_one({"_id": "a"})
    assert [e["id"] for e in doc[outbox.OUTBOX]] == [second["id"]]
    assert doc[outbox.PENDING] is True


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
