"""Community notices over the store: posting one (idempotent by Idempotency-Key), the
resumable fan-out to its audience's inboxes, and the notices that cover a place.

The audience is fixed when the notice is posted; the first inboxes are filled within the
request, the rest by the timer in batches, idempotently by notification id, so a large
audience never makes the POST time out and a crash midway loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common import idempotency
from services.common.geo import TravelModel
from services.notify import domain, records
from services.notify.inbox import InboxSettings, store_with_deliveries
from services.notify.store import NotifyStore


def _replay(store: NotifyStore, sub: str, key: str, notice: dict[str, Any]
            ) -> dict[str, Any] | None:
    existing = store.notices.by_key(sub, key)
    if existing is None:
        return None
    idempotency.check_replay(existing["fingerprint"], notice, "notice")
    return records.public_notice(existing)


def _audience(store: NotifyStore, doc: dict[str, Any], model: TravelModel) -> list[str]:
    if doc["audience"]["kind"] == "walk":
        candidates = store.preferences.homes_in_cells(domain.audience_cells(doc))
        homes = domain.residents_in_walk(doc, [c for c in candidates if c.get("home")], model)
    else:
        homes = store.preferences.homes_in_communities(doc["audience"]["communities"])
    return domain.notice_audience(homes)


def post(store: NotifyStore, who: dict[str, str], data: dict[str, Any],
         notice: dict[str, Any], idempotency_key: str | None, model: TravelModel,
         now: datetime, settings: InboxSettings, inline: int) -> dict[str, Any]:
    """Post a notice (``data`` validated, ``notice`` as sent, for the key's fingerprint) and
    fill the first ``inline`` inboxes of its audience."""
    key = idempotency_key or None
    if key is not None:
        # A retried POST must not send a second notice to every home in the circle.
        replayed = _replay(store, who["sub"], key, notice)
        if replayed is not None:
            return replayed
    domain.require_unexpired(data.get("expires_at"), now)
    doc = records.new_notice(who, data, model, now)
    audience = _audience(store, doc, model)
    doc.update(recipients=len(audience), audience_ids=audience, fanout_done=0,
               fanout_pending=bool(audience))
    if key is not None:
        doc.update(**idempotency.key_fields(who["sub"], key),
                   fingerprint=idempotency.fingerprint(notice))
    if not store.notices.add(doc):  # the same key, a moment earlier
        return _replay(store, who["sub"], key, notice)
    fan_out(store, doc, inline, now, settings)
    return records.public_notice(doc)


def fan_out(store: NotifyStore, notice: dict[str, Any], budget: int, now: datetime,
            settings: InboxSettings) -> int:
    """Put the notice in the next ``budget`` inboxes of its audience."""
    start = notice["fanout_done"]
    batch = notice["audience_ids"][start:start + budget]
    for resident in batch:
        prefs = domain.effective(store.preferences.get(resident), "resident", settings.city_tz)
        doc = records.notice_notification(notice, resident, prefs, now, settings.role_retention)
        store_with_deliveries(store, doc, prefs, now)
    done = start + len(batch)
    store.notices.advance_fanout(notice["_id"], done, done >= len(notice["audience_ids"]))
    notice["fanout_done"] = done
    return len(batch)


def continue_fan_outs(store: NotifyStore, batch: int, now: datetime,
                      settings: InboxSettings) -> int:
    """The timer's part: the next ``batch`` inboxes of every unfinished notice."""
    return sum(fan_out(store, n, batch, now, settings)
               for n in store.notices.unfinished_fanouts())


def covering(store: NotifyStore, lat: float | None, lng: float | None,
             community: str | None, now: datetime) -> dict[str, Any]:
    """Current notices whose walk contains the point or whose communities include this one."""
    found = [d for d in store.notices.active()
             if domain.is_current(d, now) and domain.covers(d, lat, lng, community)]
    return {"items": [records.public_notice(d) for d in found]}
