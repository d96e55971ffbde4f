"""Appointments on the wire: UTC instants with offsets, the same times in the location's zone,
and the staff taking part."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import g
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...auth.api import current_actor
from ...auth.permissions import can_view_patient
from ...db import db
from ...models import Appointment, AppointmentKind, AppointmentStatus, StaffPart
from .common import BoundedInt, Id, Instant, PageQuerySchema, Text

MAX_MINUTES = 12 * 60


def _local(appointment: Appointment, moment: Any) -> str:
    return moment.astimezone(ZoneInfo(appointment.location.timezone)).isoformat()


def note_visible(appointment: Appointment) -> bool:
    """The internal note goes only to staff allowed to see the patient (cached per request)."""
    cache: dict[int, bool] = g.setdefault("_note_visible", {})
    if appointment.patient_id not in cache:
        cache[appointment.patient_id] = can_view_patient(
            db.session, current_actor(), appointment.patient_id
        )
    return cache[appointment.patient_id]


def needs_attention(appointment: Appointment) -> dict[str, str] | None:
    if appointment.attention_rule is None:
        return None
    since = appointment.attention_since
    return {
        "rule": appointment.attention_rule,
        "message": appointment.attention_message or "",
        "since": since.isoformat() if since else "",
    }


class ParticipantSchema(Schema):
    staff_id = Id(required=True)
    name = fields.Function(lambda p: p.staff.name, dump_only=True)
    part = fields.Enum(StaffPart, by_value=True, required=True)


class AppointmentSchema(Schema):
    id = fields.Integer()
    uid = fields.String(metadata={"description": "iCalendar UID; never changes"})
    kind = fields.Enum(AppointmentKind, by_value=True)
    status = fields.Enum(AppointmentStatus, by_value=True)
    starts_at = Instant()
    ends_at = Instant()
    local_starts_at = fields.Function(
        lambda a: _local(a, a.starts_at),
        metadata={"type": "string", "description": "Start in the location's time zone"},
    )
    local_ends_at = fields.Function(
        lambda a: _local(a, a.ends_at),
        metadata={"type": "string", "description": "End in the location's time zone"},
    )
    timezone = fields.Function(lambda a: a.location.timezone, metadata={"type": "string"})
    buffer_minutes = fields.Integer()
    location_id = fields.Integer()
    room_id = fields.Integer()
    patient_id = fields.Integer()
    staff = fields.List(fields.Nested(ParticipantSchema), attribute="participants")
    course_id = fields.Integer(allow_none=True)
    step_key = fields.String(allow_none=True)
    sequence = fields.Integer(allow_none=True)
    paired_with_id = fields.Integer(allow_none=True)
    revision = fields.Integer(metadata={"description": "Rises on every change"})
    cancel_reason = fields.String(allow_none=True)
    created_at = Instant()
    updated_at = Instant()
    internal_note = fields.Function(
        lambda a: a.internal_note if note_visible(a) else None,
        allow_none=True,
        metadata={"type": "string", "description": "Staff-only; null when not yours to see"},
    )
    needs_attention = fields.Function(
        needs_attention,
        allow_none=True,
        metadata={
            "type": "object",
            "description": "Null, or the rule this session now breaks (`rule`, `message`, "
            "`since`): a change after booking (a closure, time off, a cancelled pair) that the "
            "front desk must resolve; see GET /api/attention",
        },
    )


class _Timing(Schema):
    starts_at = Instant()
    ends_at = Instant()
    duration_minutes = BoundedInt(1, MAX_MINUTES)

    @validates_schema
    def _one_end(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "ends_at" in data and "duration_minutes" in data:
            raise ValidationError("give ends_at or duration_minutes, not both", "duration_minutes")


class AppointmentCreateSchema(_Timing):
    kind = fields.Enum(AppointmentKind, by_value=True, required=True)
    patient_id = Id(required=True)
    room_id = Id(required=True)
    location_id = Id(metadata={"description": "Defaults to the room's location"})
    starts_at = Instant(required=True)
    staff = fields.List(
        fields.Nested(ParticipantSchema),
        load_default=list,
        validate=validate.Length(max=6),
        metadata={"description": "Who takes part, and as what"},
    )
    buffer_minutes = BoundedInt(0, 240, load_default=0)
    internal_note = Text(max_length=5000, load_default="", strip=False)

    @validates_schema
    def _has_end(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "ends_at" not in data and "duration_minutes" not in data:
            raise ValidationError("give ends_at or duration_minutes", "duration_minutes")


class AppointmentUpdateSchema(_Timing):
    room_id = Id()
    staff = fields.List(fields.Nested(ParticipantSchema), validate=validate.Length(max=6))
    revision = BoundedInt(
        1,
        2**31 - 1,
        metadata={"description": "If given, the change is refused (409) unless it is current"},
    )


class CancelSchema(Schema):
    reason = Text(required=True, min_length=1, max_length=300)


class AppointmentQuerySchema(PageQuerySchema):
    staff_id = Id(strict=False)
    room_id = Id(strict=False)
    patient_id = Id(strict=False)
    location_id = Id(strict=False)
    starts_from = Instant(data_key="from", metadata={"description": "Ends after this instant"})
    until = Instant(data_key="to", metadata={"description": "Starts before this instant"})
    status = fields.Enum(AppointmentStatus, by_value=True)
    kind = fields.Enum(AppointmentKind, by_value=True)
