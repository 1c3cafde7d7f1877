"""Events published by the dispatch service.

Every repair event carries the same data: enough for a consumer (notify) to tell the
resident, the technician and the dispatchers without asking dispatch. Correlation id is the
repair id.
"""

from marshmallow import fields, validate

from services.common.contracts.base import Contract
from services.common.events import contract
from services.dispatch.domain import STATUSES

REPAIR_STATUSES = STATUSES  # the dispatch domain owns the list

REPAIR_EVENT_TYPES = (
    "repair_requested", "repair_assigned", "repair_accepted", "repair_declined",
    "technician_arrived", "repair_completed", "repair_cancelled", "repair_rated",
    "repair_reopened", "sla_at_risk", "sla_breached", "completion_code_locked",
)


class RepairEvent(Contract):
    repair_id = fields.String(required=True)
    resident_id = fields.String(required=True)
    technician_id = fields.String(required=True, allow_none=True)
    technician_name = fields.String(required=True, allow_none=True)
    # Added beside the agreed fields: the technician's user id (the inbox to notify).
    # Optional, so events without it still load.
    technician_sub = fields.String(load_default=None, allow_none=True)
    skill = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(REPAIR_STATUSES))
    previous_status = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(REPAIR_STATUSES)
    )
    requested_at = fields.String(required=True)  # ISO 8601, UTC
    due_by = fields.String(required=True)  # ISO 8601, UTC
    eta_minutes = fields.Float(required=True, allow_none=True, allow_nan=False)
    reason = fields.String(required=True, allow_none=True)
    by = fields.String(required=True, allow_none=True)
    rating = fields.Integer(
        required=True, allow_none=True, strict=True, validate=validate.Range(1, 5)
    )
    comment = fields.String(required=True, allow_none=True)


# One class per event type, spelled out so that grepping an event's name finds its contract.


@contract("repair_requested")
class RepairRequested(RepairEvent):
    pass


@contract("repair_assigned")
class RepairAssigned(RepairEvent):
    pass


@contract("repair_accepted")
class RepairAccepted(RepairEvent):
    pass


@contract("repair_declined")
class RepairDeclined(RepairEvent):
    pass


@contract("technician_arrived")
class TechnicianArrived(RepairEvent):
    pass


@contract("repair_completed")
class RepairCompleted(RepairEvent):
    pass


@contract("repair_cancelled")
class RepairCancelled(RepairEvent):
    pass


@contract("repair_rated")
class RepairRated(RepairEvent):
    pass


@contract("repair_reopened")
class RepairReopened(RepairEvent):
    pass


@contract("sla_at_risk")
class SlaAtRisk(RepairEvent):
    pass


@contract("sla_breached")
class SlaBreached(RepairEvent):
    pass


# Too many wrong completion codes: the job cannot be completed until the resident issues a
# new code. ``reason`` says why; the status is unchanged (arrived).
@contract("completion_code_locked")
class CompletionCodeLocked(RepairEvent):
    pass
