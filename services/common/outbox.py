"""Transactional outbox inside the aggregate document.

A state change and the events it causes are written in one single-document write: the events
are appended to the document's ``_outbox`` list and ``_outbox_pending`` is set. After the write
the events are published and pulled from the list. If the process dies in between, the relay
(a nameko timer in each service) finds the document by the indexed flag and publishes them
again. Consumers are idempotent, so the rare double publish is harmless; a lost event is not.

With several replicas of a service the relays of all of them look at the same documents at
the same moment, so the relay first takes a short lease on a document (``_outbox_lease``, one
guarded single-document update): exactly one replica publishes what it left behind. A
replica that dies holding a lease only delays the next relay by the lease's length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

OUTBOX = "_outbox"
PENDING = "_outbox_pending"
LEASE = "_outbox_lease"
RELAY_LEASE = timedelta(seconds=30)  # far longer than publishing one document's events takes

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
    return {k: v for k, v in doc.items() if k not in (OUTBOX, PENDING, LEASE)}


def ensure_outbox_index(collection: Any) -> None:
    collection.create_index(PENDING)


def _mark_published(collection: Any, doc_id: Any, event_ids: list[str]) -> None:
    collection.update_one({"_id": doc_id}, {"$pull": {OUTBOX: {"id": {"$in": event_ids}}}})
    # Only clear the flag if nothing new was appended meanwhile.
    collection.update_one({"_id": doc_id, OUTBOX: {"$size": 0}}, {"$set": {PENDING: False}})


def flush(collection: Any, doc_id: Any, dispatch: Dispatch) -> int:
    """Publish the document's pending events now; returns how many were published."""
    doc = collection.find_one({"_id": doc_id}, {OUTBOX: 1})
    events = (doc or {}).get(OUTBOX) or []
    return _publish(collection, doc_id, events, dispatch)


def claim(collection: Any, doc_id: Any, now: datetime,
          lease: timedelta = RELAY_LEASE) -> dict[str, Any] | None:
    """Take the relay's lease on a document with pending events: one guarded update, so of
    several replicas relaying at the same moment exactly one gets it (None for the others)."""
    return collection.find_one_and_update(
        {"_id": doc_id, PENDING: True,
         "$or": [{LEASE: None}, {LEASE: {"$lte": now}}]},
        {"$set": {LEASE: now + lease}},
        projection={OUTBOX: 1, LEASE: 1},
        return_document=ReturnDocument.AFTER)


def _release(collection: Any, doc_id: Any, held: datetime) -> None:
    collection.update_one({"_id": doc_id, LEASE: held}, {"$set": {LEASE: None}})


def relay(
    collections: Iterable[Any], dispatch: Dispatch, older_than: datetime, limit: int = 500,
    now: datetime | None = None,
) -> int:
    """Publish events that were left behind (older than ``older_than``) by a crash, each
    document under a lease so that another replica's relay does not publish them too."""
    now = now if now is not None else datetime.now(UTC)
    published = 0
    for collection in collections:
        for found in list(collection.find({PENDING: True}, {OUTBOX: 1}).limit(limit)):
            if not _has_stale(found, older_than):
                continue  # just written; its own flush is publishing it
            doc = claim(collection, found["_id"], now)
            if doc is None:
                continue  # another replica is relaying it
            try:
                stale = [e for e in doc.get(OUTBOX) or []
                         if datetime.fromisoformat(e["occurred_at"]) <= older_than]
                published += _publish(collection, doc["_id"], stale, dispatch)
            finally:
                _release(collection, doc["_id"], doc[LEASE])
    return published


def _has_stale(doc: dict[str, Any], older_than: datetime) -> bool:
    return any(datetime.fromisoformat(e["occurred_at"]) <= older_than
               for e in doc.get(OUTBOX) or [])


def _publish(collection: Any, doc_id: Any, events: list[dict], dispatch: Dispatch) -> int:
    if not events:
        return 0
    for event in events:
        dispatch(event)
    _mark_published(collection, doc_id, [e["id"] for e in events])
    return len(events)
