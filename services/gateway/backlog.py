"""Shedding orders by the saga's real backlog, measured at the edge.

Each gateway worker remembers when it accepted each order (202) and forgets it when the
orders service announces the answer (order_confirmed, order_rejected, order_cancelled). That is
how far behind the saga really is, whatever the cause (catalog slow, queue deep, a service
down), in two figures: the age of the oldest order still unanswered, and the wait a new order
would have (unanswered orders x the recent time between answers while busy). While either
exceeds
GATEWAY_ORDER_BACKLOG_SECONDS, new orders get 503 ``overloaded`` with Retry-After at once, so
an accepted order is answered within a few seconds instead of minutes later.

No polling: answers arrive as events on the worker's own subscription. While that
subscription is down nothing is shed on its account (stale knowledge would refuse orders for
no reason); on reconnect the worker forgets what it can no longer see answered.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from services.gateway.errors import ApiError

ANSWERS = ("order_confirmed", "order_rejected", "order_cancelled")
PACE_WEIGHT = 0.1  # of the newest sample in the moving average of time per answer


class Backlog:
    def __init__(self, max_age_seconds: float, forget_after: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.max_age = max_age_seconds
        self.forget_after = forget_after  # an answer we never saw does not shed forever
        self.clock = clock
        self.listening = False
        self._waiting: dict[str, float] = {}  # order id -> accepted at, oldest first
        self._answered: dict[str, float] = {}  # answers that overtook the 202, briefly
        self._last_answer = 0.0
        self._per_answer = 0.0  # moving average: seconds per answer while busy
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_age > 0

    def accepted(self, order_id: str) -> None:
        now = self.clock()
        with self._lock:
            if self._answered.pop(order_id, None) is None:
                self._waiting[order_id] = now

    def answered(self, order_id: str) -> None:
        now = self.clock()
        with self._lock:
            accepted_at = self._waiting.pop(order_id, None)
            if accepted_at is None:
                # Another worker's order, or an answer that overtook our 202.
                self._answered[order_id] = now
                self._drop_older(self._answered, now - 10.0)
                return
            # The pace at which OUR orders are answered, counting only busy time: idle gaps
            # between orders would make a quiet shop look slow.
            sample = now - max(self._last_answer, accepted_at)
            self._last_answer = now
            weight = PACE_WEIGHT if self._per_answer else 1.0  # the first sample as is
            self._per_answer += weight * (sample - self._per_answer)

    def oldest_age(self) -> float:
        """Seconds the oldest unanswered order accepted here has waited (0: none)."""
        now = self.clock()
        with self._lock:
            self._drop_older(self._waiting, now - self.forget_after)
            oldest = next(iter(self._waiting.values()), None)
        return 0.0 if oldest is None else now - oldest

    def expected_wait(self) -> float:
        """Seconds a new order would wait at the recent pace."""
        with self._lock:
            return len(self._waiting) * self._per_answer

    def check(self) -> None:
        """Raise 503 overloaded if orders accepted here wait, or would wait, too long."""
        if not (self.enabled and self.listening):
            return
        age = max(self.oldest_age(), self.expected_wait())
        if age > self.max_age:
            raise ApiError(503, "overloaded", "orders are arriving faster than shops can "
                           "confirm them; please retry shortly",
                           {"backlog_seconds": [round(age, 1)]},
                           headers={"Retry-After": str(max(1, math.ceil(age - self.max_age)))})

    def forget(self) -> None:
        with self._lock:
            self._waiting.clear()
            self._answered.clear()

    def set_listening(self, listening: bool) -> None:
        self.forget()  # what happened while we were not listening is unknown
        self.listening = listening

    @staticmethod
    def _drop_older(items: dict[str, float], limit: float) -> None:
        while items:
            key = next(iter(items))
            if items[key] > limit:
                return
            del items[key]

