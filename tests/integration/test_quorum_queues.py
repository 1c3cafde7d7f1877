"""Queues for a RabbitMQ cluster, on the real broker: event, retry, dead-letter and RPC request
queues are quorum queues, RPC replies still work (classic, exclusive), consumers take a bounded
prefetch, and a queue of the old type on the broker stops a start with a clear error."""

from __future__ import annotations

import os
import shutil
import subprocess
from urllib.parse import urlparse

import eventlet
import pytest
from amqp.exceptions import PreconditionFailed
from kombu import Connection, Queue
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from services.common.broker import temporary_vhost
from services.common.config import setting
from services.common.messaging import DEAD_LETTER_QUEUE_NAME, event_handler
from services.common.queues import QueueTypeClash


class QuorumProbe:
    name = "quorum_probe"

    @event_handler("orders", "order_placed")
    def handle(self, payload):
        return payload

    @rpc
    def ping(self):
        return "pong"


class ClashProbe(QuorumProbe):  # the same entrypoints, on queues of its own
    name = "clash_probe"


def is_quorum(amqp_uri: str, name: str) -> bool:
    """RabbitMQ refuses to redeclare a quorum queue as a classic one (and vice versa)."""
    with Connection(amqp_uri) as conn:
        try:
            Queue(name, durable=True, queue_arguments={"x-queue-type": "classic"})(
                conn.channel()).declare()
        except PreconditionFailed:
            return True
    return False


def test_event_retry_dead_letter_and_rpc_request_queues_are_quorum_queues(
        container_factory, service_config):
    container = container_factory(QuorumProbe, service_config)
    container.start()
    uri = service_config["AMQP_URI"]
    event_queue = "evt-orders-order_placed--quorum_probe.handle"
    for name in (event_queue, f"{event_queue}.retry", DEAD_LETTER_QUEUE_NAME,
                 "rpc-quorum_probe"):
        assert is_quorum(uri, name), f"{name} is not a quorum queue"
    # The caller's reply queue is exclusive, hence classic: RPC still answers.
    with ServiceRpcProxy("quorum_probe", service_config) as probe:
        assert probe.ping() == "pong"


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None,
                    reason="needs its own vhost (rabbitmqctl): the session's holds quorum queues")
def test_with_quorum_queues_off_the_queues_are_classic(container_factory, service_config):
    with temporary_vhost(setting(None, "AMQP_URI"), f"lifecircle-classic-{os.getpid()}") as uri:
        config = {**service_config, "AMQP_URI": uri, "AMQP_QUORUM_QUEUES": "0"}
        container = container_factory(QuorumProbe, config)
        container.start()
        for name in ("evt-orders-order_placed--quorum_probe.handle", DEAD_LETTER_QUEUE_NAME):
            assert not is_quorum(uri, name), f"{name} is a quorum queue"
        container.stop()


@pytest.mark.parametrize("queue", ["evt-orders-order_placed--clash_probe.handle",
                                   "rpc-clash_probe"])
def test_a_queue_of_the_old_type_on_the_broker_stops_the_start_with_a_clear_error(
        container_factory, service_config, queue):
    uri = service_config["AMQP_URI"]
    names = ("evt-orders-order_placed--clash_probe.handle", "rpc-clash_probe")
    with Connection(uri) as conn:  # what an older release left on a developer's broker
        for name in names:
            conn.channel().queue_delete(name)
        Queue(queue, durable=True)(conn.channel()).declare()
    container = container_factory(ClashProbe, service_config)
    # Failing in setup, before any consumer starts, whatever order extensions start in.
    with eventlet.Timeout(30), pytest.raises(QueueTypeClash, match="drop-classic-queues"):
        container.start()


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs this machine's rabbitmqctl")
def test_consumers_take_the_configured_prefetch(container_factory, service_config):
    container = container_factory(QuorumProbe, {**service_config, "AMQP_PREFETCH": 7})
    container.start()
    vhost = urlparse(service_config["AMQP_URI"]).path.lstrip("/") or "/"
    listed = subprocess.run(["rabbitmqctl", "list_consumers", "-q", "-p", vhost,
                             "queue_name", "prefetch_count"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    prefetch = dict(line.split("\t") for line in listed.splitlines() if "\t" in line)
    assert prefetch["evt-orders-order_placed--quorum_probe.handle"] == "7"
    assert prefetch["rpc-quorum_probe"] == "7"

# Events are published with broker confirms: tests/integration/common/test_publisher.py.
