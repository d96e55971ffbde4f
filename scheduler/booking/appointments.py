"""Booking, moving, cancelling and progressing single appointments.

Functions here change rows but never commit: callers wrap them in ``db.write_transaction`` so
that a course booking, or a move with everything that follows it, is one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Action, jsonable, record
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import (
    Appointment,
    AppointmentKind,
    AppointmentStaff,
    AppointmentStatus,
    Closure,
    Location,
    Patient,
    Room,
    StaffMember,
    StaffPart,
    TimeOff,
)
from . import rules
from .changes import AppointmentChange, Snapshot, publish
from .conflicts import flush_claims, raise_if_overlapping, sync_claims

MAX_DURATION = dt.timedelta(hours=12)
STANDALONE_DOSING = (
    "a dose is booked through a course, never on its own: a one-off dose is a one-session "
    "course of the booster protocol (POST /api/courses)"
)


@dataclass
class AppointmentRequest:
    kind: AppointmentKind
    patient_id: int
    location_id: int
    room_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    staff: list[tuple[int, StaffPart]]
    buffer_minutes: int = 0
    status: AppointmentStatus = AppointmentStatus.SCHEDULED
    course_id: int | None = None
    step_key: str | None = None
    sequence: int | None = None
    paired_with_id: int | None = None
    internal_note: str = ""
    #: A protocol step's room kinds, narrower than the appointment kind's defaults.
    room_kinds: frozenset[str] | None = None
    uid: str | None = None
    extra_checks: list[str] = field(default_factory=list)


def snapshot(appointment: Appointment) -> dict[str, object]:
    """The audit log's view of an appointment. The internal note is left out on purpose."""
    return jsonable(
        {
            "uid": appointment.uid,
            "kind": appointment.kind,
            "status": appointment.status,
            "starts_at": appointment.starts_at,
            "ends_at": appointment.ends_at,
            "buffer_minutes": appointment.buffer_minutes,
            "location_id": appointment.location_id,
            "room_id": appointment.room_id,
            "patient_id": appointment.patient_id,
            "staff": [
                {"staff_id": p.staff_id, "part": p.part}
                for p in sorted(appointment.participants, key=lambda p: p.staff_id)
            ],
            "course_id": appointment.course_id,
            "paired_with_id": appointment.paired_with_id,
            "revision": appointment.revision,
            "cancel_reason": appointment.cancel_reason,
        }
    )


def get_appointment(session: Session, appointment_id: int, *, lock: bool = False) -> Appointment:
    query = select(Appointment).where(Appointment.id == appointment_id)
    if lock:
        query = query.with_for_update()
    appointment = session.scalars(query).first()
    if appointment is None:
        raise NotFound(f"No appointment {appointment_id}")
    return appointment


def book_appointment(
    session: Session,
    request: AppointmentRequest,
    action: Action,
    *,
    allow_past: bool = False,
    publish_change: bool = True,
) -> Appointment:
    """Check every booking rule for ``request`` and add the appointment with its claims."""
    if request.kind == AppointmentKind.DOSING and request.course_id is None:
        # The protocol carries what a dose needs (monitoring time, chair turnover, the
        # clinician, its integration session, the preconditions); a lone row would have none.
        raise ValidationFailed({"kind": STANDALONE_DOSING})
    _check_times(request.starts_at, request.ends_at, action.now, allow_past)
    if request.buffer_minutes < 0 or request.buffer_minutes > 240:
        raise ValidationFailed({"buffer_minutes": "must be between 0 and 240"})
    patient = session.get(Patient, request.patient_id)
    if patient is None:
        raise ValidationFailed({"patient_id": f"no patient {request.patient_id}"})
    location = _location(session, request.location_id)
    room = _room(session, request.room_id)
    participants = _participants(session, request.staff)

    appointment = Appointment(
        kind=request.kind,
        status=request.status,
        starts_at=request.starts_at,
        ends_at=request.ends_at,
        buffer_minutes=request.buffer_minutes,
        location_id=location.id,
        room_id=room.id,
        patient_id=patient.id,
        course_id=request.course_id,
        step_key=request.step_key,
        sequence=request.sequence,
        paired_with_id=request.paired_with_id,
        internal_note=request.internal_note,
        revision=1,
        created_at=action.now,
        updated_at=action.now,
    )
    if request.uid:
        appointment.uid = request.uid
    appointment.location = location
    appointment.room = room
    appointment.patient = patient
    appointment.participants = [
        AppointmentStaff(staff_id=member.id, staff=member, part=part)
        for member, part in participants
    ]
    check_rules(session, appointment, participants, room_kinds=request.room_kinds)
    session.add(appointment)
    session.flush()
    sync_claims(session, appointment)
    flush_claims(session, [appointment], ZoneInfo(location.timezone))
    record(
        session,
        action,
        "appointment",
        appointment.id,
        None,
        snapshot(appointment),
        what="appointment.create",
    )
    if publish_change:
        publish(session, AppointmentChange("created", appointment, action))
    return appointment


def reschedule_appointment(
    session: Session,
    appointment: Appointment,
    action: Action,
    *,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    room_id: int | None = None,
    staff: Sequence[tuple[int, StaffPart]] | None = None,
    room_kinds: frozenset[str] | None = None,
    allow_past: bool = False,
) -> Appointment:
    """Move an appointment in time, to another room, or to other staff. Keeps its UID."""
    _require_status(
        appointment, {AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED}, "moved"
    )
    before = snapshot(appointment)
    before_state = Snapshot.of(appointment)
    duration = appointment.ends_at - appointment.starts_at
    new_start = starts_at or appointment.starts_at
    new_end = ends_at or (new_start + duration)
    if starts_at is not None or ends_at is not None:
        _check_times(new_start, new_end, action.now, allow_past)
    room = _room(session, room_id) if room_id is not None else appointment.room
    if staff is not None:
        participants = _participants(session, staff)
    else:
        participants = [(p.staff, p.part) for p in appointment.participants]

    appointment.starts_at = new_start
    appointment.ends_at = new_end
    appointment.room_id = room.id
    appointment.room = room
    if staff is not None:
        appointment.participants = [
            AppointmentStaff(staff_id=m.id, staff=m, part=part) for m, part in participants
        ]
    if snapshot(appointment) == before:
        if appointment.is_live and not appointment.claims:
            # Released by ``reschedule_appointments`` and not moved after all: hold them again.
            sync_claims(session, appointment)
            flush_claims(session, [appointment], ZoneInfo(appointment.location.timezone))
        return appointment
    check_rules(session, appointment, participants, room_kinds=room_kinds)
    _bump(appointment, action)
    session.flush()
    sync_claims(session, appointment)
    flush_claims(session, [appointment], ZoneInfo(appointment.location.timezone))
    record(
        session,
        action,
        "appointment",
        appointment.id,
        before,
        snapshot(appointment),
        what="appointment.reschedule",
    )
    publish(session, AppointmentChange("rescheduled", appointment, action, before=before_state))
    return appointment


@dataclass
class Move:
    """One appointment's new time (and room or staff) within a move of several."""

    appointment: Appointment
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    room_id: int | None = None
    staff: Sequence[tuple[int, StaffPart]] | None = None
    room_kinds: frozenset[str] | None = None


def reschedule_appointments(
    session: Session, moves: Sequence[Move], action: Action, *, allow_past: bool = False
) -> list[Appointment]:
    """Move several appointments as one change (a session with its pair and those after it).

    Their claims are released first, so an appointment may take a time another one of the
    same move is leaving; each is then checked against everything else, including the new
    times of those moved before it, so the result holds no overlap. Each appointment gets its
    own revision and audit entry, all under ``action``.
    """
    for move in moves:
        _require_status(
            move.appointment, {AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED}, "moved"
        )
    if len({m.appointment.id for m in moves}) != len(moves):
        raise ValidationFailed({"moves": "an appointment is listed twice"})
    for move in moves:
        move.appointment.claims.clear()
    session.flush()
    return [
        reschedule_appointment(
            session,
            move.appointment,
            action,
            starts_at=move.starts_at,
            ends_at=move.ends_at,
            room_id=move.room_id,
            staff=move.staff,
            room_kinds=move.room_kinds,
            allow_past=allow_past,
        )
        for move in moves
    ]


def cancel_appointment(
    session: Session, appointment: Appointment, action: Action, reason: str
) -> Appointment:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "a cancellation reason is required"})
    _require_status(
        appointment,
        {AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN},
        "cancelled",
    )
    before = snapshot(appointment)
    before_state = Snapshot.of(appointment)
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancel_reason = reason[:300]
    appointment.cancelled_at = action.now
    _bump(appointment, action)
    sync_claims(session, appointment)
    session.flush()
    record(
        session,
        action,
        "appointment",
        appointment.id,
        before,
        snapshot(appointment),
        what="appointment.cancel",
    )
    publish(session, AppointmentChange("cancelled", appointment, action, before=before_state))
    return appointment


#: Which status each progress action needs, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[AppointmentStatus], AppointmentStatus]] = {
    "confirm": (frozenset({AppointmentStatus.SCHEDULED}), AppointmentStatus.CONFIRMED),
    "check_in": (
        frozenset({AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED}),
        AppointmentStatus.CHECKED_IN,
    ),
    "complete": (frozenset({AppointmentStatus.CHECKED_IN}), AppointmentStatus.COMPLETED),
    "no_show": (
        frozenset({AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED}),
        AppointmentStatus.NO_SHOW,
    ),
}


def progress_appointment(
    session: Session, appointment: Appointment, action: Action, step: str
) -> Appointment:
    """Confirm, check in, complete or mark as no-show, with the clinic's timing rules."""
    if step not in TRANSITIONS:
        raise ValidationFailed({"action": f"unknown action {step!r}"})
    allowed, target = TRANSITIONS[step]
    _require_status(appointment, set(allowed), step.replace("_", " "))
    tz = ZoneInfo(appointment.location.timezone)
    if step == "check_in":
        today = action.now.astimezone(tz).date()
        if (
            appointment.starts_at.astimezone(tz).date() != today
            or action.now >= appointment.ends_at
        ):
            raise Conflict(
                f"Check-in is only possible on the day of the appointment, before it ends "
                f"({rules.describe_span(tz, appointment.starts_at, appointment.ends_at)})",
                rule="check_in_day",
            )
    if step == "no_show" and action.now < appointment.starts_at:
        raise Conflict(
            "A no-show can only be recorded after the appointment's start", rule="no_show_time"
        )
    before = snapshot(appointment)
    before_state = Snapshot.of(appointment)
    appointment.status = target
    _bump(appointment, action)
    session.flush()
    record(
        session,
        action,
        "appointment",
        appointment.id,
        before,
        snapshot(appointment),
        what=f"appointment.{step}",
    )
    publish(session, AppointmentChange("status", appointment, action, before=before_state))
    return appointment


def check_rules(
    session: Session,
    appointment: Appointment,
    participants: Sequence[tuple[StaffMember, StaffPart]],
    *,
    room_kinds: Iterable[str] | None = None,
) -> None:
    """Every booking rule for one appointment, in the order a front desk would fix them."""
    location = appointment.location
    tz = ZoneInfo(location.timezone)
    start, end = appointment.starts_at, appointment.ends_at

    problem = rules.check_room(appointment.room, appointment.kind, location, room_kinds)
    if problem:
        raise Conflict(problem, rule="room_kind")
    problem = rules.check_parts(appointment.kind, participants)
    if problem:
        raise Conflict(problem, rule="staff_role")
    problem = rules.check_opening_hours(location, start, end)
    if problem:
        raise Conflict(problem, rule="opening_hours")
    closures = session.scalars(
        select(Closure).where(
            Closure.location_id == location.id,
            Closure.starts_on <= (end.astimezone(tz).date()),
            Closure.ends_on >= (start.astimezone(tz).date()),
        )
    ).all()
    problem = rules.check_closures(location, closures, start, end)
    if problem:
        raise Conflict(problem, rule="closure")
    for member, _part in participants:
        problem = rules.check_working_hours(member, location, start, end)
        if problem:
            raise Conflict(problem, rule="working_hours")
        time_off = session.scalars(
            select(TimeOff).where(
                TimeOff.staff_id == member.id, TimeOff.starts_at < end, TimeOff.ends_at > start
            )
        ).all()
        problem = rules.check_time_off(member, time_off, start, end, tz)
        if problem:
            raise Conflict(problem, rule="time_off")
    exclude = [appointment.id] if appointment.id is not None else []
    raise_if_overlapping(session, appointment, tz, exclude)


def _bump(appointment: Appointment, action: Action) -> None:
    appointment.revision += 1
    appointment.updated_at = action.now


def _require_status(appointment: Appointment, allowed: set[AppointmentStatus], verb: str) -> None:
    if appointment.status not in allowed:
        raise Conflict(
            f"Appointment {appointment.id} is {appointment.status.value.replace('_', ' ')} "
            f"and cannot be {verb}",
            rule="status",
        )


def _check_times(start: dt.datetime, end: dt.datetime, now: dt.datetime, allow_past: bool) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed({"starts_at": "must include a UTC offset"})
    if end <= start:
        raise ValidationFailed({"ends_at": "must be after starts_at"})
    if end - start > MAX_DURATION:
        raise ValidationFailed({"ends_at": "an appointment lasts at most 12 hours"})
    if not allow_past and start < now:
        raise ValidationFailed({"starts_at": "must be in the future"})


def _location(session: Session, location_id: int) -> Location:
    location = session.get(Location, location_id)
    if location is None:
        raise ValidationFailed({"location_id": f"no location {location_id}"})
    return location


def _room(session: Session, room_id: int) -> Room:
    room = session.get(Room, room_id)
    if room is None:
        raise ValidationFailed({"room_id": f"no room {room_id}"})
    return room


def _participants(
    session: Session, staff: Iterable[tuple[int, StaffPart]]
) -> list[tuple[StaffMember, StaffPart]]:
    result: list[tuple[StaffMember, StaffPart]] = []
    seen: set[int] = set()
    for staff_id, part in staff:
        if staff_id in seen:
            raise ValidationFailed({"staff": f"staff member {staff_id} is listed twice"})
        seen.add(staff_id)
        member = session.get(StaffMember, staff_id)
        if member is None:
            raise ValidationFailed({"staff": f"no staff member {staff_id}"})
        result.append((member, StaffPart(part)))
    return result
