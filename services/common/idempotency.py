"""Idempotent creation: a retried POST with the same ``Idempotency-Key`` and body returns
what the first one created; the same key with another body is a conflict.

A key belongs to the person who sent it: it is stored as two fields, the subject and the key
as sent (``idem_sub``, ``idem_key``), under one unique compound index. Keys were once stored
joined as ``"<sub>:<key>"`` in one field, so subject ``a`` with key ``b:K`` was subject
``a:b`` with key ``K``; ``ensure_key_index`` migrates documents stored that way at start-up.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from services.common.refusals import Conflict

SUB, KEY = "idem_sub", "idem_key"
INDEX = "idem_sub_1_idem_key_1"
LEGACY_FIELD, LEGACY_INDEX = "idempotency_key", "idempotency_key_1"


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def fingerprint(body: Any) -> str:
    """Same body, same fingerprint, whatever the order of its keys."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def key_fields(sub: str, key: str) -> dict[str, str]:
    """The fields a document created under ``key`` by ``sub`` carries (and is found by):
    two people may pick the same key, and no subject/key pair can spell another."""
    return {SUB: sub, KEY: key}


def check_replay(existing_fingerprint: str, body: Any, what: str) -> None:
    if existing_fingerprint != fingerprint(body):
        raise Conflict(f"this Idempotency-Key was used for a different {what}",
                       {"idempotency_key": ["reused with a different body"]},
                       code="idempotency_key_reused")


def split_legacy(stored: str, sub: str) -> str:
    """The key as sent, from a legacy ``"<sub>:<key>"`` value whose subject is known from
    the document itself (so the split is exact, whatever either contains)."""
    prefix = f"{sub}:"
    return stored[len(prefix):] if stored.startswith(prefix) else stored


def ensure_key_index(collection: Any, owner_field: str, *, sparse: bool = False) -> int:
    """Create the compound unique index; first migrate documents with a legacy joined key.

    The legacy unique index is dropped only after every document has the new fields and the
    new index exists, so a crash midway leaves it in place and the next start finishes the
    job (only documents without ``idem_key`` are touched). ``sparse`` for collections where
    the key is optional (notices). Returns how many documents were migrated."""
    migrated = 0
    if LEGACY_INDEX in collection.index_information():
        legacy = collection.find({KEY: {"$exists": False}, LEGACY_FIELD: {"$exists": True}},
                                 {owner_field: 1, LEGACY_FIELD: 1})
        for doc in list(legacy):
            sub = str(doc[owner_field])
            collection.update_one({"_id": doc["_id"]}, {"$set": key_fields(
                sub, split_legacy(str(doc[LEGACY_FIELD]), sub))})
            migrated += 1
    collection.create_index([(SUB, 1), (KEY, 1)], unique=True, sparse=sparse, name=INDEX)
    if LEGACY_INDEX in collection.index_information():
        collection.drop_index(LEGACY_INDEX)
        collection.update_many({LEGACY_FIELD: {"$exists": True}}, {"$unset": {LEGACY_FIELD: ""}})
    return migrated
