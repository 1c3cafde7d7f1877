"""How Lifecircle's durable queues are declared: quorum queues for a RabbitMQ cluster.

A quorum queue is replicated on a majority of the cluster's nodes (Raft), so losing a node loses
no message and the queue stays available. Every durable queue that outlives its consumer is one:
event handler queues, their retry queues, the dead letters and the services' RPC request
queues. Exclusive or auto-delete queues (RPC reply queues, broadcast handlers) cannot be quorum
queues and stay classic; they die with their consumer anyway.

``AMQP_QUORUM_QUEUES=0`` keeps classic queues, for a broker older than 3.8.
"""

from __future__ import annotations

from typing import Any

from amqp.exceptions import PreconditionFailed
from kombu import Connection, Queue

from services.common.config import setting

QUORUM = {"x-queue-type": "quorum"}
# A retry queue dead-letters expired messages back to the consumer's queue. By default a quorum
# queue dead-letters at most once; at-least-once needs reject-publish overflow (RabbitMQ 3.10+).
AT_LEAST_ONCE_DEAD_LETTERING = {
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}


class QueueTypeClash(RuntimeError):
    """A queue of the same name exists on the broker with other arguments (e.g. classic)."""


def quorum_enabled(config: dict | None) -> bool:
    return bool(setting(config, "AMQP_QUORUM_QUEUES"))


def durable_arguments(config: dict | None, dead_lettering: bool = False) -> dict[str, Any]:
    """The queue arguments for a durable, shared queue under this configuration."""
    if not quorum_enabled(config):
        return {}
    return {**QUORUM, **(AT_LEAST_ONCE_DEAD_LETTERING if dead_lettering else {})}


def as_durable(queue: Queue, config: dict | None) -> Queue:
    """``queue`` declared as a quorum queue, when it may be one (durable and shared)."""
    if not queue.durable or queue.exclusive or queue.auto_delete:
        return queue
    arguments = {**(queue.queue_arguments or {}), **durable_arguments(config)}
    return Queue(queue.name, exchange=queue.exchange, routing_key=queue.routing_key,
                 durable=True, queue_arguments=arguments)


def declare(amqp_uri: str, *entities: Any) -> None:
    """Declare exchanges and queues now, turning a clash with an existing queue of another type
    into an error that says what to do (docs/operations.md, "Quorum queues")."""
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        for entity in entities:
            try:
                entity(channel).declare()
            except PreconditionFailed as exc:
                raise QueueTypeClash(
                    f"{getattr(entity, 'name', entity)!r} exists on the broker with other "
                    f"arguments ({exc}). A queue's type cannot change: stop the services, let it "
                    f"drain and delete it (python -m services.common.broker "
                    f"drop-classic-queues), or set AMQP_QUORUM_QUEUES to match it."
                ) from None
        channel.close()


def prefetch(config: dict | None, max_workers: int) -> int:
    """Unacknowledged messages a consumer may hold: the setting, else one per worker."""
    return setting(config, "AMQP_PREFETCH") or max_workers
