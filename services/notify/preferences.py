"""Each person's notification preferences over the store: what is in effect (stored values
over their role's defaults, see domain.py) and changing them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.notify import domain, records
from services.notify.store import NotifyStore


def effective_for(store: NotifyStore, sub: str, role: str, tz: str) -> dict[str, Any]:
    """A person's preferences in effect; ``tz`` is the city's time zone (CITY_TZ)."""
    stored = store.preferences.get(sub)
    return domain.effective(stored, (stored or {}).get("role") or role, tz)


def view(store: NotifyStore, who: dict[str, str], tz: str) -> dict[str, Any]:
    return records.public_preferences(effective_for(store, who["sub"], who["role"], tz))


def update(store: NotifyStore, who: dict[str, str], data: dict[str, Any], now: datetime,
           tz: str) -> dict[str, Any]:
    """Store the fields sent (``data`` is validated); fields left out keep their value."""
    domain.check_home(who, data.get("home"))
    current = effective_for(store, who["sub"], who["role"], tz)
    store.preferences.put(who["sub"], records.preference_changes(who, data, current, now))
    return view(store, who, tz)
