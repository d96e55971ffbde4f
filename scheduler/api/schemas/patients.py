"""Patients. Notes are clinical free text for staff who may see the patient."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from ...models import AppointmentKind, FeedPrivacy
from .common import Day, Email, Flag, Id, Instant, LocalTime, Text, Timezone

MAX_REMINDER_HOURS = 24 * 14


def _printable(value: str) -> None:
    if not value.isprintable():
        raise ValidationError("must be printable characters only")


class PatientSchema(Schema):
    id = Id(dump_only=True)
    first_name = Text(required=True, min_length=1, max_length=80)
    last_name = Text(required=True, min_length=1, max_length=80)
    date_of_birth = Day(required=True)
    email = Email(allow_none=True, load_default=None)
    phone = Text(
        max_length=40,
        allow_none=True,
        load_default=None,
        validate=[validate.Regexp(r"^\+?[0-9 ()./-]{3,40}$", error="not a phone number")],
    )
    timezone = Timezone(required=True)
    remind_by_email = Flag(load_default=True)
    remind_by_sms = Flag(load_default=False)
    reminder_overrides = fields.Dict(
        keys=Text(max_length=20, validate=validate.OneOf([k.value for k in AppointmentKind])),
        values=fields.List(
            fields.Float(allow_nan=False, validate=validate.Range(min=0, max=MAX_REMINDER_HOURS)),
            validate=validate.Length(max=10),
        ),
        load_default=dict,
        metadata={"description": 'Hours before each kind, e.g. {"dosing": [48, 2]}'},
    )
    quiet_hours_start = LocalTime(metadata={"description": "Local; default 21:00"})
    quiet_hours_end = LocalTime(metadata={"description": "Local; default 08:00"})
    feed_privacy = fields.Enum(FeedPrivacy, by_value=True, load_default=FeedPrivacy.MINIMAL)
    rems_enrolled_on = Day(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "Esketamine (Spravato) REMS enrollment date; with rems_number, or "
            "both null. Staff only: never in feeds or reminders"
        },
    )
    rems_number = Text(
        min_length=1,
        max_length=40,
        allow_none=True,
        load_default=None,
        validate=[_printable],
        metadata={"description": "The patient's REMS enrollment number"},
    )
    notes = Text(max_length=20000, load_default="", strip=False)
    created_at = Instant(dump_only=True)


class PatientUpdateSchema(PatientSchema):
    pass
