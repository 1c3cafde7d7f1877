"""The live-stream cursor: visible notifications are numbered (``seq``) in the order they
became visible.

The numbers come from a counter document in the database (``counters``, one ``$inc`` per
number), so several notify replicas on one MongoDB never hand out the same number. Each
process also remembers the numbers it handed out per inbox: while every number above the
start-up floor was its own (one replica), an idle stream's poll is answered from memory
after one read of the counter, without a query on the notifications.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

COUNTER_ID = "notification_seq"


class Sequencer:
    def __init__(self, counters: Any) -> None:
        self._counters = counters
        self._floor = 0  # every notification with seq <= floor existed at start-up
        self._own_up_to = 0  # every number up to this one is the floor's or this process's
        self._latest: dict[str, int] = {}  # inbox -> highest seq this process numbered

    def start_at(self, top: int) -> None:
        """Continue above ``top`` (the highest stored seq) and whatever another replica
        already handed out; everything up to there is older than this process."""
        self._counters.update_one({"_id": COUNTER_ID}, {"$max": {"value": top}}, upsert=True)
        self._floor = self._own_up_to = self.current()

    def next_for(self, recipient_id: str | None) -> int:
        value = self._counters.find_one_and_update(
            {"_id": COUNTER_ID}, {"$inc": {"value": 1}}, upsert=True,
            return_document=ReturnDocument.AFTER)["value"]
        if value == self._own_up_to + 1:
            self._own_up_to = value
        if recipient_id is not None:
            self._latest[recipient_id] = max(value, self._latest.get(recipient_id, 0))
        return value

    def current(self) -> int:
        doc = self._counters.find_one({"_id": COUNTER_ID})
        return doc["value"] if doc else 0

    def nothing_after(self, recipients: list[str], after: int) -> bool:
        """True when certainly no inbox in ``recipients`` has a notification numbered above
        ``after``; False means "run the query"."""
        top = self.current()
        if top <= after:
            return True
        if top != self._own_up_to:
            return False  # another replica numbered something: only the query knows whose
        # An inbox this process has not numbered since start-up has nothing above the floor.
        return max(self._latest.get(r, self._floor) for r in recipients) <= after
