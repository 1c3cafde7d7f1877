"""One worker at a time per key (an order id) inside a process.

The in-process half of services/common/leases.py: a replica's workers on one key queue here,
then take the lease that keeps other replicas out. Locks exist only while someone holds or
waits for them, so memory follows concurrency, not traffic. Under nameko (eventlet
monkey-patched) ``threading.Lock`` is a green lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class KeyedLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, list[Any]] = {}  # key -> [lock, holders and waiters]

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
