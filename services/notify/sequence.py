"""The live-stream cursor: visible notifications are numbered (``seq``) in the order they
became visible, and the numbers handed out since start-up are remembered per inbox, so an
idle stream's poll is answered from memory without a query.

One notify process owns the numbering (it must be the only one on the embedded store anyway;
several processes on MongoDB would need a shared counter, see docs/notifications.md).
"""

from __future__ import annotations

import threading


class Sequencer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._floor = 0  # every notification with seq <= floor existed at start-up
        self._latest: dict[str, int] = {}  # inbox -> highest seq made visible since

    def start_at(self, top: int) -> None:
        """Continue above ``top``; everything up to it is older than this process."""
        with self._lock:
            self._last = self._floor = max(self._last, top)

    def next_for(self, recipient_id: str | None) -> int:
        with self._lock:
            self._last += 1
            if recipient_id is not None:
                self._latest[recipient_id] = self._last
            return self._last

    def current(self) -> int:
        return self._last

    def nothing_after(self, recipients: list[str], after: int) -> bool:
        """True when no inbox in ``recipients`` has a notification numbered above ``after``.
        An inbox this process has not numbered since start-up has nothing above the floor."""
        return max(self._latest.get(r, self._floor) for r in recipients) <= after
