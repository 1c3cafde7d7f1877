"""Time as a dependency, so tests can move it without waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from nameko.extensions import DependencyProvider


class Clock:
    """The real clock; ``offset`` lets a test (or an operator drill) move time forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class ClockProvider(DependencyProvider):
    def setup(self) -> None:
        self.clock = Clock()

    def get_dependency(self, worker_ctx: Any) -> Clock:
        return self.clock
