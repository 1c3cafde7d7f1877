"""The timer's in-memory knowledge of when work is next due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notify.schedule import NextDue

SHANGHAI_DAY = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai


def test_the_timer_skips_its_scan_until_something_is_due_and_rescans_after_a_race():
    due = NextDue()
    assert not due.nothing_due(SHANGHAI_DAY)  # unknown at start-up: scan
    version = due.version
    due.settle(version, SHANGHAI_DAY + timedelta(hours=1), complete=True)
    assert due.nothing_due(SHANGHAI_DAY)
    due.note(SHANGHAI_DAY - timedelta(seconds=1))  # a retry became due earlier
    assert not due.nothing_due(SHANGHAI_DAY)
    version = due.version
    due.note(SHANGHAI_DAY + timedelta(hours=5))  # added while a scan was running
    due.settle(version, None, complete=True)
    assert not due.nothing_due(SHANGHAI_DAY)  # unknown again: the next tick scans
