"""Per-person notification preferences: defaults per role, channels, quiet hours.

Plain functions over plain dicts. Times are tz-aware; quiet hours are local wall-clock times
in the person's time zone and may wrap past midnight (22:00-07:00).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.notify.routing import CATEGORIES
from services.notify.templates import DEFAULT_LANGUAGE

CHANNELS = ("inbox", "webhook", "sms", "email")
DEFAULT_TZ = "Asia/Shanghai"

_NIGHT = {"start": "22:00", "end": "07:00"}

# Sensible defaults per role. The inbox is always on; marketing is opt-in for everyone.
ROLE_DEFAULTS: dict[str, dict[str, Any]] = {
    # Residents: SMS for repairs (someone is coming to the door), a quiet night.
    "resident": {"channels": {"orders": ["inbox"], "repairs": ["inbox", "sms"],
                              "notices": ["inbox"], "marketing": []},
                 "quiet_hours": _NIGHT},
    # Shops: orders also to their webhook (a till or shop system) when one is registered.
    "merchant": {"channels": {"orders": ["inbox", "webhook"], "repairs": ["inbox"],
                              "notices": ["inbox"], "marketing": []},
                 "quiet_hours": None},
    # Technicians work shifts; jobs must reach them.
    "technician": {"channels": {"orders": ["inbox"], "repairs": ["inbox", "sms"],
                                "notices": ["inbox"], "marketing": []},
                   "quiet_hours": None},
    "dispatcher": {"channels": {"orders": ["inbox"], "repairs": ["inbox"],
                                "notices": ["inbox"], "marketing": []},
                   "quiet_hours": None},
}
for _role in ("planner", "admin"):
    ROLE_DEFAULTS[_role] = {**ROLE_DEFAULTS["dispatcher"]}


def defaults_for(role: str, tz: str = DEFAULT_TZ) -> dict[str, Any]:
    base = ROLE_DEFAULTS.get(role, ROLE_DEFAULTS["resident"])
    return {
        "role": role,
        "language": DEFAULT_LANGUAGE,
        "time_zone": tz,
        "channels": {c: list(base["channels"][c]) for c in CATEGORIES},
        "quiet_hours": dict(base["quiet_hours"]) if base["quiet_hours"] else None,
        "phone": None,
        "email": None,
        "home": None,
    }


def effective(stored: dict[str, Any] | None, role: str, tz: str = DEFAULT_TZ) -> dict[str, Any]:
    """Stored preferences over the role's defaults (a person who never saved any has these)."""
    prefs = defaults_for(role, tz)
    if stored:
        for key in prefs:
            if key in stored and key != "role":
                prefs[key] = stored[key]
        prefs["channels"] = {**defaults_for(role, tz)["channels"], **(stored.get("channels") or {})}
    for category in CATEGORIES:  # the inbox is always on
        if "inbox" not in prefs["channels"][category] and category != "marketing":
            prefs["channels"][category] = ["inbox", *prefs["channels"][category]]
    return prefs


def channels_for(prefs: dict[str, Any], category: str) -> list[str]:
    return list(prefs["channels"].get(category) or [])


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours) % 24, int(minutes))


def quiet_until(prefs: dict[str, Any], now: datetime) -> datetime | None:
    """If ``now`` falls in the person's quiet hours, when they end (UTC); else None."""
    quiet = prefs.get("quiet_hours")
    if not quiet:
        return None
    start, end = _hhmm(quiet["start"]), _hhmm(quiet["end"])
    if start == end:
        return None
    tz = ZoneInfo(prefs.get("time_zone") or DEFAULT_TZ)
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:  # wraps past midnight
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(now.tzinfo)
