"""Dispatch payloads: validated at the gateway and again by the dispatch service."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from marshmallow import ValidationError, fields, validate, validates, validates_schema

from services.common import hours
from services.common.schemas import (
    Day,
    Id,
    Instant,
    LocationSchema,
    PageArgs,
    Strict,
    Text,
    page_of,
)
from services.common.subjects import SUBJECT_PATTERN
from services.dispatch import domain
from services.dispatch.domain import SELF_STATUSES, TECH_STATUSES
from services.dispatch.domain import STATUSES as REPAIR_STATUSES

SKILLS_DOC = json.loads((Path(__file__).with_name("skills.json")).read_text(encoding="utf-8"))
SKILL_CODES = tuple(s["code"] for s in SKILLS_DOC["skills"])
SLA_MINUTES = domain.sla_minutes_from_skills(SKILLS_DOC)


MAX_BOOK_AHEAD_DAYS = 30

Skill = validate.OneOf(SKILL_CODES, error="unknown skill; one of: " + ", ".join(SKILL_CODES))


class ShiftsField(fields.Dict):
    """Weekly shifts under the one weekly-hours rule (services/common/hours.py), stored
    normalised: days lower-case in week order, "HH:MM" times, intervals sorted."""

    def __init__(self, **kw):
        super().__init__(keys=fields.String(), values=fields.Raw(),
                         metadata={"description": "weekly local hours (CITY_TZ); an interval "
                                                  "whose close is not after its open runs "
                                                  "past midnight; a missing day is off",
                                   "example": {"mon": [["08:00", "20:00"]],
                                               "fri": [["20:00", "02:00"]]}}, **kw)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return hours.validate_hours(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


# ------------------------------------------------------------------ technicians


class TechnicianCreateSchema(Strict):
    sub = fields.String(required=True, validate=validate.Regexp(SUBJECT_PATTERN),
                        metadata={"description": "the user id the technician signs in with"})
    name = Text(80, required=True)
    skills = fields.List(fields.String(validate=Skill), required=True,
                         validate=validate.Length(1, len(SKILL_CODES)))
    home = fields.Nested(LocationSchema, required=True)
    shifts = ShiftsField(load_default=None, allow_none=True)
    travel_mode = fields.String(load_default=domain.DEFAULT_TRAVEL_MODE,
                                validate=validate.OneOf(tuple(domain.TRAVEL_MODES)))
    status = fields.String(load_default="offline", validate=validate.OneOf(SELF_STATUSES))

    @validates("skills")
    def _distinct(self, skills, **_kw):
        if len(skills) != len(set(skills)):
            raise ValidationError("each skill once")


class TechnicianUpdateSchema(Strict):
    name = Text(80)
    skills = fields.List(fields.String(validate=Skill),
                         validate=validate.Length(1, len(SKILL_CODES)))
    home = fields.Nested(LocationSchema)
    shifts = ShiftsField(allow_none=True)
    travel_mode = fields.String(validate=validate.OneOf(tuple(domain.TRAVEL_MODES)))
    status = fields.String(validate=validate.OneOf(SELF_STATUSES))

    @validates_schema
    def _not_empty(self, data, **_kw):
        if not data:
            raise ValidationError("change at least one field")


class TechnicianStatusSchema(Strict):
    status = fields.String(required=True, validate=validate.OneOf(SELF_STATUSES))


class TechnicianSchema(Strict):
    id = fields.String(required=True)
    sub = fields.String(required=True)
    name = fields.String(required=True)
    skills = fields.List(fields.String(), required=True)
    home = fields.Nested(LocationSchema, required=True)
    shifts = fields.Dict(allow_none=True)
    travel_mode = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(TECH_STATUSES))
    location = fields.Nested(LocationSchema, allow_none=True)
    location_at = fields.String(allow_none=True)
    h3_cell = fields.String(allow_none=True)
    current_repair_id = fields.String(allow_none=True)
    active_jobs = fields.Integer(required=True)
    rating_avg = fields.Float(allow_none=True)
    rating_count = fields.Integer(required=True)
    created_at = fields.String(required=True)
    updated_at = fields.String(required=True)


# ------------------------------------------------------------------ repairs


class RepairCreateSchema(Strict):
    skill = fields.String(required=True, validate=Skill,
                          metadata={"description": "category of the job (skills.json)"})
    description = Text(1000, required=True)
    address = Text(200, required=True, metadata={"example": "江汉区民意街12号3单元502"})
    location = fields.Nested(LocationSchema, required=True)
    preferred_time = Instant(
        load_default=None, allow_none=True,
        metadata={"description": "ISO 8601 with offset; default now. A later time books the "
                                 "visit: the arrival window starts then"})


    @validates("preferred_time")
    def _not_far_ahead(self, value, **_kw):
        if value is not None and value - datetime.now(UTC) > timedelta(days=MAX_BOOK_AHEAD_DAYS):
            raise ValidationError(f"at most {MAX_BOOK_AHEAD_DAYS} days ahead")


class ReasonRequiredSchema(Strict):
    reason = Text(500, required=True)


class CancelSchema(Strict):
    reason = Text(500, load_default=None, allow_none=True)


class CompleteSchema(Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^\s*\d{6}\s*$",
                                                                 error="6 digits"))
    resolution = Text(1000, required=True)
    parts_used = fields.List(Text(100), load_default=list, validate=validate.Length(0, 50))


class RateSchema(Strict):
    rating = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    comment = Text(domain.MAX_COMMENT_CHARS, min_length=0, load_default=None, allow_none=True)


class AssignSchema(Strict):
    technician_id = Id(required=True)


class RepairHistoryEntrySchema(Strict):
    status = fields.String(required=True)
    at = fields.String(required=True)
    by = fields.Dict(allow_none=True)
    note = fields.String(allow_none=True)


class ArrivalCheckSchema(Strict):
    at = fields.String(required=True, metadata={"description": "when arrived was pressed"})
    location = fields.Nested(LocationSchema, allow_none=True, metadata={
        "description": "the technician's last reported location then; null if never reported"})
    location_at = fields.String(allow_none=True, metadata={
        "description": "when that location was reported"})
    distance_m = fields.Integer(allow_none=True, metadata={
        "description": "straight line from that location to the job's address"})


class RepairSchema(Strict):
    id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(REPAIR_STATUSES))
    resident_id = fields.String(required=True)
    skill = fields.String(required=True)
    description = fields.String(required=True)
    address = fields.String(required=True)
    location = fields.Nested(LocationSchema, required=True)
    requested_at = fields.String(required=True)
    due_by = fields.String(required=True)
    sla_state = fields.String(required=True, metadata={
        "description": "ok, at_risk, breached (before arrival); met or missed (after)"})
    technician_id = fields.String(allow_none=True)
    technician_name = fields.String(allow_none=True)
    eta_minutes = fields.Float(allow_none=True)
    accept_by = fields.String(allow_none=True)
    completion_code = fields.String(allow_none=True, metadata={
        "description": "only for the reporting resident while the technician is on the way or "
                       "there: give it at the door"})
    code_locked = fields.Boolean(required=True, metadata={
        "description": f"{domain.MAX_CODE_ATTEMPTS} wrong completion codes lock the job until "
                       "the resident issues a new code (POST .../new-code)"})
    code_attempts_left = fields.Integer(required=True)
    arrival_check = fields.Nested(ArrivalCheckSchema, allow_none=True, metadata={
        "description": "dispatchers and admins only: where the technician was when they "
                       "pressed arrived"})
    resolution = fields.String(allow_none=True)
    parts_used = fields.List(fields.String(), allow_none=True)
    rating = fields.Integer(allow_none=True)
    comment = fields.String(allow_none=True)
    assigned_at = fields.String(allow_none=True)
    accepted_at = fields.String(allow_none=True)
    arrived_at = fields.String(allow_none=True)
    completed_at = fields.String(allow_none=True)
    cancelled_at = fields.String(allow_none=True)
    history = fields.List(fields.Nested(RepairHistoryEntrySchema), required=True)
    created_at = fields.String(required=True)
    updated_at = fields.String(required=True)


class RepairListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(REPAIR_STATUSES))


RepairPageSchema = page_of(RepairSchema)


class TechnicianListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(TECH_STATUSES))
    skill = fields.String(validate=Skill)


TechnicianPageSchema = page_of(TechnicianSchema)


class CandidateSchema(Strict):
    rank = fields.Integer(required=True)
    technician_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    eta_minutes = fields.Float(required=True)
    distance_m = fields.Integer(required=True)
    travel_mode = fields.String(required=True)
    active_jobs = fields.Integer(required=True)
    rating_avg = fields.Float(allow_none=True)
    reasons = fields.List(fields.String(), required=True)


class ExcludedSchema(Strict):
    technician_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    reasons = fields.List(fields.String(), required=True)


class CandidatesSchema(Strict):
    repair_id = fields.String(required=True)
    search_radius_m = fields.Integer(required=True)
    candidates = fields.List(fields.Nested(CandidateSchema), required=True)
    excluded = fields.List(fields.Nested(ExcludedSchema), required=True)


# ------------------------------------------------------------------ board and stats


class BoardItemSchema(Strict):
    id = fields.String(required=True)
    status = fields.String(required=True)
    skill = fields.String(required=True)
    address = fields.String(required=True)
    resident_id = fields.String(required=True)
    technician_id = fields.String(allow_none=True)
    technician_name = fields.String(allow_none=True)
    requested_at = fields.String(required=True)
    due_by = fields.String(required=True)
    minutes_to_due = fields.Float(required=True, metadata={"description": "negative: late"})
    sla_state = fields.String(required=True)


class BoardSchema(Strict):
    now = fields.String(required=True)
    open = fields.List(fields.Nested(BoardItemSchema), required=True)
    assigned = fields.List(fields.Nested(BoardItemSchema), required=True, metadata={
        "description": "assigned, accepted (en route) and arrived jobs"})
    at_risk = fields.List(fields.Nested(BoardItemSchema), required=True)
    breached = fields.List(fields.Nested(BoardItemSchema), required=True)


class StatsArgs(Strict):
    from_ = Day(data_key="from", load_default=None, allow_none=True,
                        metadata={"description": "first local day (YYYY-MM-DD); default 6 "
                                                 "days before `to`"})
    to = Day(load_default=None, allow_none=True,
                     metadata={"description": "last local day, inclusive; default today"})


class StatsRowSchema(Strict):
    day = fields.String(required=True)
    skill = fields.String(required=True)
    count = fields.Integer(required=True)
    arrived = fields.Integer(required=True)
    within_sla = fields.Float(allow_none=True, metadata={
        "description": "share of judged jobs where the technician arrived in time"})
    median_arrival_minutes = fields.Float(allow_none=True)
    breaches = fields.Integer(required=True)


class StatsSchema(Strict):
    from_ = fields.String(data_key="from", required=True)
    to = fields.String(required=True)
    rows = fields.List(fields.Nested(StatsRowSchema), required=True)


# The request body of each move a person makes by name (domain.PERSON_MOVES); none for the
# others. The gateway validates with it at the edge, the service again.
MOVE_SCHEMAS: dict[str, type[Strict]] = {
    "decline": ReasonRequiredSchema,
    "complete": CompleteSchema,
    "cannot_fix": ReasonRequiredSchema,
    "cancel": CancelSchema,
    "rate": RateSchema,
}
