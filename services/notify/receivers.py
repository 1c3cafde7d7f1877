"""Webhook sends, kept apart from everyone else's messages.

A webhook receiver is someone else's server: it may be slow or down. So webhook sends run on
their own green-thread pool, in the background of the notify timer (a tick never waits for
them, so SMS and e-mail — which have their own pool — and the inboxes are never delayed), and
per receiver (a registered webhook) there are

- at most ``per_receiver`` sends in flight: one slow receiver holds that many green threads,
  never the pool;
- a circuit breaker: after ``breaker_failures`` failures in a row its deliveries wait
  ``breaker_s`` seconds, untried (their attempts are not spent); then one more try decides.

Deliveries the gate turns away stay pending and are postponed a little (``postpone_s``), so a
receiver with a long queue cannot fill every batch the timer reads. State is in memory, per
notify process — there is one (docs/notifications.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import eventlet

from services.common.config import setting


@dataclass
class ReceiverGate:
    """In-flight counts and breaker state per receiver (pure bookkeeping, no I/O)."""

    per_receiver: int
    breaker_failures: int
    breaker_s: float
    monotonic: Callable[[], float] = time.monotonic
    in_flight: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    open_until: dict[str, float] = field(default_factory=dict)

    def refusal(self, receiver: str) -> str | None:
        """Why a send to ``receiver`` may not start now ("open", "busy"), or None."""
        if self.open_until.get(receiver, 0.0) > self.monotonic():
            return "open"
        limit = 1 if self.failures.get(receiver, 0) >= self.breaker_failures else \
            self.per_receiver  # half open: one try decides
        if self.in_flight.get(receiver, 0) >= limit:
            return "busy"
        return None

    def started(self, receiver: str) -> None:
        self.in_flight[receiver] = self.in_flight.get(receiver, 0) + 1

    def finished(self, receiver: str, ok: bool) -> None:
        self.in_flight[receiver] = self.in_flight.get(receiver, 1) - 1
        if not self.in_flight[receiver]:
            del self.in_flight[receiver]
        if ok:
            self.failures.pop(receiver, None)
            self.open_until.pop(receiver, None)
            return
        self.failures[receiver] = self.failures.get(receiver, 0) + 1
        if self.failures[receiver] >= self.breaker_failures:
            self.open_until[receiver] = self.monotonic() + self.breaker_s

    def wait_s(self, receiver: str) -> float:
        """How long a refused delivery should step aside."""
        return max(0.0, self.open_until.get(receiver, 0.0) - self.monotonic())


class WebhookLane:
    """The webhook sender of one notify process: its own pool, gated per receiver."""

    def __init__(self, concurrency: int, gate: ReceiverGate, postpone_s: float):
        self.pool = eventlet.GreenPool(concurrency)
        self.gate = gate
        self.postpone_s = postpone_s
        self._sending: set[str] = set()  # delivery ids with a send under way

    @classmethod
    def from_config(cls, config: dict | None) -> WebhookLane:
        gate = ReceiverGate(setting(config, "NOTIFY_WEBHOOK_PER_RECEIVER"),
                            setting(config, "NOTIFY_WEBHOOK_BREAKER_FAILURES"),
                            setting(config, "NOTIFY_WEBHOOK_BREAKER_SECONDS"))
        return cls(setting(config, "NOTIFY_WEBHOOK_CONCURRENCY"), gate, 1.0)

    def start(self, delivery: dict[str, Any], send: Callable[[], bool | None]
              ) -> float | None:
        """Send ``delivery`` in the background if its receiver and the pool allow; else how
        many seconds it should step aside. ``send`` returns None when another sender had
        claimed it, else whether it arrived."""
        if delivery["_id"] in self._sending:
            return None  # already on its way (a tick while it is being sent)
        receiver = delivery["to"]["webhook_id"]
        why = self.gate.refusal(receiver)
        if why is None and self.pool.free() == 0:
            why = "busy"
        if why is not None:
            return max(self.postpone_s, self.gate.wait_s(receiver)) if why == "open" \
                else self.postpone_s
        self.gate.started(receiver)
        self._sending.add(delivery["_id"])

        def run() -> None:
            ok = False
            try:
                outcome = send()
                ok = outcome is not False  # not claimed says nothing about the receiver
            finally:
                self._sending.discard(delivery["_id"])
                self.gate.finished(receiver, ok)

        self.pool.spawn_n(run)
        return None

    def wait_idle(self, timeout: float | None = None) -> None:
        """Tests and shutdown: until every send under way has finished."""
        with eventlet.Timeout(timeout, False):
            self.pool.waitall()
