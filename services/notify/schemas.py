"""Notification payloads."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.common.schemas import page_of


class NotificationSchema(Schema):
    id = fields.String(required=True)
    category = fields.String(required=True)
    event_type = fields.String(required=True)
    correlation_id = fields.String(required=True, metadata={"description": "the order or repair"})
    title = fields.String(required=True)
    body = fields.String(required=True)
    read = fields.Boolean(required=True)
    created_at = fields.String(required=True)


class NotificationPageSchema(page_of(NotificationSchema, "NotificationPageBase")):
    unread_count = fields.Integer(required=True)
