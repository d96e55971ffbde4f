"""Reminders, the outbox and reminder templates as the API shows them."""

from __future__ import annotations

from marshmallow import Schema, fields

from ...models import MessageKind, ReminderChannel, ReminderStatus
from .common import BoundedInt, Id, Instant, Text


class ReminderSchema(Schema):
    id = Id(dump_only=True)
    appointment_id = Id(dump_only=True, allow_none=True)
    course_id = Id(dump_only=True, allow_none=True)
    kind = fields.Enum(MessageKind, by_value=True, dump_only=True)
    channel = fields.Enum(ReminderChannel, by_value=True, dump_only=True)
    template = fields.String(dump_only=True)
    offset_minutes = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "For reminders: minutes before the start the policy asked for"},
    )
    due_at = Instant(
        dump_only=True, metadata={"description": "When it goes out, quiet hours applied"}
    )
    next_attempt_at = Instant(dump_only=True)
    status = fields.Enum(ReminderStatus, by_value=True, dump_only=True)
    attempts = fields.Integer(dump_only=True)
    last_error = fields.String(dump_only=True, allow_none=True)
    skip_reason = fields.String(dump_only=True, allow_none=True)
    sent_at = Instant(dump_only=True, allow_none=True)
    claimed_at = Instant(dump_only=True, allow_none=True)
    claimed_by = fields.String(dump_only=True, allow_none=True)
    resend_count = fields.Integer(dump_only=True)


class OutboxMessageSchema(Schema):
    id = Id(dump_only=True)
    reminder_id = Id(dump_only=True, allow_none=True)
    channel = fields.Enum(ReminderChannel, by_value=True, dump_only=True)
    recipient = fields.String(dump_only=True)
    subject = fields.String(dump_only=True)
    body_text = fields.String(dump_only=True)
    body_html = fields.String(dump_only=True, allow_none=True)
    attachment_name = fields.String(dump_only=True, allow_none=True)
    attachment = fields.String(dump_only=True, allow_none=True)
    message_id = fields.String(dump_only=True)
    created_at = Instant(dump_only=True)


class ListQuerySchema(Schema):
    limit = BoundedInt(1, 200, strict=False, load_default=50)
    offset = BoundedInt(0, 1_000_000, strict=False, load_default=0)


class OutboxQuerySchema(ListQuerySchema):
    channel = fields.Enum(ReminderChannel, by_value=True, load_default=None)


class ReminderTemplateSchema(Schema):
    name = fields.String(dump_only=True)
    subject = fields.String(dump_only=True)
    body_text = fields.String(dump_only=True)
    body_html = fields.String(dump_only=True)
    sms_text = fields.String(dump_only=True)
    customized = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": "Parts an admin changed; the others are the packaged default"},
    )


class ReminderTemplateUpdateSchema(Schema):
    """Jinja sources (sandboxed). An empty string puts a part back to the packaged default."""

    subject = Text(max_length=300, strip=False)
    body_text = Text(max_length=20000, strip=False)
    body_html = Text(max_length=40000, strip=False)
    sms_text = Text(max_length=1000, strip=False)
