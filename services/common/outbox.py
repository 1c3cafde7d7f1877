"""Transactional outbox inside the aggregate document.

A state change and the events it causes are written in one single-document write: the events
are appended to the document's ``_outbox`` list and ``_outbox_pending`` is set. After the write
the events are published and pulled from the list. If the process dies in between, the relay
(a nameko timer in each service) finds the document by the indexed flag and publishes them
again. Consumers are idempotent, so the rare double publish is harmless; a lost event is not.

With several replicas (or several workers of one) the same document can be flushed by two
writers at once (two timers moving one repair) and relayed by every replica's relay, so
publishing takes a short lease on the document first (``_outbox_lease``, one guarded
single-document update): exactly one publishes its events, and it looks again before it
lets go, so events written meanwhile are not left for the relay. A process that dies holding
a lease only delays the relay by the lease's length. Leases use the real clock, not a
service's (test-movable) business clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

OUTBOX = "_outbox"
PENDING = "_outbox_pending"
LEASE = "_outbox_lease"
# Far longer than publishing one document's events takes (milliseconds; seconds when the
# broker is slow), short enough that a publisher killed holding it delays the relay little.
LEASE_FOR = timedelta(seconds=10)
FLUSH_ROUNDS = 5  # a holder looks again for events written while it published

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


def _mark_published(collection: Any, doc_id: Any, event_ids: list[str]) -> bool:
    """Pull the published events and hand the lease back in the same write. True when the
    outbox is now empty because nothing was appended meanwhile (the usual case: one write)."""
    emptied = collection.update_one(
        {"_id": doc_id, OUTBOX: {"$size": len(event_ids)}, f"{OUTBOX}.id": {"$all": event_ids}},
        {"$set": {OUTBOX: [], PENDING: False, LEASE: None}})
    if emptied.modified_count:
        return True
    collection.update_one({"_id": doc_id}, {"$pull": {OUTBOX: {"id": {"$in": event_ids}}},
                                            "$set": {LEASE: None}})
    # Only clear the flag if nothing new was appended meanwhile.
    collection.update_one({"_id": doc_id, OUTBOX: {"$size": 0}}, {"$set": {PENDING: False}})
    return False


def claim(collection: Any, doc_id: Any, now: datetime | None = None,
          lease: timedelta = LEASE_FOR) -> dict[str, Any] | None:
    """Take the lease on a document with pending events: one guarded update, so of several
    workers or replicas publishing it at the same moment exactly one gets it (None for the
    others, and when nothing is pending)."""
    now = now if now is not None else datetime.now(UTC)
    return collection.find_one_and_update(
        {"_id": doc_id, PENDING: True,
         "$or": [{LEASE: None}, {LEASE: {"$lte": now}}]},
        {"$set": {LEASE: now + lease}},
        projection={OUTBOX: 1, LEASE: 1},
        return_document=ReturnDocument.AFTER)


def flush(collection: Any, doc_id: Any, dispatch: Dispatch,
          written: dict[str, Any] | None = None) -> int:
    """Publish the document's pending events now, under its lease; returns how many were
    published. ``written``: the document as the write just returned it — when it carries no
    events there is nothing to claim. If another worker or replica holds the lease, it
    publishes them: a holder looks again when events were appended while it published, so
    nothing written meanwhile waits for the relay."""
    if written is not None and not written.get(OUTBOX):
        return 0
    published = 0
    for _ in range(FLUSH_ROUNDS):
        doc = claim(collection, doc_id)
        if doc is None:
            break  # nothing pending, or someone else is publishing it
        try:
            count, emptied = _publish(collection, doc_id, doc.get(OUTBOX) or [], dispatch)
        except Exception:
            _release(collection, doc_id, doc[LEASE])
            raise
        published += count
        if emptied:
            break
    return published


def _release(collection: Any, doc_id: Any, held: datetime) -> None:
    collection.update_one({"_id": doc_id, LEASE: held}, {"$set": {LEASE: None}})


def relay(
    collections: Iterable[Any], dispatch: Dispatch, older_than: datetime, limit: int = 500
) -> int:
    """Publish events that were left behind (older than ``older_than``) by a crash: every
    document holding one is flushed under its lease, so of several replicas' relays (and the
    writer's own flush) exactly one publishes it."""
    published = 0
    for collection in collections:
        for found in list(collection.find({PENDING: True}, {OUTBOX: 1}).limit(limit)):
            if any(datetime.fromisoformat(e["occurred_at"]) <= older_than
                   for e in found.get(OUTBOX) or []):
                published += flush(collection, found["_id"], dispatch)
    return published


def _publish(collection: Any, doc_id: Any, events: list[dict],
             dispatch: Dispatch) -> tuple[int, bool]:
    if not events:
        _release_if_empty(collection, doc_id)
        return 0, True
    many = getattr(dispatch, "many", None)  # one confirm window for all of them
    if many is not None:
        many(events)
    else:
        for event in events:
            dispatch(event)
    return len(events), _mark_published(collection, doc_id, [e["id"] for e in events])


def _release_if_empty(collection: Any, doc_id: Any) -> None:
    collection.update_one({"_id": doc_id}, {"$set": {LEASE: None}})
    collection.update_one({"_id": doc_id, OUTBOX: {"$size": 0}}, {"$set": {PENDING: False}})
