"""Courses on the wire: planning requests and proposals, booked courses with their progress,
and previews of moves. Times are UTC instants with offsets, plus the location's wall clock."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from ...courses import CourseView, MovePreview, ProposedAppointment
from ...courses.numbering import SessionNumber, number_course
from ...courses.proposals import Names, Slot, Staff
from ...models import Appointment, AppointmentKind, AppointmentStatus, CourseStatus, StaffPart
from ...planning import Preferences
from ...protocols import definition_of
from .appointments import CancelSchema, ParticipantSchema
from .common import BoundedInt, Flag, Id, Instant, LocalTime, Text, Weekday

# -- requests -------------------------------------------------------------------------------


class PreferencesSchema(Schema):
    weekdays = fields.List(
        Weekday(),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=7),
        metadata={"description": "Days the patient can come (0 = Monday); null: any"},
    )
    earliest_time = LocalTime(
        load_default=None, allow_none=True, metadata={"description": "Start at or after"}
    )
    latest_time = LocalTime(load_default=None, allow_none=True, metadata={"description": "End by"})
    clinician_id = Id(load_default=None, allow_none=True)
    therapist_id = Id(load_default=None, allow_none=True)
    telehealth_ok = Flag(load_default=True)
    include_optional = Flag(
        load_default=False, metadata={"description": "Plan pairings the protocol marks optional"}
    )
    sessions_ahead = BoundedInt(
        1,
        26,
        load_default=None,
        allow_none=True,
        metadata={"description": "Open-ended steps: sessions to book now"},
    )

    @validates_schema
    def _hours(self, data: dict[str, Any], **_: Any) -> None:
        first, last = data.get("earliest_time"), data.get("latest_time")
        if first is not None and last is not None and last <= first:
            raise ValidationError("must be after earliest_time", "latest_time")


def preferences_from(data: dict[str, Any] | None) -> Preferences:
    data = data or {}
    weekdays = data.get("weekdays")
    return Preferences(
        weekdays=frozenset(weekdays) if weekdays is not None else None,
        earliest_time=data.get("earliest_time"),
        latest_time=data.get("latest_time"),
        clinician_id=data.get("clinician_id"),
        therapist_id=data.get("therapist_id"),
        telehealth_ok=data.get("telehealth_ok", True),
        include_optional=data.get("include_optional", False),
        sessions_ahead=data.get("sessions_ahead"),
    )


#: Rules an admin may override for a new course, with a reason recorded on the course.
OVERRIDABLE_RULES = (
    "precondition:completed_course",
    "precondition:rems_enrollment",
    "other_course",
)


class OverrideSchema(Schema):
    rule = fields.String(required=True, validate=validate.OneOf(OVERRIDABLE_RULES))
    reason = Text(max_length=300, min_length=1, required=True)


class PlanRequestSchema(Schema):
    patient_id = Id(required=True)
    location_id = Id(required=True)
    protocol_id = Id(
        load_default=None, allow_none=True, metadata={"description": "Its current version"}
    )
    protocol_version_id = Id(load_default=None, allow_none=True)
    earliest_start = Instant(
        load_default=None, allow_none=True, metadata={"description": "Default: now"}
    )
    preferences = fields.Nested(PreferencesSchema, load_default=None, allow_none=True)
    override = fields.List(
        fields.Nested(OverrideSchema),
        load_default=list,
        validate=validate.Length(max=len(OVERRIDABLE_RULES)),
        metadata={
            "description": "Admins only: depart from a rule the answer refused (409 `rule` "
            "precondition: the `missing` item's rule), with a reason recorded on the course "
            "and in the audit log. One object or a list."
        },
    )

    @pre_load
    def _one_override(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("override"), dict):
            return {**data, "override": [data["override"]]}
        return data


class StaffChoiceSchema(Schema):
    staff_id = Id(required=True)
    part = fields.Enum(StaffPart, by_value=True, required=True)


class ProposedAppointmentSchema(Schema):
    key = Text(max_length=60, required=True, metadata={"example": "dosing-1"})
    starts_at = Instant(required=True)
    room_id = Id(required=True)
    staff = fields.List(
        fields.Nested(StaffChoiceSchema), required=True, validate=validate.Length(min=1, max=4)
    )


def proposed_appointments(description: str) -> fields.List:
    return fields.List(
        fields.Nested(ProposedAppointmentSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": description},
    )


def proposed_items(data: dict[str, Any]) -> list[ProposedAppointment] | None:
    """The ``appointments`` of a request as the domain's items; None when left out."""
    if not data.get("appointments"):
        return None
    return [
        ProposedAppointment(
            key=item["key"],
            starts_at=item["starts_at"],
            room_id=item["room_id"],
            staff=tuple((s["staff_id"], s["part"]) for s in item["staff"]),
        )
        for item in data["appointments"]
    ]


class BookRequestSchema(PlanRequestSchema):
    appointments = proposed_appointments(
        "A proposal from POST /api/courses/plan; omit to plan and book"
    )


class SwapRequestSchema(PlanRequestSchema):
    appointments = proposed_appointments(
        "The proposal to swap in (from POST /api/courses/plan or an earlier swap); omit to "
        "start from the proposal POST /api/courses/plan gives"
    )
    key = Text(
        max_length=60,
        min_length=1,
        required=True,
        metadata={"example": "dosing-3", "description": "The appointment to move"},
    )
    starts_at = Instant(required=True, metadata={"description": "Its chosen start"})
    room_id = Id(load_default=None, allow_none=True, metadata={"description": "Default: any"})
    staff = fields.List(
        fields.Nested(StaffChoiceSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=4),
        metadata={"description": "Default: anyone free with the parts it needs"},
    )


class OtherTimesRequestSchema(PlanRequestSchema):
    appointments = proposed_appointments(
        "The proposal as it stands (checked against the protocol); omit to use the proposal "
        "POST /api/courses/plan gives"
    )
    key = Text(
        max_length=60,
        min_length=1,
        required=True,
        metadata={"example": "dosing-3", "description": "The appointment to find times for"},
    )


class CourseQuerySchema(Schema):
    patient_id = Id(strict=False, load_default=None)


class ReasonSchema(Schema):
    reason = Text(max_length=200, min_length=1, required=True)


class ResumeSchema(Schema):
    earliest_start = Instant(load_default=None, allow_none=True)


class ExtendSchema(Schema):
    sessions = BoundedInt(1, 26, required=True)
    earliest_start = Instant(load_default=None, allow_none=True)


def keep_integration() -> Flag:
    return Flag(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Required for a dose whose integration session is still to come "
            "(422 without it): true keeps that session, false cancels it too"
        },
    )


class CancelSessionSchema(Schema):
    reason = Text(max_length=200, min_length=1, required=True)
    keep_integration = keep_integration()


class AppointmentCancelSchema(CancelSchema):
    """The appointment route cancels a course's dose the same way as the course route."""

    keep_integration = keep_integration()


class PreviewRequestSchema(Schema):
    starts_at = Instant(required=True)
    room_id = Id(load_default=None, allow_none=True)
    staff = fields.List(
        fields.Nested(StaffChoiceSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=4),
    )


class ApplyMoveSchema(Schema):
    token = Text(max_length=20000, min_length=1, required=True, strip=False)


# -- answers --------------------------------------------------------------------------------


class IsoString(fields.String):
    """A date or time written as ISO 8601 text (documented as a plain string)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.isoformat()


class StaffRefSchema(Schema):
    staff_id = fields.Integer()
    part = fields.Enum(StaffPart, by_value=True)
    name = fields.String()


class PlacedSchema(Schema):
    """A named ``Slot``: a time, a room and staff."""

    starts_at = Instant()
    ends_at = Instant()
    local_starts_at = fields.String(metadata={"description": "In the location's time zone"})
    local_ends_at = fields.String()
    room_id = fields.Integer()
    room_name = fields.String()
    staff = fields.List(fields.Nested(StaffRefSchema), attribute="staff_refs")


#: What a proposed appointment reads from its slot (the attributes ``PlacedSchema`` dumps).
PLACED = frozenset(field.attribute or name for name, field in PlacedSchema().fields.items())


class ProposalAppointmentSchema(PlacedSchema):
    """A ``ProposedSession``: what it is, and where and when (its slot)."""

    key = fields.String()
    step_key = fields.String()
    kind = fields.Enum(AppointmentKind, by_value=True)
    sequence = fields.Integer()
    of = fields.Integer(allow_none=True, metadata={"description": "null: open-ended step"})
    label = fields.String()
    title = fields.String(metadata={"example": "dosing 3 of 6"})
    buffer_minutes = fields.Integer()
    pair_key = fields.String(allow_none=True)
    paired_with_key = fields.String(allow_none=True)

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr in PLACED:
            obj = obj.slot
        return super().get_attribute(obj, attr, default)


class AlternativeSchema(PlacedSchema):
    breaks = fields.List(fields.String(), metadata={"description": "Rules this time would break"})


class PlanReasonSchema(Schema):
    """Why a plan failed or what it could not honour, as data."""

    code = fields.String(
        metadata={
            "description": "closed_days, hours_too_short, latest_time, earliest_time, "
            "time_range, no_room, no_staff, no_staff_on_days, protocol_days, protocol_window, "
            "horizon, preferences, patient_busy, closed, fully_booked, not_found_in_time, "
            "pin_past, pin_breaks_rule (failures); preferred_staff_elsewhere, "
            "preferred_staff_busy, closure (notices)",
            "example": "latest_time",
        }
    )
    step = fields.String(
        metadata={"description": "The appointment key it concerns; empty: the whole course"}
    )
    cause = fields.String(
        metadata={"example": "A 100-minute infusion can't end by 09:00; the earliest end is 09:40."}
    )
    fix = fields.String(
        allow_none=True, metadata={"example": "Allow appointments to end at 09:40 or later."}
    )
    change = fields.Dict(
        metadata={
            "description": "The fix as changes to the request: preference fields (weekdays, "
            "earliest_time, latest_time, therapist_id, clinician_id; null drops one) or "
            "earliest_start",
            "example": {"latest_time": "09:40"},
        }
    )


class FailureSchema(Schema):
    key = fields.String()
    title = fields.String()
    message = fields.String(
        metadata={
            "example": "Infusion 4 of 6: No infusion chair with a clinician free between "
            "Tue 10 Mar and Thu 12 Mar 2026."
        }
    )
    exhausted = fields.Boolean(
        metadata={"description": "true: proved that no plan exists; false: time ran out"}
    )
    reasons = fields.List(
        fields.Nested(PlanReasonSchema), metadata={"description": "Main one first"}
    )
    alternatives_for = fields.String()
    alternatives = fields.List(fields.Nested(AlternativeSchema))


class OtherCourseSchema(Schema):
    course_id = fields.Integer()
    protocol = fields.String()
    status = fields.String()
    first_dose = IsoString()
    last_dose = IsoString()


class ProposalSchema(Schema):
    """A ``Proposal``."""

    complete = fields.Boolean()
    status = fields.String(
        metadata={
            "description": "complete; impossible (proved: the course cannot fit as asked); "
            "timed_out (neither a plan nor a proof within the planning budget)"
        }
    )
    notices = fields.List(
        fields.Nested(PlanReasonSchema),
        metadata={"description": "What a complete plan could not honour (a preferred therapist)"},
    )
    patient_id = fields.Integer()
    location_id = fields.Integer()
    timezone = fields.String()
    protocol_id = fields.Integer()
    protocol_version_id = fields.Integer()
    earliest_start = Instant()
    completes_at = Instant(allow_none=True)
    preferences = fields.Dict()
    appointments = fields.List(fields.Nested(ProposalAppointmentSchema), attribute="sessions")
    failure = fields.Nested(FailureSchema, allow_none=True)
    overrides = fields.List(
        fields.Nested(OverrideSchema),
        metadata={"description": "The admin's overrides this course would be booked with"},
    )
    other_courses = fields.List(
        fields.Nested(OtherCourseSchema),
        metadata={
            "description": "The patient's other active or paused dosing courses: this one is "
            "planned after their last dose (unless an admin's other_course exception)"
        },
    )


class SwapProposalSchema(ProposalSchema):
    changed = fields.List(
        fields.String(),
        attribute="changed_keys",
        metadata={
            "description": "Keys of the appointments not where they were: the swapped one and "
            "what had to follow it (its pair, later spacing)"
        },
    )


class OtherTimesSchema(ProposalSchema):
    alternatives_for = fields.String(metadata={"description": "The appointment asked about"})
    alternatives = fields.List(
        fields.Nested(AlternativeSchema),
        attribute="offered",
        metadata={
            "description": "Its earliest other times, one per day; one that breaks nothing "
            "can be sent to POST /api/courses/plan/swap"
        },
    )


class ProgressSchema(Schema):
    done = fields.Integer(metadata={"description": "Appointments completed"})
    total = fields.Integer(metadata={"description": "Appointments booked and not cancelled"})


class StepProgressSchema(Schema):
    key = fields.String()
    done = fields.Integer()
    booked = fields.Integer()
    planned = fields.Integer(allow_none=True, metadata={"description": "null: open-ended"})


class CourseItemSchema(Schema):
    """An appointment of a course (built by ``appointment_item``)."""

    id = fields.Integer()
    kind = fields.Enum(AppointmentKind, by_value=True)
    step_key = fields.String(allow_none=True)
    sequence = fields.Integer(allow_none=True)
    of = fields.Integer(
        allow_none=True,
        metadata={
            "description": "What the course delivers of this step (the protocol's count; a "
            "cancelled session does not lower it); null: open-ended or not numbered"
        },
    )
    number = fields.String(
        allow_none=True,
        metadata={
            "example": "5 of 6 (cancelled)",
            "description": "The session keeps its number; a cancelled one says so",
        },
    )
    status = fields.Enum(AppointmentStatus, by_value=True)
    starts_at = Instant()
    ends_at = Instant()
    local_starts_at = fields.String(metadata={"description": "In the location's time zone"})
    room_id = fields.Integer()
    staff = fields.List(fields.Nested(ParticipantSchema), attribute="participants")
    paired_with_id = fields.Integer(
        allow_none=True, metadata={"description": "On a paired session: its dosing session"}
    )
    pair_id = fields.Integer(
        allow_none=True, metadata={"description": "On a session: its live paired session"}
    )
    revision = fields.Integer()
    cancel_reason = fields.String(allow_none=True)


def appointment_item(
    a: Appointment,
    pairs: dict[int, int] | None = None,
    numbers: dict[int, SessionNumber] | None = None,
) -> dict[str, Any]:
    number = (numbers or {}).get(a.id)
    return {
        "id": a.id,
        "kind": a.kind,
        "step_key": a.step_key,
        "sequence": a.sequence,
        "of": number.of if number else None,
        "number": number.text if number else None,
        "status": a.status,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "local_starts_at": a.starts_at.astimezone(ZoneInfo(a.location.timezone)).isoformat(),
        "room_id": a.room_id,
        "participants": a.participants,
        "paired_with_id": a.paired_with_id,
        "pair_id": (pairs or {}).get(a.id),
        "revision": a.revision,
        "cancel_reason": a.cancel_reason,
    }


class CourseSummarySchema(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    location_id = fields.Integer()
    protocol_id = fields.Integer()
    protocol_name = fields.String()
    protocol_version_id = fields.Integer()
    protocol_version = fields.Integer(metadata={"description": "The version's number"})
    status = fields.Enum(CourseStatus, by_value=True)
    cancel_reason = fields.String(allow_none=True)
    created_at = Instant()
    updated_at = Instant()
    progress = fields.Nested(ProgressSchema)


class CourseSchema(CourseSummarySchema):
    timezone = fields.String()
    preferences = fields.Dict()
    exceptions = fields.List(
        fields.Dict(),
        metadata={
            "description": "Rules an admin let this course depart from: rule, reason, by (staff "
            "id), at"
        },
    )
    steps = fields.List(fields.Nested(StepProgressSchema))
    appointments = fields.List(
        fields.Nested(CourseItemSchema),
        metadata={"description": "In order, cancelled ones too (history)"},
    )


def course_json(view: CourseView, detail: bool = True) -> dict[str, Any]:
    course = view.course
    data: dict[str, Any] = {
        "id": course.id,
        "patient_id": course.patient_id,
        "location_id": course.location_id,
        "protocol_id": view.protocol.id,
        "protocol_name": view.protocol.name,
        "protocol_version_id": view.version.id,
        "protocol_version": view.version.number,
        "status": course.status,
        "cancel_reason": course.cancel_reason,
        "created_at": course.created_at,
        "updated_at": course.updated_at,
        "progress": {"done": view.done, "total": view.total},
    }
    if detail:
        numbers = number_course(definition_of(view.version), view.appointments)
        data.update(
            {
                "timezone": course.location.timezone,
                "preferences": course.preferences,
                "exceptions": course.exceptions or [],
                "steps": [
                    {"key": s.key, "done": s.done, "booked": s.booked, "planned": s.planned}
                    for s in view.steps
                ],
                "appointments": [
                    appointment_item(a, view.pairs, numbers) for a in view.appointments
                ],
            }
        )
    return data


class MoveSideSchema(PlacedSchema):
    pass


class PlannedMoveSchema(Schema):
    appointment_id = fields.Integer()
    title = fields.String()
    reason = fields.String(
        metadata={"enum": ["requested", "pair", "spacing"], "description": "Why it moves"}
    )
    revision = fields.Integer(metadata={"description": "Its revision now; applying raises it"})
    old = fields.Nested(MoveSideSchema, data_key="from")
    new = fields.Nested(MoveSideSchema, data_key="to")


class MovePreviewSchema(Schema):
    appointment_id = fields.Integer()
    course_id = fields.Integer(allow_none=True)
    moves = fields.List(fields.Nested(PlannedMoveSchema))
    fingerprint = fields.String(metadata={"description": "SHA-256 of exactly these moves"})
    token = fields.String(
        metadata={"description": "Send to POST .../reschedule to apply exactly this preview"}
    )


def move_preview(preview: MovePreview, names: Names, token: str) -> dict[str, Any]:
    def slot(start: dt.datetime, end: dt.datetime, room_id: int, staff: Staff) -> Slot:
        return Slot(start, end, room_id, staff, names=names)

    return {
        "appointment_id": preview.appointment_id,
        "course_id": preview.course_id,
        "fingerprint": preview.fingerprint,
        "token": token,
        "moves": [
            {
                "appointment_id": m.appointment_id,
                "title": m.title,
                "reason": m.reason,
                "revision": m.revision,
                "old": slot(m.old_start, m.old_end, m.old_room_id, m.old_staff),
                "new": slot(m.starts_at, m.ends_at, m.room_id, m.staff),
            }
            for m in preview.moves
        ],
    }


class MovedSchema(Schema):
    appointment_id = fields.Integer()
    moved = fields.List(fields.Nested(CourseItemSchema))


class CancelledSchema(Schema):
    cancelled = fields.List(fields.Nested(CourseItemSchema))
