"""Planning a new course, and booking a plan: a course row and every appointment in one
transaction, through ``scheduler.booking`` so each one passes every booking rule.

If anything was taken since the plan was made, booking raises ``Conflict`` naming the
appointment of the course and what is in the way; the caller's transaction then writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Action, record
from ..booking import AppointmentRequest, book_appointment
from ..booking.changes import AppointmentChange, publish
from ..db import write_transaction
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import (
    Appointment,
    AppointmentKind,
    Course,
    CourseStatus,
    Location,
    Patient,
    ProtocolVersion,
    Role,
    StaffMember,
    StaffPart,
)
from ..planning import (
    Placement,
    Plan,
    Preferences,
    Shape,
    build_shape,
    planned,
    to_epoch,
    violations,
    wanted_for_new_course,
)
from ..protocols import ProtocolDefinition, current_version, definition_of, get_protocol
from .others import (
    OtherCourse,
    has_override,
    lock_patient,
    not_before,
    other_dosing_courses,
    refuse_interleaving,
)
from .plan_request import Request, run_planner
from .preconditions import recorded_overrides, require_preconditions


@dataclass(frozen=True)
class ProposedAppointment:
    """One appointment of a proposal sent back to be booked."""

    key: str
    starts_at: dt.datetime
    room_id: int
    staff: tuple[tuple[int, StaffPart], ...]


@dataclass
class NewCourse:
    """What to plan: who, where, which protocol (version), from when, with what wishes."""

    patient_id: int
    location_id: int
    timezone: str
    version: ProtocolVersion
    definition: ProtocolDefinition
    preferences: Preferences
    earliest: dt.datetime
    #: Admin exceptions to a rule, each {"rule", "reason"}; recorded on the course when booked.
    overrides: list[dict[str, Any]] = field(default_factory=list)
    #: The patient's other active or paused dosing courses (``others.py``), once planned.
    other_courses: list[OtherCourse] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def new_course(
    session: Session,
    *,
    patient_id: int,
    location_id: int,
    protocol_id: int | None,
    protocol_version_id: int | None,
    preferences: Preferences,
    earliest: dt.datetime | None,
    now: dt.datetime,
    overrides: list[dict[str, Any]] | None = None,
) -> NewCourse:
    """Check and load what a new course refers to, and that the patient meets the protocol's
    preconditions (409 naming what is missing, unless ``overrides`` has an admin's exception
    {"rule", "reason"} for it)."""
    if session.get(Patient, patient_id) is None:
        raise ValidationFailed({"patient_id": f"no patient {patient_id}"})
    location = session.get(Location, location_id)
    if location is None or not location.active:
        raise ValidationFailed({"location_id": f"no location {location_id} in service"})
    if protocol_version_id is not None:
        version = session.get(ProtocolVersion, protocol_version_id)
        if version is None:
            raise ValidationFailed({"protocol_version_id": f"no version {protocol_version_id}"})
        if protocol_id is not None and version.protocol_id != protocol_id:
            raise ValidationFailed(
                {"protocol_version_id": f"version {version.id} is not of protocol {protocol_id}"}
            )
    elif protocol_id is not None:
        try:
            protocol = get_protocol(session, protocol_id)
        except NotFound:
            raise ValidationFailed({"protocol_id": f"no protocol {protocol_id}"}) from None
        version = current_version(session, protocol)
    else:
        raise ValidationFailed({"protocol_id": "give protocol_id or protocol_version_id"})
    if not version.protocol.active:
        raise ValidationFailed({"protocol_id": "this protocol is retired"})
    definition = definition_of(version)
    for name, staff_id, role in (
        ("clinician_id", preferences.clinician_id, Role.CLINICIAN),
        ("therapist_id", preferences.therapist_id, Role.THERAPIST),
    ):
        member = session.get(StaffMember, staff_id) if staff_id is not None else None
        if staff_id is not None and (member is None or role not in member.roles):
            raise ValidationFailed({f"preferences.{name}": f"no {role.value} {staff_id}"})
    if preferences.sessions_ahead is not None and not definition.open_ended_steps:
        raise ValidationFailed(
            {"preferences.sessions_ahead": "this protocol has no open-ended step"}
        )
    kept = require_preconditions(
        session, patient_id=patient_id, definition=definition, now=now, overrides=overrides or []
    )
    start = max(earliest or now, now)
    return NewCourse(
        patient_id, location_id, location.timezone, version, definition, preferences, start, kept
    )


def course_shape(request: NewCourse) -> Shape:
    prefs = request.preferences
    wanted = wanted_for_new_course(request.definition, prefs.include_optional, prefs.sessions_ahead)
    return build_shape(request.definition, wanted)


def planning_earliest(session: Session, request: NewCourse) -> dt.datetime:
    """When the new course may start: after the last dose of the patient's other dosing
    courses (loaded into ``request.other_courses``), unless an admin's exception says not."""
    request.other_courses = other_dosing_courses(session, request.patient_id)
    after = not_before(request.other_courses)
    if after is not None and not has_override(None, request.overrides):
        return max(request.earliest, after)
    return request.earliest


def plan_new_course(session: Session, request: NewCourse, *, release: bool = False) -> Plan:
    """A proposal for the whole course, after the patient's other dosing courses; writes
    nothing. ``release``: the caller has only read so far and holds no lock, so the session's
    transaction may end before the search (see ``Request.release``)."""
    earliest = planning_earliest(session, request)
    return run_planner(
        session,
        location_id=request.location_id,
        patient_id=request.patient_id,
        request=Request(
            shape=course_shape(request),
            preferences=request.preferences,
            earliest=earliest,
            release=release,
        ),
    )


def proposal_plan(request: NewCourse, items: list[ProposedAppointment]) -> Plan:
    """A proposal sent back by the client, checked against the protocol: every appointment
    present once, each with its parts, and every spacing rule kept (422 naming the item)."""
    shape = course_shape(request)
    by_key = {e.key: e for e in shape.elements}
    placements: list[Placement | None] = [None] * len(shape)
    errors: dict[str, list[str] | str] = {}
    seen: set[str] = set()
    for n, item in enumerate(items):
        element = by_key.get(item.key)
        if element is None:
            errors[f"appointments.{n}.key"] = f"{item.key!r} is not part of this course"
            continue
        if item.key in seen:
            errors[f"appointments.{n}.key"] = f"{item.key!r} is listed twice"
            continue
        seen.add(item.key)
        if sorted(p for _, p in item.staff) != sorted(element.parts):
            parts = ", ".join(p.value for p in element.parts)
            errors[f"appointments.{n}.staff"] = f"{element.title} needs exactly: {parts}"
            continue
        start = to_epoch(item.starts_at)
        placements[element.index] = Placement(
            start, start + element.seconds, item.room_id, item.staff, element.buffer_minutes * 60
        )
    missing = [e.key for e in shape.elements if e.key not in seen]
    if missing:
        errors["appointments"] = "missing: " + ", ".join(missing)
    if errors:
        raise ValidationFailed(errors, "This proposal does not match the protocol")
    position = {item.key: n for n, item in enumerate(items)}
    broken = violations(shape, placements, request.tz)
    if broken:
        found: dict[str, list[str] | str] = {}
        for index, message in broken:
            path = f"appointments.{position[shape.elements[index].key]}.starts_at"
            found.setdefault(path, []).append(message)  # type: ignore[union-attr]
        raise ValidationFailed(found, "This proposal breaks the protocol")
    return Plan(
        shape=shape,
        timezone=request.tz.key,
        appointments=planned(shape, placements, set()),
        failure=None,
        placements=placements,
    )


def book_course(
    session: Session, action: Action, request: NewCourse, plan: Plan
) -> tuple[Course, list[Appointment]]:
    """Create the course and book every appointment of a complete plan. Never commits."""
    if not plan.complete:
        assert plan.failure is not None
        raise Conflict(
            f"No complete plan: {plan.failure.message}",
            rule="no_plan",
            details={"failing": plan.failure.key},
        )
    lock_location(session, request.location_id)
    lock_patient(session, request.patient_id)
    if not has_override(None, request.overrides):
        doses = [
            (a.starts_at, a.ends_at) for a in plan.appointments if a.kind == AppointmentKind.DOSING
        ]
        others = other_dosing_courses(session, request.patient_id)
        refuse_interleaving(others, doses, "This course", new_course=True)
    course = Course(
        patient_id=request.patient_id,
        location_id=request.location_id,
        protocol_version_id=request.version.id,
        status=CourseStatus.ACTIVE,
        preferences=request.preferences.to_json(),
        exceptions=recorded_overrides(action, request.overrides),
        created_at=action.now,
        updated_at=action.now,
    )
    session.add(course)
    session.flush()
    record(
        session,
        action,
        "course",
        course.id,
        None,
        {
            "patient_id": course.patient_id,
            "location_id": course.location_id,
            "protocol_version_id": course.protocol_version_id,
            "status": course.status.value,
            **({"exceptions": course.exceptions} if course.exceptions else {}),
        },
        what="course.create",
    )
    booked = book_plan(session, action, course, plan, {})
    return course, booked


#: Plans made and booked optimistically before the last, serialized, attempt.
OPTIMISTIC_ATTEMPTS = 3


def plan_and_book(
    session: Session, action: Action, request: NewCourse
) -> tuple[Course, list[Appointment]]:
    """Plan and book in one call, committed. When a slot of the plan is taken meanwhile (a
    busy intake morning: every front desk's plan picks the same earliest times), plan again
    from what is booked now. The searches run outside any transaction; only the last attempt
    plans inside one, holding the location's row lock, so that concurrent plan-and-books at
    one location take turns and a 409 means the capacity is really gone."""
    for _attempt in range(OPTIMISTIC_ATTEMPTS):
        plan = plan_new_course(session, request, release=True)
        try:
            with write_transaction(session):
                return book_course(session, action, request, plan)
        except Conflict as error:
            if error.rule != "overlap":
                raise
    with write_transaction(session):
        lock_location(session, request.location_id)
        plan = plan_new_course(session, request)
        return book_course(session, action, request, plan)


def lock_location(session: Session, location_id: int) -> None:
    """Course bookings at one location take turns: each inserts a dozen claims, and two that
    insert in different orders into the exclusion constraint would deadlock on PostgreSQL
    (a course booking is a few milliseconds; SQLite's write lock serializes anyway)."""
    session.scalars(select(Location.id).where(Location.id == location_id).with_for_update()).first()


def book_plan(
    session: Session,
    action: Action,
    course: Course,
    plan: Plan,
    existing: dict[str, int],
) -> list[Appointment]:
    """Book the plan's new appointments (not its fixed ones) for ``course``, sessions before
    their pairs. ``existing``: element key -> id of appointments already booked."""
    ids = dict(existing)
    booked: list[Appointment] = []
    by_key = {a.key: a for a in plan.appointments}
    for element in plan.shape.elements:
        item = by_key.get(element.key)
        if item is None or item.fixed:
            continue
        paired_with = None
        if element.pair_of is not None:
            paired_with = ids.get(plan.shape.elements[element.pair_of].key)
        request = AppointmentRequest(
            kind=element.kind,
            patient_id=course.patient_id,
            location_id=course.location_id,
            room_id=item.room_id,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            staff=list(item.staff),
            buffer_minutes=element.buffer_minutes,
            course_id=course.id,
            step_key=element.step_key,
            sequence=element.sequence,
            paired_with_id=paired_with,
            room_kinds=frozenset(element.room_kinds),
        )
        try:
            appointment = book_appointment(session, request, action, publish_change=False)
        except Conflict as error:
            raise Conflict(
                f"{element.title}: {error.message}",
                rule=error.rule,
                conflicts=error.conflicts,
                details={"appointment_key": element.key},
            ) from None
        publish(
            session, AppointmentChange("created", appointment, action, within_course_booking=True)
        )
        ids[element.key] = appointment.id
        booked.append(appointment)
    return booked
