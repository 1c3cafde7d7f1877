"""What the once-a-second timer knows in memory about when work is next due, so it skips
queries while nothing is (one notify process owns this state; it is rebuilt at start-up)."""

from __future__ import annotations

from datetime import datetime, timedelta


def earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b < a) else a


class NextDue:
    """The earliest time something (held notifications, pending deliveries) becomes due, so
    the once-a-second timer skips its query while nothing is due — e.g. a night of messages
    held until 07:00. Unknown after start-up or when a scan raced a new entry: then scan."""

    def __init__(self) -> None:
        self.known = False
        self.at: datetime | None = None
        self.version = 0

    def note(self, at: datetime | None) -> None:
        self.version += 1
        if at is not None and self.known and (self.at is None or at < self.at):
            self.at = at

    def nothing_due(self, now: datetime) -> bool:
        return self.known and (self.at is None or self.at > now)

    def settle(self, version: int, at: datetime | None, complete: bool) -> None:
        """After a scan that started at ``version``: remember the earliest later time."""
        self.known = complete and version == self.version
        self.at = at if self.known else None


class Periodic:
    """Work a faster timer does at most once per ``every`` (the expiry sweep: once a minute
    from the once-a-second timer); remembers when it last ran."""

    def __init__(self, every: timedelta) -> None:
        self.every = every
        self.last: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self.last is None or now - self.last >= self.every

    def ran(self, now: datetime) -> None:
        self.last = now
