"""Publishing and consuming events reliably.

Publishing: ``EventPublisher`` sends whole envelopes to the service's events exchange with
windowed publisher confirms (publisher.py); events are published from outboxes (outbox.py).

Consuming: nameko acks a message whose handler raised, which would silently drop it (or, with
``requeue_on_error``, loop forever). ``event_handler`` below instead:
- acks on success;
- on a contract violation (``InvalidEvent``) sends the message straight to the dead letters;
- on any other error re-queues it through a per-queue retry queue with exponential back-off,
  up to EVENT_MAX_ATTEMPTS tries, then sends it to the dead letters with the reason;
- on ``Deferred`` (the handler could not start yet: another replica is handling the same
  order) re-queues it the same way, counted apart (MAX_DEFERRALS), so waiting for another
  replica never uses up the tries meant for failures.
The original is acked only once the retry or dead letter has been confirmed by the broker.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from amqp.exceptions import AMQPError
from kombu import Exchange, Queue
from kombu.exceptions import KombuError
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.rpc import RpcConsumer

from services.common import metrics, queues
from services.common.config import setting
from services.common.events import InvalidEvent
from services.common.publisher import BatchPublisher
from services.common.times import iso

ATTEMPTS_HEADER = "x-lifecircle-attempts"
DEFERRALS_HEADER = "x-lifecircle-deferrals"
# Deferral delays follow the retry back-off (0.5 s, 1 s, … capped at a minute): ten of them
# wait about four minutes, far past any lease a live replica would not renew; then a dead
# letter, so a stuck holder cannot make a message circle for ever.
MAX_DEFERRALS = 10
DEAD_LETTER_EXCHANGE = Exchange("lifecircle.dead-letters", type="fanout", durable=True)
DEAD_LETTER_QUEUE_NAME = "lifecircle.dead-letters"
MAX_RETRY_DELAY_MS = 60_000


class Deferred(Exception):  # noqa: N818 (a signal, not a failure)
    """Raised by a handler that cannot start yet (services/common/leases.py): the message is
    handled again later, without counting as a failed attempt."""


def dead_letter_queue(config: dict | None) -> Queue:
    """The one queue of dead letters (a quorum queue unless AMQP_QUORUM_QUEUES is off)."""
    return Queue(DEAD_LETTER_QUEUE_NAME, exchange=DEAD_LETTER_EXCHANGE, routing_key="#",
                 durable=True, queue_arguments=queues.durable_arguments(config))


def retry_queue_for(queue_name: str, config: dict | None = None) -> Queue:
    """A holding queue whose expired messages go back to the consumer's queue."""
    return Queue(
        f"{queue_name}.retry",
        exchange=Exchange(""),
        routing_key=f"{queue_name}.retry",
        durable=True,
        queue_arguments={
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": queue_name,
            **queues.durable_arguments(config, dead_lettering=True),
        },
    )


def retry_delay_ms(attempt: int, base_ms: int) -> int:
    """Exponential back-off: base, 2×base, 4×base, … capped at a minute."""
    return min(base_ms * 2 ** max(attempt - 1, 0), MAX_RETRY_DELAY_MS)


class Publish:
    """What a worker gets: ``publish(envelope)``, ``publish.many(envelopes)``; each returns
    once the broker has confirmed."""

    def __init__(self, publisher: BatchPublisher):
        self._publisher = publisher

    def __call__(self, envelope: dict[str, Any]) -> None:
        self._publisher.publish_many([envelope])

    def many(self, envelopes: list[dict[str, Any]]) -> None:
        self._publisher.publish_many(envelopes)


class EventPublisher(DependencyProvider):
    """Events of this service to its ``<service>.events`` exchange, routed by type, with
    windowed publisher confirms shared by every worker of the process (publisher.py)."""

    def setup(self) -> None:
        exchange = f"{self.container.service_name}.events"
        self.publisher = BatchPublisher(setting(self.container.config, "AMQP_URI"),
                                        lambda envelope: (exchange, envelope["type"]))

    def start(self) -> None:
        self.publisher.start(spawn=self.container.spawn_managed_thread)

    def stop(self) -> None:
        self.publisher.stop()

    def kill(self) -> None:
        self.publisher.close()

    def get_dependency(self, worker_ctx: Any) -> Publish:
        return Publish(self.publisher)


class ReliableEventHandler(EventHandler):
    def __init__(self, *args: Any, expected_exceptions: Any = (), **kwargs: Any) -> None:
        # A deferral is expected: nameko logs it as a warning, not as a worker error.
        if not isinstance(expected_exceptions, tuple):
            expected_exceptions = (expected_exceptions,)
        super().__init__(*args, expected_exceptions=(*expected_exceptions, Deferred), **kwargs)

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.queue = queues.as_durable(self.queue, config)
        self.max_attempts = setting(config, "EVENT_MAX_ATTEMPTS")
        self.retry_base_ms = setting(config, "EVENT_RETRY_BASE_MS")
        self.retry_queue = retry_queue_for(self.queue.name, config)
        self.dead_letter_queue = dead_letter_queue(config)
        self.publisher = Publisher(
            setting(config, "AMQP_URI"), use_confirms=True, serializer="json"
        )
        # Declared at every start-up: a broker that lost them gets them back. Here in setup,
        # before any consumer starts: a queue left with another type (classic vs quorum) must
        # stop the start with a clear error, not leave a consumer retrying it for ever.
        queues.declare(self.publisher.amqp_uri, self.queue, self.retry_queue,
                       DEAD_LETTER_EXCHANGE, self.dead_letter_queue)

    def handle_message_processed(self, message: Any, result: Any = None, exc_info: Any = None):
        service, event_type = self.container.service_name, self.event_type
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            metrics.EVENTS.labels(service, event_type, "handled").inc()
            return
        error = exc_info[1]
        headers = dict(message.headers or {})
        attempts = int(headers.get(ATTEMPTS_HEADER, 0))
        deferred = isinstance(error, Deferred)
        if deferred:
            tries = headers[DEFERRALS_HEADER] = int(headers.get(DEFERRALS_HEADER, 0)) + 1
            give_up = tries > MAX_DEFERRALS
        else:
            tries = headers[ATTEMPTS_HEADER] = attempts = attempts + 1
            give_up = isinstance(error, InvalidEvent) or attempts >= self.max_attempts
        try:
            if give_up:
                self._dead_letter(message, headers, error, attempts)
                outcome = "dead_lettered"
            else:
                outcome = "deferred" if deferred else "retried"
                self.publisher.publish(
                    message.payload,
                    exchange=None,
                    routing_key=self.retry_queue.name,
                    headers=headers,
                    expiration=retry_delay_ms(tries, self.retry_base_ms) / 1000,
                    declare=[self.retry_queue],
                )
        except Exception:
            # The broker did not take the retry: keep the original rather than lose it.
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)
        metrics.EVENTS.labels(service, event_type, outcome).inc()

    def _dead_letter(self, message: Any, headers: dict, error: BaseException, attempts: int):
        headers.update(
            {
                "x-original-queue": self.queue.name,
                "x-service": self.container.service_name,
                "x-error": f"{type(error).__name__}: {error}"[:2000],
                "x-attempts": attempts,
                "x-dead-at": iso(datetime.now(UTC)),
            }
        )
        self.publisher.publish(
            message.payload,
            exchange=DEAD_LETTER_EXCHANGE,
            routing_key=self.queue.name,
            headers=headers,
            declare=[self.dead_letter_queue],
        )


event_handler = ReliableEventHandler.decorator


class ReplyPublisher(Publisher):
    """RPC replies without a publisher confirm. A reply goes to the caller's own non-durable
    reply queue, so a confirm protects nothing a caller relies on: a reply that never
    arrives ends in the caller's timeout, and our commands are safe to repeat (idempotency
    keys, guarded moves). It did cost a broker round trip per call."""

    use_confirms = False


nameko_rpc.Responder.publisher_cls = ReplyPublisher


# Surviving a broker restart. nameko 2.14 kills the whole container (and `nameko run` then
# exits) when an ack, a requeue or an RPC reply fails on a connection the broker has closed:
# it catches amqp's ConnectionError, not the socket and kombu errors a restart raises. The
# broker redelivers every unacked message once the consumer has reconnected (which nameko
# does by itself), and handlers and commands are idempotent, so the right answer is to drop
# the ack or reply and carry on. Found by tests/faults/test_broker_restart.py.
TRANSPORT_ERRORS = (OSError, AMQPError, KombuError)


def _tolerant(method: Any) -> Any:
    @functools.wraps(method)
    def call(self: Any, message: Any) -> None:
        try:
            method(self, message)
        except TRANSPORT_ERRORS:
            pass  # the connection is gone; the broker gives the message out again

    return call


def _reply_or_requeue(self: Any, message: Any, result: Any, exc_info: Any) -> Any:
    try:
        return _send_rpc_reply(self, message, result, exc_info)
    except TRANSPORT_ERRORS:
        # No reply: the caller times out and retries. The request runs again later.
        self.queue_consumer.requeue_message(message)
        return result, exc_info


# Quorum queues and a prefetch for nameko's own consumers (RPC request queues; event handler
# queues are made durable in ReliableEventHandler.setup). Reply queues stay classic: exclusive.
def _durable_rpc_queue_setup(self: Any) -> None:
    _rpc_consumer_setup(self)
    config = self.container.config
    self.queue = queues.as_durable(self.queue, config)
    queues.declare(config[AMQP_URI_CONFIG_KEY], self.queue)  # a clash fails here, clearly


_rpc_consumer_setup = RpcConsumer.setup
RpcConsumer.setup = _durable_rpc_queue_setup
QueueConsumer.prefetch_count = property(
    lambda self: queues.prefetch(self.container.config, self.container.max_workers))
QueueConsumer.ack_message = _tolerant(QueueConsumer.ack_message)
QueueConsumer.requeue_message = _tolerant(QueueConsumer.requeue_message)
_send_rpc_reply = RpcConsumer.handle_result
RpcConsumer.handle_result = _reply_or_requeue
