"""Windowed publisher confirms on real RabbitMQ: many workers' events share confirm round
trips, every one arrives, and a publish the broker refuses fails loudly, not silently."""

from __future__ import annotations

import json
import uuid

import eventlet
import pytest
from kombu import Connection, Exchange, Queue

from services.common.publisher import BatchPublisher, PublishFailed


class CountingPublisher(BatchPublisher):
    batches = 0

    def _send(self, envelopes):
        self.batches += 1
        super()._send(envelopes)


def envelope(n: int) -> dict:
    return {"id": f"evt_{n}", "type": "thing_happened", "data": {"n": n, "名": "菜"}}


def test_events_from_many_workers_all_arrive_and_share_confirm_windows(amqp_uri):
    exchange = f"test-{uuid.uuid4().hex[:8]}.events"
    queue = Queue(f"{exchange}.all", Exchange(exchange, type="topic", durable=True),
                  routing_key="#", auto_delete=True)
    with Connection(amqp_uri) as conn:
        queue(conn.default_channel).declare()
        publisher = CountingPublisher(amqp_uri, lambda e: (exchange, e["type"]))
        publisher.start()
        try:
            workers = [eventlet.spawn(publisher.publish_many,
                                      [envelope(4 * w + k) for k in range(4)])
                       for w in range(50)]
            for worker in workers:
                worker.wait()  # each returns only once the broker confirmed its events
        finally:
            publisher.stop()
        received = []
        with conn.SimpleQueue(queue) as simple:
            while len(received) < 200:
                message = simple.get(timeout=10)
                received.append(json.loads(message.body))
                message.ack()
    assert sorted(e["data"]["n"] for e in received) == list(range(200))
    assert received[0]["data"]["名"] == "菜"
    assert publisher.batches < 50  # confirm round trips shared, not one per worker


def test_a_publish_the_broker_refuses_raises_and_the_next_one_works(amqp_uri):
    taken = f"test-{uuid.uuid4().hex[:8]}.fanout"
    with Connection(amqp_uri) as conn:
        # The same name as another kind of exchange: the broker closes the channel.
        Exchange(taken, type="fanout", auto_delete=True)(conn.default_channel).declare()
        good = f"test-{uuid.uuid4().hex[:8]}.events"
        publisher = BatchPublisher(amqp_uri, lambda e: (e["to"], e["type"]))
        publisher.start()
        try:
            with pytest.raises(PublishFailed):
                publisher.publish_many([{**envelope(1), "to": taken}])
            publisher.publish_many([{**envelope(2), "to": good}])
        finally:
            publisher.stop()
