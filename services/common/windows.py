"""Lists that stay flat in stored data: read the newest documents through widening windows
of time (docs/architecture.md, "Flat in stored data").

A document carries coarse buckets of its list time (``<prefix>_hour``, ``_day``, ``_month``,
indexed). A list asks for the last few buckets at a time — the last two hours, two days, a
week, two months, a year — and stops at the first window that holds its page and enough to
tell TOTAL_CAP from more. Each window names a few buckets, so it costs what it holds: both a
MongoDB server and the embedded engine (hash indexes, equality and ``$in`` only) answer it
from the index, never from the whole history. Buckets one step ahead are included, so a
document timed a little in the future (a repair booked for later) is not left out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.common import paging


def hour_of(at: datetime) -> int:
    return int(at.timestamp() // 3600)


def day_of(at: datetime) -> int:
    return int(at.timestamp() // 86400)


def month_of(at: datetime) -> int:
    utc = at.astimezone(UTC)
    return utc.year * 12 + utc.month - 1


def buckets(prefix: str, at: datetime) -> dict[str, int]:
    """The bucket fields a document listed by ``at`` carries."""
    return {f"{prefix}_hour": hour_of(at), f"{prefix}_day": day_of(at),
            f"{prefix}_month": month_of(at)}


def bucket_fields(prefix: str) -> tuple[str, str, str]:
    return f"{prefix}_hour", f"{prefix}_day", f"{prefix}_month"


def add_missing(collection: Any, prefix: str, at_field: str) -> int:
    """Documents stored before their list buckets existed get them from ``at_field`` (a
    one-time data migration: it reads every document without them); how many were found."""
    old = list(collection.find({f"{prefix}_hour": {"$exists": False}}, {at_field: 1}))
    for doc in old:
        if doc.get(at_field) is not None:
            collection.update_one({"_id": doc["_id"]}, {"$set": buckets(prefix, doc[at_field])})
    return len(old)


def windows(prefix: str, now: datetime, owner_wide: bool = False) -> list[dict[str, Any]]:
    """Filters for the windows a list reads, newest first. A list scoped to an owner (whose
    own documents bound it) ends with all of them; any other list ends at 13 months."""
    hour_f, day_f, month_f = bucket_fields(prefix)
    hour, day, month = hour_of(now), day_of(now), month_of(now)
    return [{hour_f: {"$in": [hour - 1, hour, hour + 1]}},
            {day_f: {"$in": [day - 1, day, day + 1]}},
            {day_f: {"$in": list(range(day - 7, day + 2))}},
            {month_f: {"$in": [month - 1, month, month + 1]}},
            {month_f: {"$in": list(range(month - 12, month + 2))}},
            *([{}] if owner_wide else [])]


def newest_page(collection: Any, query: dict[str, Any], prefix: str, sort_field: str,
                skip: int, limit: int, now: datetime,
                owner_wide: bool = False) -> tuple[list[dict], int, bool]:
    """(the page, the total, whether it is capped), newest ``sort_field`` first, from the
    first window that holds enough."""
    want = paging.wanted(skip, limit)
    docs: list[dict] = []
    for window in windows(prefix, now, owner_wide):
        # A limit, as paging.read_capped: a year's window is read no further than ``want``.
        docs = list(collection.find({**query, **window}).sort(sort_field, -1).limit(want))
        if len(docs) >= want:
            break
    return paging.capped(docs, skip, limit)


def matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    """Equality filters (and ``$in``) checked on documents already read by a narrower key:
    a condition on a field with unbounded history (a terminal status) is checked here rather
    than asked of the index, whose entry for that value grows with everything stored."""
    for field, want in query.items():
        have = doc.get(field)
        if isinstance(want, dict) and "$in" in want:
            if have not in want["$in"]:
                return False
        elif have != want:
            return False
    return True


def by_few(collection: Any, key: dict[str, Any], rest: dict[str, Any], sort_field: str,
           skip: int, limit: int) -> tuple[list[dict], int, bool]:
    """A list whose ``key`` (a person's own documents) matches few: read them all by the key,
    newest first, and check ``rest`` on those."""
    docs = collection.find(key).sort(sort_field, -1)
    return paging.capped([d for d in docs if matches(d, rest)], skip, limit)
