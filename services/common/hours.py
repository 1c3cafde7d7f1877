"""Weekly hours: a merchant's opening hours and a technician's shifts, one rule for both.

Format: {"mon": [["07:00", "21:00"]], ..., "sun": [["22:00", "02:00"]]}

Decided on purpose (catalog and dispatch used to differ; tests/unit/common/test_hours.py):

* Each day maps to a list of [open, close] intervals in the city's local wall-clock time
  (the CITY_TZ setting; every caller passes it, there is no default zone here).
* An interval includes its open minute and excludes its close minute.
* close <= open means the interval runs past midnight into the next day ("22:00"-"02:00" on
  Saturday covers Sat 22:00 to Sun 01:59). Consequently "09:00"-"09:00" means 24 hours from
  09:00, and "00:00"-"00:00" is the whole day.
* "24:00" is the midnight that ends the day: allowed only as a close time, so "00:00"-"24:00"
  is all day and "18:00"-"24:00" ends at midnight without spilling into the next day.
* A missing day (or an empty list) means closed / off that day; {} is closed all week.
* None means no hours were given at all: treated as open / always on shift. The platform
  should not hide a merchant or idle a technician because of missing data.
* Days are the English three-letter names, any case ("Mon" is "mon"); a day given twice
  (in two cases) is an error. Times are "H:MM" or "HH:MM"; validation returns them
  normalised: days lower-case in week order, times "HH:MM", intervals sorted.
* At most MAX_INTERVALS_PER_DAY intervals a day, and a day's intervals may not overlap;
  only its last one may run past midnight. Overlaps are almost always typos: refuse, never
  guess. (The spill of one day into the next is not checked against the next day.)
* The instant asked about must be timezone-aware; code holding naive UTC datetimes (as
  pymongo returns them) converts with services.common.times.as_utc first.
* validate_hours checks the whole week; is_open reads only the day asked about and the day
  before (it is asked about every technician in a ranking, every shop near a resident), so
  it refuses malformed hours there with ValueError. Callers decide whether that means
  "closed" (a technician with broken shifts is not offered jobs) or an error. Hours are
  validated when they are stored, so this is about old or hand-made data.
"""

from __future__ import annotations

import re
from datetime import datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 8  # guards against junk input; real shops have 1-3 (lunch break)

_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
_DAY_MINUTES = 24 * 60


def _parse_time(value: Any, field: str, *, allow_24: bool) -> int:
    """'HH:MM' -> minute of day."""
    if not isinstance(value, str):
        raise ValueError(f"{field}: expected a 'HH:MM' string, got {type(value).__name__}")
    m = _TIME_RE.match(value.strip())
    if not m:
        raise ValueError(f"{field}: expected 'HH:MM', got {value!r}")
    hh, mm = int(m.group(1)), int(m.group(2))
    if hh == 24 and mm == 0:
        if not allow_24:
            raise ValueError(f"{field}: '24:00' is only allowed as a closing time")
        return _DAY_MINUTES
    if hh > 23 or mm > 59:
        raise ValueError(f"{field}: {value!r} is not a valid time of day")
    return hh * 60 + mm


def _fmt(minute: int) -> str:
    # 1440 is only ever a close time and is written back as "24:00".
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse(hours: Any) -> dict[str, list[tuple[int, int]]]:
    if not isinstance(hours, dict):
        raise ValueError(f"hours: expected an object keyed by day, got {type(hours).__name__}")
    out: dict[str, list[tuple[int, int]]] = {}
    for raw_day, intervals in hours.items():
        day = raw_day.strip().lower() if isinstance(raw_day, str) else raw_day
        if day not in DAYS:
            raise ValueError(f"hours: unknown day {raw_day!r}; use one of {', '.join(DAYS)}")
        if day in out:
            raise ValueError(f"hours.{day}: given more than once")
        if not isinstance(intervals, (list, tuple)):
            raise ValueError(f"hours.{day}: expected a list of [open, close] pairs")
        if len(intervals) > MAX_INTERVALS_PER_DAY:
            raise ValueError(f"hours.{day}: at most {MAX_INTERVALS_PER_DAY} intervals allowed")
        parsed: list[tuple[int, int]] = []
        for i, pair in enumerate(intervals):
            field = f"hours.{day}[{i}]"
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ValueError(f"{field}: expected [open, close], got {pair!r}")
            start = _parse_time(pair[0], f"{field}.open", allow_24=False)
            end = _parse_time(pair[1], f"{field}.close", allow_24=True)
            parsed.append((start, end))
        parsed.sort()
        # Same-day overlaps are almost certainly typos; reject rather than guess.
        for (s1, e1), (s2, _e2) in pairwise(parsed):
            if e1 <= s1 or s2 < e1:
                raise ValueError(
                    f"hours.{day}: intervals {_fmt(s1)}-{_fmt(e1)} and "
                    f"{_fmt(s2)}-... overlap (only the day's last interval may run past midnight)"
                )
        out[day] = parsed
    return out


_DAY_SET = frozenset(DAYS)
_REMEMBERED: dict[str, list[tuple[int, int]]] = {}
_REMEMBER_AT_MOST = 4096


def _day_intervals(day: str, raw: Any) -> list[tuple[int, int]]:
    """One day's intervals parsed, remembered per distinct list (keyed by its repr, quick
    and exact for JSON-like data): a ranking asks about hundreds of technicians' shifts and
    near-me about every shop's hours, and parsing is most of the cost of the question."""
    if raw is None:
        return []
    key = repr(raw)
    parsed = _REMEMBERED.get(key)
    if parsed is None:
        parsed = _parse({day: raw})[day]  # raises for a malformed day: never remembered
        if len(_REMEMBERED) >= _REMEMBER_AT_MOST:
            _REMEMBERED.clear()
        _REMEMBERED[key] = parsed
    return parsed


def validate_hours(hours: Any) -> dict[str, list[list[str]]] | None:
    """Validate and normalise hours: days lower-cased and in week order, times zero-padded
    'HH:MM', intervals sorted by opening time.  None passes through (no hours given)."""
    if hours is None:
        return None
    parsed = _parse(hours)
    return {day: [[_fmt(s), _fmt(e)] for s, e in parsed[day]] for day in DAYS if day in parsed}


def is_open(hours: Any, at: datetime, tz: str) -> bool:
    """Is `at` (an aware instant) inside the weekly hours, judged in the time zone `tz`?"""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be timezone-aware (e.g. datetime.now(timezone.utc))")
    if hours is None:
        return True  # no hours given: treated as open, see module docstring
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc
    local = at.astimezone(zone)
    minute = local.hour * 60 + local.minute
    today = DAYS[local.weekday()]
    yesterday = DAYS[(local.weekday() - 1) % 7]
    if isinstance(hours, dict) and hours.keys() <= _DAY_SET:  # the stored, normalised form
        todays = _day_intervals(today, hours.get(today))
        yesterdays = _day_intervals(yesterday, hours.get(yesterday))
    else:  # anything else is read (or refused) whole
        parsed = _parse(hours)
        todays, yesterdays = parsed.get(today, []), parsed.get(yesterday, [])
    for start, end in todays:
        if end > start:
            if start <= minute < end:
                return True
        elif minute >= start:  # overnight interval, the part before midnight
            return True
    # Tail of yesterday's overnight intervals (close <= open), which runs until `close` today.
    return any(end <= start and minute < end for start, end in yesterdays)
