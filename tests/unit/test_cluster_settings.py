"""Pure pieces of running on a cluster: which queues become quorum queues, the MongoDB client's
write concern, how an entrypoint's outcome is named, and the 15-minute arrival split."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kombu import Exchange, Queue

from services.common import queues
from services.common.errors import NotFound, Unauthorized
from services.common.metrics import outcome_of
from services.common.store import mongo_client_options
from services.dispatch.metrics import arrivals_by_promise


def test_shared_durable_queues_become_quorum_queues_and_private_ones_stay_classic():
    shared = Queue("evt-a", exchange=Exchange("x"), routing_key="a", durable=True)
    made = queues.as_durable(shared, {})
    assert made.queue_arguments == {"x-queue-type": "quorum"}
    assert (made.name, made.routing_key, made.exchange.name) == ("evt-a", "a", "x")
    for private in (Queue("reply", exclusive=True), Queue("tmp", auto_delete=True)):
        assert queues.as_durable(private, {}) is private
    assert queues.as_durable(shared, {"AMQP_QUORUM_QUEUES": "0"}).queue_arguments in ({}, None)


def test_a_retry_queue_dead_letters_at_least_once_only_when_quorum():
    assert queues.durable_arguments({}, dead_lettering=True) == {
        "x-queue-type": "quorum", "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish"}
    assert queues.durable_arguments({"AMQP_QUORUM_QUEUES": "0"}, dead_lettering=True) == {}


def test_prefetch_is_the_setting_or_one_per_worker():
    assert queues.prefetch({}, 10) == 10
    assert queues.prefetch({"AMQP_PREFETCH": 50}, 10) == 50


def test_mongodb_writes_wait_for_a_majority_unless_the_url_says_otherwise():
    options = mongo_client_options("mongodb://a,b,c/?replicaSet=rs0")
    assert options["w"] == "majority" and options["journal"] is True
    assert options["retryWrites"] is True and options["tz_aware"] is True
    chosen = mongo_client_options("mongodb://a/?w=1&journal=false")
    assert "w" not in chosen and "journal" not in chosen


def test_refusals_are_not_counted_as_errors():
    assert outcome_of(None) == "ok"
    assert outcome_of((NotFound, NotFound("no such order"), None)) == "refused"
    assert outcome_of((Unauthorized, Unauthorized("unknown device"), None)) == "refused"
    assert outcome_of((RuntimeError, RuntimeError("bug"), None)) == "error"


def test_arrivals_split_at_exactly_15_minutes_after_the_request():
    at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    arrivals = [{"requested_at": at, "arrived_at": at + timedelta(minutes=m)}
                for m in (3, 15, 15.1, 40)]
    assert arrivals_by_promise(arrivals) == {"true": 2, "false": 2}


def test_only_our_empty_unused_classic_queues_are_dropped_for_quorum_ones():
    from services.common.broker import classic_queues_to_drop

    listing = "\n".join([
        "evt-orders-order_placed--catalog.on_order_placed\tclassic\t0\t0",
        "evt-orders-order_placed--catalog.on_order_placed.retry\tclassic\t3\t0",
        "rpc-orders\tclassic\t0\t1",
        "lifecircle.dead-letters\tquorum\t0\t0",
        "someone-elses-queue\tclassic\t0\t0",
    ])
    assert classic_queues_to_drop(listing) == (
        ["evt-orders-order_placed--catalog.on_order_placed"],
        ["evt-orders-order_placed--catalog.on_order_placed.retry", "rpc-orders"])
