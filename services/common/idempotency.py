"""Idempotent creation: a retried POST with the same ``Idempotency-Key`` and body returns
what the first one created; the same key with another body is a conflict."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from services.common.refusals import Conflict


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def fingerprint(body: Any) -> str:
    """Same body, same fingerprint, whatever the order of its keys."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def scoped_key(sub: str, key: str) -> str:
    """Keys belong to the caller: two people may pick the same one."""
    return f"{sub}:{key}"


def check_replay(existing_fingerprint: str, body: Any, what: str) -> None:
    if existing_fingerprint != fingerprint(body):
        raise Conflict(f"this Idempotency-Key was used for a different {what}",
                       {"idempotency_key": ["reused with a different body"]},
                       code="idempotency_key_reused")
