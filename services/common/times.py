"""Time helpers every service shares: one notion of 'aware UTC' and one wire format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def as_utc(dt: datetime) -> datetime:
    """Aware UTC, so naive datetimes (as pymongo returns them) and aware ones compare safely."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def iso(value: Any) -> Any:
    """A datetime as ISO 8601 in UTC; anything else unchanged (views pass optional fields)."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return value
