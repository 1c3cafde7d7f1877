"""The one event envelope, and validation of events against their contracts.

Every event travels as ``{id, type, version, occurred_at, source, correlation_id, causation_id,
data}``. The schema of ``data`` is registered per (type, version) in services.common.contracts;
events are checked when they are made (so nothing malformed is stored in an outbox) and again
when they are received.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields

from services.common.times import iso

_CONTRACTS: dict[tuple[str, int], type[Schema]] = {}
# One instance per contract: building a marshmallow schema costs more than loading with it,
# and an instance can be reused (loading keeps no state on it).
_INSTANCES: dict[tuple[str, int], Schema] = {}


class InvalidEvent(Exception):
    """An event that does not fit its contract. It is never retried: it goes to dead letters."""


def contract(event_type: str, version: int = 1):
    """Register a marshmallow schema as the contract for the ``data`` of an event type."""

    def register(schema_cls: type[Schema]) -> type[Schema]:
        key = (event_type, version)
        if key in _CONTRACTS:
            raise ValueError(f"contract for {key} registered twice")
        _CONTRACTS[key] = schema_cls
        return schema_cls

    return register


def contract_for(event_type: str, version: int = 1) -> type[Schema]:
    _load_contracts()
    try:
        return _CONTRACTS[(event_type, version)]
    except KeyError:
        raise InvalidEvent(f"no contract for event {event_type!r} version {version}") from None


def _contract_schema(event_type: str, version: int) -> Schema:
    key = (event_type, version)
    schema = _INSTANCES.get(key)
    if schema is None:
        schema = _INSTANCES[key] = contract_for(event_type, version)()
    return schema


def known_event_types() -> list[tuple[str, int]]:
    _load_contracts()
    return sorted(_CONTRACTS)


class EnvelopeSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True)
    type = fields.String(required=True)
    version = fields.Integer(required=True, strict=True)
    occurred_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    source = fields.String(required=True)
    correlation_id = fields.String(required=True)
    causation_id = fields.String(required=True, allow_none=True)
    data = fields.Dict(required=True)


_ENVELOPE = EnvelopeSchema()


def new_id(prefix: str) -> str:
    """A unique, unguessable id with a readable prefix (ord_, evt_, ...)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_event(
    event_type: str,
    data: dict[str, Any],
    *,
    source: str,
    correlation_id: str,
    causation_id: str | None = None,
    version: int = 1,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """Build a JSON-ready envelope; raises InvalidEvent if ``data`` breaks the contract."""
    schema = _contract_schema(event_type, version)
    try:
        checked = schema.dump(schema.load(data))
    except ValidationError as exc:
        raise InvalidEvent(f"{event_type} v{version}: {exc.messages}") from exc
    return {
        "id": new_id("evt"),
        "type": event_type,
        "version": version,
        "occurred_at": iso(occurred_at or utcnow()),
        "source": source,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "data": checked,
    }


def load_event(payload: Any, expected_type: str | None = None) -> dict[str, Any]:
    """Validate a received envelope and its data; returns the envelope with ``data`` loaded."""
    if not isinstance(payload, dict):
        raise InvalidEvent(f"event payload is {type(payload).__name__}, not an object")
    try:
        envelope = _ENVELOPE.load(payload)
    except ValidationError as exc:
        raise InvalidEvent(f"bad envelope: {exc.messages}") from exc
    if expected_type is not None and envelope["type"] != expected_type:
        raise InvalidEvent(f"expected {expected_type!r}, got {envelope['type']!r}")
    schema = _contract_schema(envelope["type"], envelope["version"])
    try:
        envelope["data"] = schema.load(envelope["data"])
    except ValidationError as exc:
        raise InvalidEvent(f"{envelope['type']} v{envelope['version']}: {exc.messages}") from exc
    return envelope


def _load_contracts() -> None:
    # Importing the package registers every contract exactly once.
    import services.common.contracts  # noqa: F401
