"""One worker at a time per key (an order id, a device post) across every replica of a
service: a lease document per key, in a collection of the service's own database.

- Taking it is one guarded write: an upsert of ``{_id: key}`` whose filter matches only an
  expired lease or this replica's own. While another replica holds a live one, the upsert's
  insert meets the existing ``_id`` and fails (DuplicateKeyError): not taken. The same on
  MongoDB and on the embedded store; no transactions.
- The holder is one id per service container (host, pid, random). "Mine" lets a replica take
  back at once a lease it failed to hand back; so the lease does not keep a replica's own
  workers apart: they queue first on an in-process lock per key (``KeyedLocks``), which also
  spares the store their polling.
- A worker that finds the lease held polls (10 ms doubling to 100 ms) until its wait runs out,
  then raises ``LeaseBusy``: an event comes back later (``messaging.Deferred``, not counted as
  a failed attempt), a command answers "in progress".
- Held for more than a third of its length, the lease is renewed (a greenlet; guarded by the
  holder), so a live holder keeps it however long the work takes, and it lapses only when the
  holder is dead or frozen for a whole lease. A holder that found at a renewal that it had
  lost it raises ``LeaseLost`` when its work ends: an ordinary failure, so the event is
  handled again, under a lease, and finishes whatever the overlap left (the protocols repair
  half-done work on redelivery).
- Handed back by deleting the document (guarded by the holder): the collection holds the
  leases in use and those of killed holders, nothing per order handled.

Times are the real clock, not a service's test-movable business clock: replicas' clocks must
agree to well within a lease (NTP).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider
from pymongo.errors import DuplicateKeyError

from services.common.config import setting
from services.common.keyed_locks import KeyedLocks
from services.common.messaging import Deferred

FIRST_POLL = 0.01
LAST_POLL = 0.1


class LeaseBusy(Deferred):
    """Another replica held the lease for the whole wait."""


class LeaseLost(RuntimeError):
    """The lease lapsed while held (the holder froze longer than a lease)."""


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Held:
    """What ``hold`` yields: ``lost`` turns true if a renewal found the lease gone."""

    def __init__(self) -> None:
        self.done = False
        self.lost = False


class Leases:
    def __init__(self, collection: Any, holder: str, seconds: float, wait_seconds: float,
                 now: Callable[[], datetime] = _utcnow) -> None:
        self.collection = collection
        self.holder = holder
        self.length = timedelta(seconds=seconds)
        self.wait_seconds = wait_seconds
        self.now = now
        self.locks = KeyedLocks()

    @contextmanager
    def hold(self, key: str) -> Iterator[Held]:
        """Run the block as the only holder of ``key`` among all replicas."""
        with self.locks.hold(key):
            self._acquire(key)
            held = Held()
            renewer = eventlet.spawn_after(self.length.total_seconds() / 3, self._renew,
                                           key, held)
            try:
                yield held
            finally:
                held.done = True
                renewer.cancel()  # if it has not started; a running one sees "done"
                self.release(key)
            if held.lost:
                raise LeaseLost(f"the lease on {key} lapsed while it was held")

    def take(self, key: str) -> bool:
        """One guarded write: the lease is now ours (free, lapsed, or ours already)."""
        now = self.now()
        try:
            # update_one, not find_one_and_update: the embedded engine reads the document
            # three times for the latter, and nothing of it is needed.
            self.collection.update_one(
                {"_id": key, "$or": [{"until": {"$lte": now}}, {"holder": self.holder}]},
                {"$set": {"holder": self.holder, "until": now + self.length}}, upsert=True)
        except DuplicateKeyError:
            return False  # another replica's live lease
        return True

    def release(self, key: str) -> None:
        self.collection.delete_one({"_id": key, "holder": self.holder})

    def _acquire(self, key: str) -> None:
        deadline = time.monotonic() + self.wait_seconds
        pause = FIRST_POLL
        while not self.take(key):
            left = deadline - time.monotonic()
            if left <= 0:
                raise LeaseBusy(f"{key} is being handled by another replica")
            eventlet.sleep(min(pause, left))
            pause = min(pause * 2, LAST_POLL)

    def _renew(self, key: str, held: Held) -> None:
        every = self.length.total_seconds() / 3
        while not held.done:
            renewed = self.collection.update_one({"_id": key, "holder": self.holder},
                                                 {"$set": {"until": self.now() + self.length}})
            if renewed.matched_count == 0 and not held.done:
                held.lost = True
                return
            eventlet.sleep(every)


class LeasesProvider(DependencyProvider):
    """A service's ``Leases`` over the ``leases`` collection of its store (the service's
    attribute ``store_attr``), one holder id per container; the lease's length and the
    longest wait are the settings named."""

    def __init__(self, seconds_key: str, wait_key: str, store_attr: str = "store") -> None:
        self.keys = (seconds_key, wait_key)
        self.store_attr = store_attr
        self.leases: Leases | None = None

    def start(self) -> None:
        # After every provider's setup: the store is open by now.
        provider = next(d for d in self.container.dependencies
                        if d.attr_name == self.store_attr)
        config = self.container.config
        self.leases = Leases(provider.store.leases, new_holder(),
                             *(setting(config, key) for key in self.keys))

    def get_dependency(self, worker_ctx: Any) -> Leases:
        return self.leases
