"""The shape of a protocol document (JSON), checked field by field before its rules are.

The same schemas describe the document in the API's OpenAPI description.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ..models import AppointmentKind, RoomKind, Route, StaffPart
from .spans import Span, SpanError

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
#: What a course of a protocol can count as, for other protocols' ``completed_course`` rule.
#: A closed list: a typo would otherwise make a protocol's requirement impossible to meet.
COURSE_KINDS = ("induction", "booster", "maintenance")
#: Machine-checked preconditions a protocol can require before a course's first session.
REQUIREMENT_RULES = ("completed_course", "rems_enrollment")


class SpanField(fields.String):
    """ "48h", "7d": see ``scheduler.protocols.spans``."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "pattern": r"^\d{1,4}(\.\d{1,2})?(m|h|d|w)$",
            "example": "48h",
            "description": "m/h: elapsed minutes/hours; d/w: days/weeks on the local wall clock",
        }
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return str(Span.parse(text))
        except SpanError as error:
            raise ValidationError(str(error)) from None


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("must not contain NUL characters")


def _text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(max=max_length), _no_nul], **kwargs)


def _key(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=[
            validate.Regexp(
                KEY_PATTERN, error="must be lower-case letters, digits and _ (at most 40)"
            )
        ],
        **kwargs,
    )


def _enum_list(enum_cls: type, **kwargs: Any) -> fields.List:
    return fields.List(
        fields.Enum(enum_cls, by_value=True),
        validate=validate.Length(min=1, max=8),
        **kwargs,
    )


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class PhaseSchema(_Strict):
    label = _text(80, load_default="")
    count = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Sessions in this phase; null: open-ended (last phase only)"},
    )
    min_gap = SpanField(
        load_default=None,
        allow_none=True,
        metadata={"description": "Least time from the previous session's start"},
    )
    max_gap = SpanField(
        load_default=None,
        allow_none=True,
        metadata={"description": "Most time from the previous session's start"},
    )
    weeks_from = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=520),
        metadata={"description": "First course week (1 = the week of the step's first session)"},
    )
    weeks_to = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=520)
    )
    per_week = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=7),
        metadata={"description": "Most sessions in one course week"},
    )


class PrerequisiteSchema(_Strict):
    step = _key(required=True)
    min_gap = SpanField(
        load_default="0m", metadata={"description": "Least time after that step's last end"}
    )
    max_gap = SpanField(load_default=None, allow_none=True)


class PairingSchema(_Strict):
    key = _key(required=True, metadata={"example": "integration"})
    kind = fields.Enum(AppointmentKind, by_value=True, load_default=AppointmentKind.INTEGRATION)
    label = _text(80, required=True)
    anchor = fields.String(
        load_default="end",
        validate=validate.OneOf(["start", "end"]),
        metadata={"description": "Measure the window from the paired session's start or end"},
    )
    min_after = SpanField(required=True)
    max_after = SpanField(required=True)
    same_day = fields.Boolean(load_default=False)
    minutes = fields.Integer(strict=True, required=True, validate=validate.Range(min=5, max=720))
    buffer_minutes = fields.Integer(
        strict=True, load_default=0, validate=validate.Range(min=0, max=240)
    )
    staff = _enum_list(StaffPart, required=True)
    room_kinds = _enum_list(RoomKind, required=True)
    optional = fields.Boolean(load_default=False)
    instructions = _text(2000, load_default="")
    reminder_hours = fields.List(
        fields.Float(validate=validate.Range(min=0, max=24 * 14)),
        load_default=list,
        validate=validate.Length(max=6),
    )


class FollowUpSchema(_Strict):
    description = _text(300, required=True)
    due_within = SpanField(required=True)


class StepSchema(_Strict):
    key = _key(required=True, metadata={"example": "dosing"})
    kind = fields.Enum(AppointmentKind, by_value=True, required=True)
    label = _text(80, required=True)
    administration_minutes = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=720)
    )
    monitoring_minutes = fields.Integer(
        strict=True, load_default=0, validate=validate.Range(min=0, max=720)
    )
    buffer_minutes = fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0, max=240),
        metadata={"description": "Room turnover after the session (cleaning, set-up)"},
    )
    room_kinds = _enum_list(RoomKind, required=True)
    staff = _enum_list(StaffPart, required=True)
    phases = fields.List(
        fields.Nested(PhaseSchema), required=True, validate=validate.Length(min=1, max=8)
    )
    window = SpanField(
        load_default=None,
        allow_none=True,
        metadata={"description": "All sessions of the step end within this of the first start"},
    )
    book_ahead = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=26),
        metadata={"description": "Open-ended steps: sessions booked at a time"},
    )
    after = fields.List(
        fields.Nested(PrerequisiteSchema), load_default=list, validate=validate.Length(max=8)
    )
    pairing = fields.Nested(PairingSchema, load_default=None, allow_none=True)
    instructions = _text(2000, load_default="")
    reminder_hours = fields.List(
        fields.Float(validate=validate.Range(min=0, max=24 * 14)),
        load_default=list,
        validate=validate.Length(max=6),
    )
    follow_up = fields.Nested(FollowUpSchema, load_default=None, allow_none=True)


class RequirementSchema(_Strict):
    rule = fields.String(
        required=True,
        validate=validate.OneOf(REQUIREMENT_RULES),
        metadata={
            "description": "completed_course: the patient has another course, completed, of a "
            "protocol that counts as `of`; rems_enrollment: the patient's REMS enrollment date "
            "and number are on record"
        },
    )
    of = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(COURSE_KINDS),
        metadata={"description": "completed_course only: what the earlier course counts as"},
    )

    @validates_schema
    def _of(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("rule") == "completed_course" and data.get("of") is None:
            raise ValidationError("completed_course needs `of` (e.g. induction)", "of")
        if data.get("rule") == "rems_enrollment" and data.get("of") is not None:
            raise ValidationError("rems_enrollment takes no `of`", "of")


class ProtocolDocumentSchema(_Strict):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=160), _no_nul])
    route = fields.Enum(Route, by_value=True, required=True)
    description = _text(2000, load_default="")
    preconditions = fields.List(
        fields.String(validate=[validate.Length(min=1, max=300), _no_nul]),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={
            "description": "Checklist before the first session, in words; `requires` holds the "
            "ones the scheduler checks"
        },
    )
    counts_as = fields.List(
        fields.String(validate=validate.OneOf(COURSE_KINDS)),
        load_default=list,
        validate=validate.Length(max=len(COURSE_KINDS)),
        metadata={"description": 'What a course of this protocol counts as, e.g. ["induction"]'},
    )
    requires = fields.List(
        fields.Nested(RequirementSchema),
        load_default=list,
        validate=validate.Length(max=8),
        metadata={
            "description": "Checked before a course is planned or booked (409 naming what is "
            "missing; an admin may override with a reason)",
            "example": [{"rule": "completed_course", "of": "induction"}],
        },
    )
    instructions = _text(4000, load_default="")
    steps = fields.List(
        fields.Nested(StepSchema), required=True, validate=validate.Length(min=1, max=12)
    )


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested errors as dotted field paths: ``steps.1.phases.0.count``."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    if isinstance(messages, str):
        return {prefix or "_schema": [messages]}
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for sub, texts in flatten_errors(value, path).items():
                flat.setdefault(sub, []).extend(texts)
    return flat
