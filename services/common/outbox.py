"""Transactional outbox inside the aggregate document.

A state change and the events it causes are written in one single-document write: the events
are appended to the document's ``_outbox`` list and ``_outbox_pending`` is set. After the write
the events are published and pulled from the list. If the process dies in between, the relay
(a nameko timer in each service) finds the document by the indexed flag and publishes them
again. Consumers are idempotent, so the rare double publish is harmless; a lost event is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

OUTBOX = "_outbox"
PENDING = "_outbox_pending"

Dispatch = Callable[[dict[str, Any]], None]


def with_outbox(doc: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """A new document that carries its first events."""
    return {**doc, OUTBOX: list(events), PENDING: bool(events)}


def outbox_update(events: list[dict[str, Any]], update: dict[str, Any]) -> dict[str, Any]:
    """Add 'record these events' to a MongoDB update document (same single-document write)."""
    if not events:
        return update
    merged = {op: dict(fields) for op, fields in update.items()}
    merged.setdefault("$push", {})[OUTBOX] = {"$each": list(events)}
    merged.setdefault("$set", {})[PENDING] = True
    return merged


def public(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """The document without its outbox bookkeeping."""
    if doc is None:
        return None
    return {k: v for k, v in doc.items() if k not in (OUTBOX, PENDING)}


def ensure_outbox_index(collection: Any) -> None:
    collection.create_index(PENDING)


def _mark_published(collection: Any, doc_id: Any, event_ids: list[str]) -> None:
    # Usually the outbox holds exactly what was just published: empty it in one write.
    emptied = collection.update_one(
        {"_id": doc_id, OUTBOX: {"$size": len(event_ids)}, f"{OUTBOX}.id": {"$all": event_ids}},
        {"$set": {OUTBOX: [], PENDING: False}})
    if emptied.modified_count:
        return
    collection.update_one({"_id": doc_id}, {"$pull": {OUTBOX: {"id": {"$in": event_ids}}}})
    # Only clear the flag if nothing new was appended meanwhile.
    collection.update_one({"_id": doc_id, OUTBOX: {"$size": 0}}, {"$set": {PENDING: False}})


def flush(collection: Any, doc_id: Any, dispatch: Dispatch,
          written: dict[str, Any] | None = None) -> int:
    """Publish the document's pending events now; returns how many were published.
    ``written``: the document as the write just returned it (saves reading it again)."""
    doc = written if written is not None else collection.find_one({"_id": doc_id}, {OUTBOX: 1})
    events = (doc or {}).get(OUTBOX) or []
    return _publish(collection, doc_id, events, dispatch)


def relay(
    collections: Iterable[Any], dispatch: Dispatch, older_than: datetime, limit: int = 500
) -> int:
    """Publish events that were left behind (older than ``older_than``) by a crash."""
    published = 0
    for collection in collections:
        for doc in collection.find({PENDING: True}, {OUTBOX: 1}).limit(limit):
            stale = [
                e for e in doc.get(OUTBOX) or []
                if datetime.fromisoformat(e["occurred_at"]) <= older_than
            ]
            published += _publish(collection, doc["_id"], stale, dispatch)
    return published


def _publish(collection: Any, doc_id: Any, events: list[dict], dispatch: Dispatch) -> int:
    if not events:
        return 0
    many = getattr(dispatch, "many", None)  # one confirm window for all of them
    if many is not None:
        many(events)
    else:
        for event in events:
            dispatch(event)
    _mark_published(collection, doc_id, [e["id"] for e in events])
    return len(events)
