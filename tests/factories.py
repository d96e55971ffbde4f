"""Short, readable test data: ``make.location()``, ``make.staff(roles=...)``, ``make.clinic()``."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.audit import Action, record
from scheduler.auth.passwords import set_password
from scheduler.booking import AppointmentRequest, book_appointment
from scheduler.booking.appointments import _check_times, check_rules, snapshot
from scheduler.booking.changes import AppointmentChange, publish
from scheduler.booking.conflicts import flush_claims, sync_claims
from scheduler.courses import NewCourse, ProposedAppointment, book_course, new_course
from scheduler.courses.booking import course_shape, plan_new_course, proposal_plan
from scheduler.db import write_transaction
from scheduler.models import (
    Appointment,
    AppointmentKind,
    AppointmentStaff,
    Closure,
    Course,
    Location,
    OpeningHours,
    Patient,
    Protocol,
    Role,
    Room,
    RoomKind,
    StaffMember,
    StaffPart,
    TimeOff,
    WorkingHours,
)
from scheduler.planning import Plan, Preferences
from scheduler.protocols import create_protocol, seed_protocols

PASSWORD = "correct-horse-battery"
WEEKDAYS = range(0, 5)


@dataclass
class BookedCourse:
    course: Course
    appointments: list[Appointment]  # in time order
    plan: Plan


@dataclass
class Clinic:
    location: Location
    chair: Room
    therapy_room: Room
    telehealth: Room
    clinician: StaffMember
    therapist: StaffMember
    front_desk: StaffMember
    admin: StaffMember
    patient: Patient


class Factory:
    def __init__(self, session: Session, now: dt.datetime) -> None:
        self.session = session
        self.now = now
        self._seq = itertools.count(1)

    def _save(self, obj: object) -> None:
        # Flushed, not committed: the test's transaction is rolled back at its end.
        self.session.add(obj)
        self.session.flush()

    def location(
        self,
        name: str | None = None,
        timezone: str = "America/New_York",
        hours: tuple[dt.time, dt.time] = (dt.time(8), dt.time(18)),
        weekdays: range | list[int] = WEEKDAYS,
    ) -> Location:
        loc = Location(
            name=name or f"Location {next(self._seq)}",
            timezone=timezone,
            address="1 Main Street",
        )
        loc.opening_hours = [
            OpeningHours(weekday=d, opens=hours[0], closes=hours[1]) for d in weekdays
        ]
        self._save(loc)
        return loc

    def room(
        self,
        location: Location,
        kind: RoomKind = RoomKind.INFUSION_CHAIR,
        name: str | None = None,
        **kw: object,
    ) -> Room:
        room = Room(
            location_id=location.id, kind=kind, name=name or f"{kind.value} {next(self._seq)}", **kw
        )
        self._save(room)
        return room

    def staff(
        self,
        roles: list[Role] | tuple[Role, ...] = (Role.CLINICIAN,),
        location: Location | None = None,
        name: str | None = None,
        email: str | None = None,
        hours: tuple[dt.time, dt.time] = (dt.time(8), dt.time(18)),
        weekdays: range | list[int] = WEEKDAYS,
        password: str = PASSWORD,
    ) -> StaffMember:
        n = next(self._seq)
        member = StaffMember(
            name=name or f"Staff Member{n}", email=email or f"staff{n}@example.org"
        )
        member.set_roles(list(roles))
        set_password(member, password)
        if location is not None:
            member.working_hours = [
                WorkingHours(location_id=location.id, weekday=d, starts=hours[0], ends=hours[1])
                for d in weekdays
            ]
        self._save(member)
        return member

    def patient(
        self,
        first_name: str = "Avery",
        last_name: str | None = None,
        timezone: str = "America/New_York",
        **kw: object,
    ) -> Patient:
        n = next(self._seq)
        patient = Patient(
            first_name=first_name,
            last_name=last_name or f"Patient{n}",
            date_of_birth=dt.date(1985, 5, 17),
            email=f"patient{n}@example.org",
            phone="+15550100",
            timezone=timezone,
            **kw,
        )
        self._save(patient)
        return patient

    def closure(
        self,
        location: Location,
        day: dt.date,
        until: dt.date | None = None,
        reason: str = "Holiday",
    ) -> Closure:
        closure = Closure(
            location_id=location.id, starts_on=day, ends_on=until or day, reason=reason
        )
        self._save(closure)
        return closure

    def time_off(self, member: StaffMember, start: dt.datetime, end: dt.datetime) -> TimeOff:
        off = TimeOff(staff_id=member.id, starts_at=start, ends_at=end, reason="Leave")
        self._save(off)
        return off

    def clinic(self, timezone: str = "America/New_York") -> Clinic:
        loc = self.location(timezone=timezone)
        return Clinic(
            location=loc,
            chair=self.room(loc, RoomKind.INFUSION_CHAIR, "Chair 1"),
            therapy_room=self.room(loc, RoomKind.THERAPY_ROOM, "Therapy 1"),
            telehealth=self.room(
                loc, RoomKind.TELEHEALTH, "Video 1", video_url="https://video.example.org/room1"
            ),
            clinician=self.staff([Role.CLINICIAN], loc, name="Casey Clinician"),
            therapist=self.staff([Role.THERAPIST], loc, name="Dana Therapist"),
            front_desk=self.staff([Role.FRONT_DESK], loc, name="Frankie Desk"),
            admin=self.staff([Role.ADMIN], loc, name="Alex Admin"),
            patient=self.patient(),
        )

    def protocol(self, which: str | dict[str, Any] = "IV") -> Protocol:
        """A protocol: a seed protocol by the start of its name (seeded on first use), or one
        made from ``which``, a document in the schema's shape, as an admin makes it."""
        action = Action("test", None, self.now)
        if isinstance(which, dict):
            document = {**which, "name": f"{which['name']} {next(self._seq)}"}
            return create_protocol(self.session, action, document)
        protocols = list(self.session.scalars(select(Protocol)))
        if not any(p.name.startswith(which) for p in protocols):
            seed_protocols(self.session, action)
            self.session.flush()
            protocols = list(self.session.scalars(select(Protocol)))
        return next(p for p in protocols if p.name.startswith(which))

    def course(
        self,
        clinic: Clinic,
        protocol: Protocol | str | dict[str, Any] = "IV",
        *,
        patient: Patient | None = None,
        preferences: Preferences | None = None,
        earliest: dt.datetime | None = None,
    ) -> NewCourse:
        """A checked request for a new course (what ``POST /api/courses`` turns its body into)."""
        if not isinstance(protocol, Protocol):
            protocol = self.protocol(protocol)
        return new_course(
            self.session,
            patient_id=(patient or clinic.patient).id,
            location_id=clinic.location.id,
            protocol_id=protocol.id,
            protocol_version_id=None,
            preferences=preferences or Preferences(),
            earliest=earliest,
            now=self.now,
        )

    def booked_course(
        self,
        clinic: Clinic,
        protocol: Protocol | str | dict[str, Any] = "IV",
        *,
        at: list[dt.datetime] | None = None,
        patient: Patient | None = None,
        preferences: Preferences | None = None,
        earliest: dt.datetime | None = None,
        rooms: list[Room] | None = None,
    ) -> BookedCourse:
        """A course booked the way the front desk books one: planned by the planner, or at the
        times ``at`` (one per session, in the protocol's order, each checked against the
        protocol as a proposal sent back by a client is; each session followed by its paired
        one). Rooms and staff come from ``clinic`` (``rooms``: the rooms to prefer, in order)."""
        request = self.course(
            clinic, protocol, patient=patient, preferences=preferences, earliest=earliest
        )
        if at is None:
            plan = plan_new_course(self.session, request)
            assert plan.complete, plan.failure
        else:
            plan = proposal_plan(request, self._proposal(clinic, request, at, rooms))
        with write_transaction(self.session):
            course, booked = book_course(
                self.session, Action("course.book", None, self.now), request, plan
            )
        return BookedCourse(course, sorted(booked, key=lambda a: a.starts_at), plan)

    def _proposal(
        self,
        clinic: Clinic,
        request: NewCourse,
        at: list[dt.datetime],
        rooms: list[Room] | None = None,
    ) -> list[ProposedAppointment]:
        shape = course_shape(request)
        assert len(at) == len(shape.elements), f"{len(shape.elements)} sessions, {len(at)} times"
        # In the order the patient lives them: each session followed by its paired one.
        elements = sorted(
            shape.elements,
            key=lambda e: (e.pair_of if e.pair_of is not None else e.index, e.is_pairing),
        )
        rooms = [*(rooms or []), clinic.chair, clinic.therapy_room, clinic.telehealth]
        people = {
            StaffPart.ADMINISTERING_CLINICIAN: clinic.clinician,
            StaffPart.EVALUATING_CLINICIAN: clinic.clinician,
            StaffPart.THERAPIST: clinic.therapist,
        }
        proposal = []
        for element, starts_at in zip(elements, at, strict=True):
            room = next(r for r in rooms if r.kind in element.room_kinds)
            staff = tuple((people[part].id, part) for part in element.parts)
            proposal.append(ProposedAppointment(element.key, starts_at, room.id, staff))
        return proposal

    def local(self, location: Location, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """A location's local wall-clock time as an aware UTC datetime."""
        tz = ZoneInfo(location.timezone)
        return dt.datetime.combine(day, dt.time(hour, minute), tz).astimezone(dt.UTC)

    def appointment(
        self,
        clinic: Clinic | None = None,
        *,
        kind: AppointmentKind = AppointmentKind.DOSING,
        start: dt.datetime | None = None,
        minutes: int = 100,
        room: Room | None = None,
        staff: list[tuple[StaffMember, StaffPart]] | None = None,
        patient: Patient | None = None,
        location: Location | None = None,
        buffer_minutes: int = 15,
        actor: StaffMember | None = None,
        allow_past: bool = False,
        paired_with: Appointment | None = None,
        course: Course | None = None,
        step_key: str | None = None,
        sequence: int | None = None,
        internal_note: str | None = None,
    ) -> Appointment:
        """One appointment booked through the booking rules (a dose outside a course is added
        by ``add_standalone_dose``, which only tests may do). What is not given comes from
        ``clinic``, a new one if needed."""
        if clinic is None and None in (location, room, staff, patient):
            clinic = self.clinic()
        location = location or clinic.location  # type: ignore[union-attr]
        if start is None:
            start = self.local(location, self.now.date() + dt.timedelta(days=1), 9)
        if room is None:
            assert clinic is not None
            room = clinic.chair if kind == AppointmentKind.DOSING else clinic.therapy_room
        if staff is None:
            assert clinic is not None
            staff = (
                [(clinic.clinician, StaffPart.ADMINISTERING_CLINICIAN)]
                if kind == AppointmentKind.DOSING
                else [(clinic.clinician, StaffPart.EVALUATING_CLINICIAN)]
                if kind == AppointmentKind.EVALUATION
                else [(clinic.therapist, StaffPart.THERAPIST)]
            )
        request = AppointmentRequest(
            kind=kind,
            patient_id=(patient or clinic.patient).id,  # type: ignore[union-attr]
            location_id=location.id,
            room_id=room.id,
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=minutes),
            staff=[(m.id, p) for m, p in staff],
            buffer_minutes=buffer_minutes,
            paired_with_id=paired_with.id if paired_with else None,
            course_id=course.id if course else None,
            step_key=step_key,
            sequence=sequence,
            internal_note=internal_note,
        )
        with write_transaction(self.session):
            book = add_standalone_dose if kind == AppointmentKind.DOSING else book_appointment
            appointment = book(
                self.session, request, Action("test", actor, self.now), allow_past=allow_past
            )
        return appointment


def add_standalone_dose(
    session: Session, request: AppointmentRequest, action: Action, *, allow_past: bool = False
) -> Appointment:
    """A dosing appointment outside any course, for tests that only need a dose in a chair.

    The product refuses this (``book_appointment``: a dose belongs to a course), so tests add
    the row themselves, with the same booking rules, claims, audit entry and change signal.
    """
    if request.course_id is not None:
        return book_appointment(session, request, action, allow_past=allow_past)
    _check_times(request.starts_at, request.ends_at, action.now, allow_past)
    location = session.get(Location, request.location_id)
    room = session.get(Room, request.room_id)
    assert location is not None and room is not None
    participants = [(session.get(StaffMember, s), StaffPart(p)) for s, p in request.staff]
    appointment = Appointment(
        kind=request.kind,
        status=request.status,
        starts_at=request.starts_at,
        ends_at=request.ends_at,
        buffer_minutes=request.buffer_minutes,
        location_id=location.id,
        room_id=room.id,
        patient_id=request.patient_id,
        paired_with_id=request.paired_with_id,
        internal_note=request.internal_note,
        revision=1,
        created_at=action.now,
        updated_at=action.now,
    )
    appointment.location = location
    appointment.room = room
    appointment.patient = session.get(Patient, request.patient_id)
    appointment.participants = [
        AppointmentStaff(staff_id=m.id, staff=m, part=p) for m, p in participants if m
    ]
    check_rules(session, appointment, participants, room_kinds=request.room_kinds)  # type: ignore[arg-type]
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
    publish(session, AppointmentChange("created", appointment, action))
    return appointment
