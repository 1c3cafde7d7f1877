"""A gateway worker listening to a service's events: a daemon thread with a queue of its own
(exclusive, deleted with its connection) bound to the events it wants. Used for things a
worker keeps in memory (readcache.py, backlog.py); neither needs every event forever, so
missed events are not redelivered: ``on_subscribed`` / ``on_unsubscribed`` tell the owner to
forget what it can no longer trust."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from kombu import Connection, Queue, binding
from nameko.standalone.events import get_event_exchange

from services.common.logs import get_logger

log = get_logger()


class EventSubscriber(threading.Thread):
    def __init__(self, amqp_uri: str, service: str, event_types: tuple[str, ...],
                 on_event: Callable[[Any], None],
                 on_subscribed: Callable[[], None] = lambda: None,
                 on_unsubscribed: Callable[[], None] = lambda: None,
                 retry_seconds: float = 1.0):
        super().__init__(name=f"{service}-events", daemon=True)
        self.amqp_uri, self.service, self.event_types = amqp_uri, service, event_types
        self.on_event, self.on_subscribed = on_event, on_subscribed
        self.on_unsubscribed, self.retry_seconds = on_unsubscribed, retry_seconds
        self.subscribed = threading.Event()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        exchange = get_event_exchange(self.service, {})
        while not self._stop.is_set():
            try:
                with Connection(self.amqp_uri, heartbeat=10) as conn:
                    queue = Queue(f"gateway-{self.service}-events-{uuid.uuid4().hex}",
                                  bindings=[binding(exchange, routing_key=t)
                                            for t in self.event_types],
                                  exclusive=True, auto_delete=True, durable=False)
                    with conn.Consumer(queue, callbacks=[self._on_message], accept=["json"],
                                       no_ack=True):
                        self.on_subscribed()
                        self.subscribed.set()
                        while not self._stop.is_set():
                            try:
                                conn.drain_events(timeout=1.0)
                            except TimeoutError:
                                pass
                            # Also when busy: a consumer that never acks sends nothing else,
                            # and the broker closes a connection it has not heard from.
                            conn.heartbeat_check()
            except Exception as exc:  # the broker is gone: try again shortly
                self.subscribed.clear()
                self.on_unsubscribed()
                log.warning("gateway_unsubscribed", service=self.service, error=repr(exc))
                self._stop.wait(self.retry_seconds)

    def _on_message(self, body: Any, _message: Any) -> None:
        try:
            self.on_event(body)
        except Exception as exc:  # one odd event must not end the subscription
            log.warning("gateway_event_failed", service=self.service, error=repr(exc))
