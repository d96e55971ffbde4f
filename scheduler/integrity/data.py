"""What a check of the schedule reads: the appointments in scope, the courses they belong to
(each with every appointment, read once), and what a broken rule is reported as."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from ..courses.course_state import (
    CourseState,
)
from ..courses.pauses import course_pauses
from ..errors import ValidationFailed
from ..models import (
    COUNTED_STATUSES,
    HELD_STATUSES,
    OPEN_STATUSES,
    Appointment,
    AppointmentStaff,
    Course,
    Location,
    StaffMember,
)
from ..planning import Preferences
from ..protocols import definition_of

#: Appointments still to come: the ones a rule can still be kept for.
OPEN = OPEN_STATUSES
COUNTED = COUNTED_STATUSES
HELD = HELD_STATUSES


@dataclass(frozen=True)
class Violation:
    appointment_id: int
    #: A stable id: "closure", "time_off", "pair_missing", "protocol", "dosing_interval", ...
    rule: str
    #: Front-desk words; names no patient (it is shown on lists other staff see).
    message: str


@dataclass(frozen=True)
class Scope:
    """Which appointments to judge: all to come, or those of some locations, patients, staff
    or appointment ids (any that match)."""

    location_ids: frozenset[int] = frozenset()
    patient_ids: frozenset[int] = frozenset()
    staff_ids: frozenset[int] = frozenset()
    room_ids: frozenset[int] = frozenset()
    appointment_ids: frozenset[int] = frozenset()
    everything: bool = False

    def __bool__(self) -> bool:
        return self.everything or any(
            (
                self.location_ids,
                self.patient_ids,
                self.staff_ids,
                self.room_ids,
                self.appointment_ids,
            )
        )

    def __or__(self, other: Scope) -> Scope:
        return Scope(
            self.location_ids | other.location_ids,
            self.patient_ids | other.patient_ids,
            self.staff_ids | other.staff_ids,
            self.room_ids | other.room_ids,
            self.appointment_ids | other.appointment_ids,
            self.everything or other.everything,
        )


def appointments_in(session: Session, scope: Scope, now: dt.datetime) -> list[Appointment]:
    """The appointments still to come that ``scope`` covers, by start."""
    if not scope:
        return []
    query = (
        select(Appointment)
        .where(Appointment.status.in_(OPEN), Appointment.starts_at >= now)
        .options(
            selectinload(Appointment.room),
            selectinload(Appointment.location).selectinload(Location.opening_hours),
            selectinload(Appointment.participants)
            .joinedload(AppointmentStaff.staff)
            .options(selectinload(StaffMember.working_hours), selectinload(StaffMember.role_rows)),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if not scope.everything:
        matches = []
        if scope.location_ids:
            matches.append(Appointment.location_id.in_(scope.location_ids))
        if scope.patient_ids:
            matches.append(Appointment.patient_id.in_(scope.patient_ids))
        if scope.room_ids:
            matches.append(Appointment.room_id.in_(scope.room_ids))
        if scope.appointment_ids:
            matches.append(Appointment.id.in_(scope.appointment_ids))
        if scope.staff_ids:
            matches.append(
                Appointment.id.in_(
                    select(AppointmentStaff.appointment_id).where(
                        AppointmentStaff.staff_id.in_(scope.staff_ids)
                    )
                )
            )
        query = query.where(or_(*matches))
    return list(session.scalars(query))


@dataclass
class CourseData:
    """The courses a check touches, each with every appointment, read once per check."""

    courses: dict[int, Course]
    appointments: dict[int, list[Appointment]]
    states: dict[int, CourseState]

    @classmethod
    def load(cls, session: Session, targets: list[Appointment]) -> CourseData:
        ids = {a.course_id for a in targets if a.course_id is not None}
        courses: dict[int, Course] = {}
        appointments: dict[int, list[Appointment]] = defaultdict(list)
        if ids:
            courses = {
                c.id: c
                for c in session.scalars(
                    select(Course)
                    .where(Course.id.in_(ids))
                    .options(selectinload(Course.protocol_version), selectinload(Course.location))
                )
            }
            for a in session.scalars(
                select(Appointment)
                .where(Appointment.course_id.in_(ids))
                .options(selectinload(Appointment.participants))
                .order_by(Appointment.starts_at, Appointment.id)
            ):
                appointments[a.course_id].append(a)  # type: ignore[index]
        states: dict[int, CourseState] = {}
        for cid, course in list(courses.items()):
            try:
                definition = definition_of(course.protocol_version)
            except ValidationFailed:
                # Stored versions are validated on write; one that is not (a raw import) has
                # no protocol rules to judge by, and must not stop the change being committed.
                del courses[cid]
                continue
            states[cid] = CourseState(
                course=course,
                version=course.protocol_version,
                definition=definition,
                tz=ZoneInfo(course.location.timezone),
                appointments=[a for a in appointments[cid] if a.status in COUNTED],
                preferences=Preferences.from_json(course.preferences),
                pauses=course_pauses(session, course),
            )
        return cls(courses, appointments, states)
