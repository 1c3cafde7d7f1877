"""Notification payloads: validated at the gateway and again by the notify service."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from services.common.schemas import (
    Id,
    Instant,
    LocationSchema,
    PageArgs,
    Strict,
    Text,
    page_of,
)
from services.common.subjects import valid_subject
from services.notify import feedback_rules
from services.notify.domain import CHANNELS
from services.notify.templates import LANGUAGES

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class NotificationSchema(Schema):
    id = fields.String(required=True)
    category = fields.String(required=True)
    event_type = fields.String(required=True)
    correlation_id = fields.String(required=True, metadata={"description": "the order, "
                                                                           "repair or notice"})
    title = fields.String(required=True)
    body = fields.String(required=True)
    urgent = fields.Boolean(required=True)
    shared = fields.Boolean(required=True, metadata={
        "description": "in a role inbox (dispatchers); read state is per person"})
    read = fields.Boolean(required=True)
    created_at = fields.String(required=True)
    seq = fields.Integer(required=True, metadata={
        "description": "position in the stream; the SSE event id"})


class NotificationPageSchema(page_of(NotificationSchema, "NotificationPageBase")):
    unread_count = fields.Integer(required=True)


class ReadAllSchema(Schema):
    marked = fields.Integer(required=True)
    unread_count = fields.Integer(required=True)


class QuietHoursSchema(Strict):
    start = fields.String(required=True, validate=validate.Regexp(HHMM),
                          metadata={"example": "22:00"})
    end = fields.String(required=True, validate=validate.Regexp(HHMM),
                        metadata={"example": "07:00"})


class ChannelsSchema(Strict):
    orders = fields.List(fields.String(validate=validate.OneOf(CHANNELS)))
    repairs = fields.List(fields.String(validate=validate.OneOf(CHANNELS)))
    notices = fields.List(fields.String(validate=validate.OneOf(CHANNELS)))
    marketing = fields.List(fields.String(validate=validate.OneOf(CHANNELS)))


class HomeSchema(Strict):
    location = fields.Nested(LocationSchema, required=True)
    community = Text(80, load_default=None, allow_none=True,
                     metadata={"example": "民意街社区"})
    address = Text(200, load_default=None, allow_none=True, metadata={
        "description": "the delivery address pages offer at checkout",
        "example": "江汉区民意街12号3单元502"})


class PreferencesUpdateSchema(Strict):
    """Fields left out keep their value; null clears quiet hours, phone, e-mail or home."""

    language = fields.String(validate=validate.OneOf(LANGUAGES))
    time_zone = fields.String(metadata={"example": "Asia/Shanghai"})
    channels = fields.Nested(ChannelsSchema)
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9]{6,15}$"))
    email = fields.Email(allow_none=True)
    home = fields.Nested(HomeSchema, allow_none=True, metadata={
        "description": "residents: where you live, for community notices"})

    @validates("time_zone")
    def _tz(self, value, **_kw):
        if value not in available_timezones():
            raise ValidationError("not a known IANA time zone")


class PreferencesSchema(Schema):
    language = fields.String(required=True)
    time_zone = fields.String(required=True)
    channels = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                           required=True)
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True, required=True)
    phone = fields.String(allow_none=True, required=True)
    email = fields.String(allow_none=True, required=True)
    home = fields.Nested(HomeSchema, allow_none=True, required=True)


class WebhookCreateSchema(Strict):
    url = fields.Url(required=True, schemes={"https", "http"}, require_tld=False,
                     metadata={"description": "https (http only to hosts allowed for tests)"})
    description = Text(100, load_default=None, allow_none=True)


class WebhookSchema(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    description = fields.String(allow_none=True)
    created_at = fields.String(required=True)
    secret = fields.String(metadata={"description": "only in the answer to POST; keep it"})


class WebhookListSchema(Schema):
    items = fields.List(fields.Nested(WebhookSchema), required=True)


class AttemptSchema(Schema):
    at = fields.String(required=True)
    ok = fields.Boolean(required=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Float(required=True)


class ChannelDeliverySchema(Schema):
    id = fields.String(required=True)
    notification_id = fields.String(required=True)
    recipient_id = fields.String(required=True)
    channel = fields.String(required=True)
    status = fields.String(required=True)
    attempt_count = fields.Integer(required=True)
    attempts = fields.List(fields.Nested(AttemptSchema), required=True)
    next_attempt_at = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.String(required=True)
    updated_at = fields.String(required=True)


ChannelDeliveryPageSchema = page_of(ChannelDeliverySchema)


class DeliveryListArgs(Strict):
    status = fields.String(load_default="failed",
                           validate=validate.OneOf(["pending", "sending", "sent", "failed"]))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class NearSchema(Strict):
    location = fields.Nested(LocationSchema, required=True)
    walk_minutes = fields.Float(required=True, allow_nan=False,
                                validate=validate.Range(1, 60), metadata={"example": 15})


class AudienceSchema(Strict):
    near = fields.Nested(NearSchema)
    communities = fields.List(Text(80), validate=validate.Length(1, 50))

    @validates_schema
    def _one(self, data, **_kw):
        if bool(data.get("near")) == bool(data.get("communities")):
            raise ValidationError("give exactly one of near or communities")


class NoticeCreateSchema(Strict):
    title = Text(80, required=True)
    body = Text(2000, required=True)
    audience = fields.Nested(AudienceSchema, required=True)
    expires_at = Instant(load_default=None, allow_none=True)


class NoticeAudienceArgs(Strict):
    audience = fields.Nested(AudienceSchema, required=True)


class AudienceSizeSchema(Schema):
    recipients = fields.Integer(required=True, metadata={
        "description": "residents the notice would reach if posted now"})


class NoticeSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    audience = fields.Dict(required=True)
    expires_at = fields.String(allow_none=True)
    created_by = fields.String(required=True)
    created_at = fields.String(required=True)
    recipients = fields.Integer(required=True)


class NoticeListSchema(Schema):
    items = fields.List(fields.Nested(NoticeSchema), required=True)


class NoticeQueryArgs(Strict):
    lat = fields.Float(allow_nan=False, validate=validate.Range(-90, 90))
    lng = fields.Float(allow_nan=False, validate=validate.Range(-180, 180))
    community = Text(80)

    @validates_schema
    def _place(self, data, **_kw):
        has_point = "lat" in data and "lng" in data
        if ("lat" in data) != ("lng" in data):
            raise ValidationError("give lat and lng together")
        if not has_point and not data.get("community"):
            raise ValidationError("give lat and lng, or community")


class StreamArgs(Strict):
    class Meta:
        unknown = "exclude"

    last_event_id = fields.String(data_key="Last-Event-ID", load_default=None,
                                  validate=validate.Regexp(r"^[0-9]{1,18}$"))


SEQ_PATTERN = re.compile(r"^[0-9]{1,18}$")


# ------------------------------------------------------------------ feedback (意见反馈)


class FeedbackCreateSchema(Strict):
    kind = fields.String(load_default="feedback", validate=validate.OneOf(feedback_rules.KINDS))
    subject_type = fields.String(required=True,
                                 validate=validate.OneOf(feedback_rules.SUBJECT_TYPES),
                                 metadata={"description": "what it is about; shop, repair and "
                                                          "notice need subject_id"})
    subject_id = Id(load_default=None, allow_none=True,
                    metadata={"example": "mer_0123456789abcdef0123456789abcdef"})
    text = Text(2000, required=True, metadata={"example": "菜场入口的路灯坏了一周了"})
    photo_url = fields.Url(load_default=None, allow_none=True, schemes={"https"},
                           validate=validate.Length(max=500),
                           metadata={"description": "an https link to a photo the resident "
                                                    "uploaded elsewhere (docs/notifications.md)"})


class FeedbackReplySchema(Strict):
    text = Text(2000, load_default=None, allow_none=True)


class FeedbackAnswerSchema(Strict):
    text = Text(2000, required=True)


class FeedbackListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(feedback_rules.STATUSES))
    subject_type = fields.String(validate=validate.OneOf(feedback_rules.SUBJECT_TYPES))
    subject_id = Id()


class FeedbackSubjectSchema(Schema):
    type = fields.String(required=True)
    id = fields.String(allow_none=True)


class FeedbackAnswerViewSchema(Schema):
    by = fields.String(required=True)
    text = fields.String(allow_none=True)
    status = fields.String(required=True)
    at = fields.String(required=True)


class FeedbackSchema(Schema):
    id = fields.String(required=True)
    resident_id = fields.String(required=True)
    community = fields.String(required=True)
    kind = fields.String(required=True)
    subject = fields.Nested(FeedbackSubjectSchema, required=True)
    text = fields.String(required=True)
    photo_url = fields.String(allow_none=True)
    status = fields.String(required=True)
    answers = fields.List(fields.Nested(FeedbackAnswerViewSchema), required=True)
    created_at = fields.String(required=True)
    updated_at = fields.String(required=True)


FeedbackPageSchema = page_of(FeedbackSchema)


class PlannerCommunitiesSchema(Strict):
    sub = fields.String(required=True, metadata={"description": "the planner's subject"})

    @validates("sub")
    def _subject(self, value, **_kw):
        if not valid_subject(value):
            raise ValidationError("not a valid subject")
    communities = fields.List(Text(80), required=True, validate=validate.Length(0, 50))
