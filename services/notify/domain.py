"""Notify's rules, as plain functions over plain data: who hears about an event, which
inboxes a person reads, preferences and quiet hours, retries with back-off, a notice's
audience, and expiry. No I/O; documents and views are built in records.py."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.common.geo import TravelModel, candidate_cells, haversine_m, within
from services.common.refusals import Forbidden, InvalidInput
from services.common.subjects import valid_subject
from services.notify.routing import CATEGORIES, ROLE_INBOXES, ROUTES, Audience, recipient_of
from services.notify.templates import DEFAULT_LANGUAGE

CHANNEL_INBOX = "inbox"
CHANNELS = ("inbox", "webhook", "sms", "email")

# ------------------------------------------------------------------ ids and recipients


def notification_id(event_id: str, recipient_id: str, channel: str = CHANNEL_INBOX) -> str:
    """Derived from the event, the person and the channel: a redelivered event maps to the
    same id, so it can never produce a second notification."""
    digest = hashlib.sha256(f"{event_id}|{recipient_id}|{channel}".encode()).hexdigest()
    return f"ntf_{digest[:32]}"


def delivery_id(notification: str, channel: str, target: str) -> str:
    digest = hashlib.sha256(f"{notification}|{channel}|{target}".encode()).hexdigest()
    return f"dlv_{digest[:32]}"


def recipients_of(event: dict[str, Any]) -> list[tuple[Audience, str]]:
    found = []
    for audience in ROUTES.get(event["type"], ()):
        recipient = recipient_of(audience.name, event["data"])
        if recipient:
            found.append((audience, recipient))
    return found


def is_role_inbox(recipient_id: str) -> bool:
    return recipient_id in ROLE_INBOXES.values()


def inboxes_of(who: dict[str, str]) -> list[str]:
    """What a person reads: their own inbox, and their role's shared one (dispatchers).
    A person's inbox is their subject, which never holds the ":" of a role inbox's name."""
    if not valid_subject(who["sub"]):
        raise Forbidden("not a valid subject")
    role_inbox = ROLE_INBOXES.get(who["role"])
    return [who["sub"], role_inbox] if role_inbox else [who["sub"]]


# ------------------------------------------------------------------ who may do what


def require_role(who: dict[str, str], roles: tuple[str, ...], message: str) -> None:
    if who["role"] not in roles:
        raise Forbidden(message)


def check_may_own_webhooks(who: dict[str, str]) -> None:
    if who["role"] == "resident":
        raise Forbidden("webhooks are for shops and property-management systems")


def check_home(who: dict[str, str], home: dict[str, Any] | None) -> None:
    if home is not None and who["role"] != "resident":
        raise InvalidInput("the request has invalid fields",
                           {"home": ["only residents register a home"]})


# ------------------------------------------------------------------ preferences

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


def defaults_for(role: str, tz: str) -> dict[str, Any]:
    """A role's preferences; ``tz`` is the city's time zone (the CITY_TZ setting)."""
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


def effective(stored: dict[str, Any] | None, role: str, tz: str) -> dict[str, Any]:
    """Stored preferences over the role's defaults (a person who never saved any has these)."""
    prefs = defaults_for(role, tz)
    if stored:
        for key in prefs:
            if key in stored and key != "role":
                prefs[key] = stored[key]
        prefs["channels"] = {**defaults_for(role, tz)["channels"],
                             **(stored.get("channels") or {})}
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
    """If ``now`` falls in the person's quiet hours, when they end (UTC); else None.

    Quiet hours are local wall-clock times in the person's time zone and may wrap past
    midnight (22:00-07:00)."""
    quiet = prefs.get("quiet_hours")
    if not quiet:
        return None
    start, end = _hhmm(quiet["start"]), _hhmm(quiet["end"])
    if start == end:
        return None
    tz = ZoneInfo(prefs["time_zone"])
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


# ------------------------------------------------------------------ retries


def retry_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random | None = None
                ) -> timedelta:
    """Exponential back-off with jitter: base * 2^(attempt-1), capped, times 0.5..1.

    The jitter spreads retries of many deliveries that failed together (a receiver outage)
    so they do not all return at the same instant.
    """
    rng = rng or random
    ceiling = min(cap_s, base_s * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=ceiling * (0.5 + rng.random() / 2))


def after_attempt(delivery: dict[str, Any], now: datetime, error: str | None,
                  duration_ms: float, max_attempts: int, base_s: float, cap_s: float,
                  rng: random.Random | None = None) -> dict[str, Any]:
    """The $set fields and the attempt record after one try: sent, retried later, or failed
    after the last attempt (never dropped: failed deliveries stay for an admin to see)."""
    count = delivery["attempt_count"] + 1
    attempt = {"at": now, "ok": error is None, "error": error, "duration_ms": duration_ms}
    fields: dict[str, Any] = {"attempt_count": count, "updated_at": now, "lease_until": None,
                              "last_error": error}
    if error is None:
        fields.update(status="sent", sent_at=now, next_attempt_at=None)
    elif count >= max_attempts:
        fields.update(status="failed", failed_at=now, next_attempt_at=None)
    else:
        fields.update(status="pending",
                      next_attempt_at=now + retry_delay(count, base_s, cap_s, rng))
    return {"$set": fields, "$push": {"attempts": attempt}}


# ------------------------------------------------------------------ community notices


def normalise_community(name: str) -> str:
    return " ".join(name.split())


def audience_cells(notice: dict[str, Any]) -> list[str]:
    """H3 cells that can hold a home within the notice's walk (to query by indexed cell)."""
    audience = notice["audience"]
    loc = audience["location"]
    return candidate_cells(loc["lat"], loc["lng"], audience["radius_m"])


def residents_in_walk(notice: dict[str, Any], candidates: list[dict[str, Any]],
                      model: TravelModel) -> list[dict[str, Any]]:
    """Exact filter of candidate homes by the walking model."""
    audience = notice["audience"]
    loc = audience["location"]
    hits = within(loc["lat"], loc["lng"], candidates, audience["walk_minutes"], model,
                  key=lambda p: (p["home"]["location"]["lat"], p["home"]["location"]["lng"]))
    return [p for p, _dist, _walk in hits]


def notice_audience(homes: list[dict[str, Any]]) -> list[str]:
    """Notices go to residents only (a home stored under another role reaches nobody)."""
    return [h["_id"] for h in homes if h.get("role", "resident") == "resident"]


def require_unexpired(expires_at: datetime | None, now: datetime) -> None:
    """A notice that has lapsed before it is posted would be delivered to nobody's use."""
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("the notice would already have expired",
                           {"expires_at": ["must be in the future"]})


def is_current(notice: dict[str, Any], now: datetime) -> bool:
    expires = notice.get("expires_at")
    return expires is None or expires > now


def covers(notice: dict[str, Any], lat: float | None, lng: float | None,
           community: str | None) -> bool:
    """Does the notice speak to this place (a point in its walk, or its community)?"""
    audience = notice["audience"]
    if audience["kind"] == "walk":
        if lat is None or lng is None:
            return False
        loc = audience["location"]
        return haversine_m(loc["lat"], loc["lng"], lat, lng) <= audience["radius_m"]
    return community is not None and normalise_community(community) in audience["communities"]


# ------------------------------------------------------------------ expiry

MAX_SWEEP_DAYS = 400  # retention is 30 days by default; a day bucket older than this is gone


def expire_day(at: datetime) -> str:
    """The day bucket of an expiry time: the sweep deletes by this indexed value."""
    return at.strftime("%Y-%m-%d")


def sweep_days(now: datetime, last: datetime | None) -> list[str]:
    """The day buckets that may hold something expired since the last sweep (all recent
    ones after a start-up), newest first."""
    span = MAX_SWEEP_DAYS if last is None else min(MAX_SWEEP_DAYS, (now - last).days + 2)
    return [expire_day(now - timedelta(days=i)) for i in range(span)]
