"""Publishing and consuming events reliably.

Publishing: ``EventPublisher`` is nameko's EventDispatcher taking a whole envelope (events are
published from outboxes, see outbox.py).

Consuming: nameko acks a message whose handler raised, which would silently drop it (or, with
``requeue_on_error``, loop forever). ``event_handler`` below instead:
- acks on success;
- on a contract violation (``InvalidEvent``) sends the message straight to the dead letters;
- on any other error re-queues it through a per-queue retry queue with exponential back-off,
  up to EVENT_MAX_ATTEMPTS tries, then sends it to the dead letters with the reason.
The original is acked only once the retry or dead letter has been confirmed by the broker.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from amqp.exceptions import AMQPError
from kombu import Exchange, Queue
from kombu.exceptions import KombuError
from nameko.amqp.publish import Publisher
from nameko.events import EventDispatcher, EventHandler
from nameko.messaging import QueueConsumer
from nameko.rpc import RpcConsumer

from services.common.config import setting
from services.common.events import InvalidEvent
from services.common.times import iso

ATTEMPTS_HEADER = "x-lifecircle-attempts"
DEAD_LETTER_EXCHANGE = Exchange("lifecircle.dead-letters", type="fanout", durable=True)
DEAD_LETTER_QUEUE = Queue(
    "lifecircle.dead-letters", exchange=DEAD_LETTER_EXCHANGE, routing_key="#", durable=True
)
MAX_RETRY_DELAY_MS = 60_000


def retry_queue_for(queue_name: str) -> Queue:
    """A holding queue whose expired messages go back to the consumer's queue."""
    return Queue(
        f"{queue_name}.retry",
        exchange=Exchange(""),
        routing_key=f"{queue_name}.retry",
        durable=True,
        queue_arguments={
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": queue_name,
        },
    )


def retry_delay_ms(attempt: int, base_ms: int) -> int:
    """Exponential back-off: base, 2×base, 4×base, … capped at a minute."""
    return min(base_ms * 2 ** max(attempt - 1, 0), MAX_RETRY_DELAY_MS)


class EventPublisher(EventDispatcher):
    """``self.publish(envelope)`` sends an envelope as an event of this service."""

    def get_dependency(self, worker_ctx: Any) -> Any:
        dispatch = super().get_dependency(worker_ctx)

        def publish(envelope: dict[str, Any]) -> None:
            dispatch(envelope["type"], envelope)

        return publish


class ReliableEventHandler(EventHandler):
    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.max_attempts = setting(config, "EVENT_MAX_ATTEMPTS")
        self.retry_base_ms = setting(config, "EVENT_RETRY_BASE_MS")
        self.retry_queue = retry_queue_for(self.queue.name)
        self.publisher = Publisher(
            setting(config, "AMQP_URI"), use_confirms=True, serializer="json"
        )

    def start(self) -> None:
        # Declared at every start-up: a broker that lost them gets them back.
        from kombu import Connection

        with Connection(self.publisher.amqp_uri) as conn:
            channel = conn.default_channel
            self.retry_queue(channel).declare()
            DEAD_LETTER_EXCHANGE(channel).declare()
            DEAD_LETTER_QUEUE(channel).declare()
        super().start()

    def handle_message_processed(self, message: Any, result: Any = None, exc_info: Any = None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        error = exc_info[1]
        headers = dict(message.headers or {})
        attempts = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
        headers[ATTEMPTS_HEADER] = attempts
        try:
            if isinstance(error, InvalidEvent) or attempts >= self.max_attempts:
                self._dead_letter(message, headers, error, attempts)
            else:
                self.publisher.publish(
                    message.payload,
                    exchange=None,
                    routing_key=self.retry_queue.name,
                    headers=headers,
                    expiration=retry_delay_ms(attempts, self.retry_base_ms) / 1000,
                    declare=[self.retry_queue],
                )
        except Exception:
            # The broker did not take the retry: keep the original rather than lose it.
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)

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
            declare=[DEAD_LETTER_QUEUE],
        )


event_handler = ReliableEventHandler.decorator


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


QueueConsumer.ack_message = _tolerant(QueueConsumer.ack_message)
QueueConsumer.requeue_message = _tolerant(QueueConsumer.requeue_message)
_send_rpc_reply = RpcConsumer.handle_result
RpcConsumer.handle_result = _reply_or_requeue
