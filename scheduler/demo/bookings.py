"""A few weeks of treatment courses for the demo clinic, planned and booked by the planner.

Courses that began before today are booked "as of" the day they would have been booked, so
every rule (and the reminders' notion of what was already due) holds as it would have then;
their sessions that have ended are then marked completed, with a no-show here and there.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Action
from ..booking import progress_appointment
from ..courses import book_course, new_course, plan_new_course
from ..errors import Conflict
from ..models import (
    Appointment,
    AppointmentStatus,
    Course,
    Location,
    Patient,
    Role,
    StaffMember,
)
from ..planning import Preferences
from ..protocols.seed import seed_protocols


@dataclass(frozen=True)
class DemoCourse:
    protocol: str
    location: str
    #: Days from today the course starts; negative: already under way.
    start_in_days: int
    weekdays: frozenset[int] | None = None
    times: tuple[int, int] | None = None
    #: A booster follows this course (an index into ``COURSES``): same patient, after it.
    follows: int | None = None


#: Protocol names as seeded (matched by prefix, so a renamed seed still loads).
IV, IM, SPRAVATO, BOOSTER = "IV ketamine", "IM ketamine", "Esketamine", "Booster"

COURSES = [
    DemoCourse(IV, "ny", -20, frozenset({0, 2, 4}), (9, 13)),
    DemoCourse(IV, "ny", -16),
    DemoCourse(IV, "ny", -11, frozenset({0, 2, 4})),
    DemoCourse(IV, "ny", -6, None, (12, 18)),
    DemoCourse(IV, "ny", -2),
    DemoCourse(IV, "ny", 3, frozenset({0, 2, 4}), (8, 12)),
    DemoCourse(IV, "ny", 8),
    DemoCourse(IM, "ny", -14),
    DemoCourse(IM, "ny", 5),
    DemoCourse(SPRAVATO, "ny", -9),
    DemoCourse(SPRAVATO, "ny", 2, frozenset({1, 3})),
    DemoCourse(IV, "berlin", -18, frozenset({0, 2, 4})),
    DemoCourse(IV, "berlin", -4),
    DemoCourse(IV, "berlin", 4),
    DemoCourse(SPRAVATO, "berlin", -7),
    # Boosters follow an induction that ended weeks ago (the 21-day window keeps it past).
    DemoCourse(IV, "ny", -45, frozenset({0, 2, 4}), (9, 13)),
    DemoCourse(BOOSTER, "ny", 6, follows=15),
    DemoCourse(IV, "berlin", -43, frozenset({0, 2, 4})),
    DemoCourse(BOOSTER, "berlin", 10, follows=17),
]


def book_demo_appointments(
    session: Session,
    action: Action,
    locations: dict[str, Location],
    staff: list[StaffMember],
    patients: list[Patient],
    rng: random.Random,
) -> tuple[int, int]:
    """Seed the protocols and book the demo's courses. Returns (appointments, courses)."""
    seeded = {s.protocol.name: s.protocol for s in seed_protocols(session, action)}
    by_location = {
        key: [p for i, p in enumerate(patients) if (i % 3 != 0) == (key == "ny")]
        for key in locations
    }
    appointments = 0
    courses: dict[int, Course] = {}
    for n, spec in enumerate(COURSES):
        protocol = next(p for name, p in seeded.items() if name.startswith(spec.protocol))
        location = locations[spec.location]
        patient = by_location[spec.location][n % len(by_location[spec.location])]
        start_day = action.now.date() + dt.timedelta(days=spec.start_in_days)
        booked_on = min(action.now, _at(start_day - dt.timedelta(days=5), 15))
        when = Action("demo.book-course", _front_desk(staff, location), booked_on)
        if spec.follows is not None:
            # A booster needs a completed induction: its patient's, held in full by then.
            induction = courses.get(spec.follows)
            if induction is None:
                continue
            patient = induction.patient
            _hold(session, induction, booked_on)
        if spec.protocol == SPRAVATO and patient.rems_number is None:
            # Esketamine needs the REMS enrollment on record before the first session.
            patient.rems_enrolled_on = start_day - dt.timedelta(days=21)
            patient.rems_number = f"DEMO-{rng.randrange(10**8):08d}"
        preferences = Preferences(
            weekdays=spec.weekdays,
            earliest_time=dt.time(spec.times[0]) if spec.times else None,
            latest_time=dt.time(spec.times[1]) if spec.times else None,
            therapist_id=_pick(rng, staff, location, Role.THERAPIST),
        )
        try:
            request = new_course(
                session,
                patient_id=patient.id,
                location_id=location.id,
                protocol_id=protocol.id,
                protocol_version_id=None,
                preferences=preferences,
                earliest=_at(start_day, 0),
                now=booked_on,
            )
        except Conflict as error:
            if error.rule != "precondition":  # An induction the calendar left unfinished.
                raise
            continue
        plan = plan_new_course(session, request)
        if not plan.complete:
            continue
        course, booked = book_course(session, when, request, plan)
        appointments += len(booked)
        courses[n] = course
    _finish_the_past(session, action, rng)
    return appointments, len(courses)


def _hold(session: Session, course: Course, until: dt.datetime) -> None:
    """Every session of ``course`` that ended by ``until`` happened, without a no-show."""
    for appointment in session.scalars(
        select(Appointment)
        .where(
            Appointment.course_id == course.id,
            Appointment.ends_at <= until,
            Appointment.status == AppointmentStatus.SCHEDULED,
        )
        .order_by(Appointment.starts_at)
    ):
        arrived = appointment.starts_at - dt.timedelta(minutes=10)
        progress_appointment(
            session, appointment, Action("demo.history", None, arrived), "check_in"
        )
        progress_appointment(
            session, appointment, Action("demo.history", None, appointment.ends_at), "complete"
        )


def _finish_the_past(session: Session, action: Action, rng: random.Random) -> None:
    """Sessions that ended before now happened: completed, with the odd no-show."""
    past = session.scalars(
        select(Appointment)
        .where(Appointment.ends_at <= action.now, Appointment.status == AppointmentStatus.SCHEDULED)
        .order_by(Appointment.starts_at)
    ).all()
    for appointment in past:
        if rng.random() < 0.04:
            progress_appointment(
                session, appointment, Action("demo.history", None, appointment.ends_at), "no_show"
            )
            continue
        arrived = appointment.starts_at - dt.timedelta(minutes=10)
        progress_appointment(
            session, appointment, Action("demo.history", None, arrived), "check_in"
        )
        progress_appointment(
            session, appointment, Action("demo.history", None, appointment.ends_at), "complete"
        )


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


def _front_desk(staff: list[StaffMember], location: Location) -> StaffMember:
    return next(
        m
        for m in staff
        if Role.FRONT_DESK in m.roles and any(h.location_id == location.id for h in m.working_hours)
    )


def _pick(rng: random.Random, staff: list[StaffMember], location: Location, role: Role) -> int:
    choices = [
        m.id
        for m in staff
        if role in m.roles and any(h.location_id == location.id for h in m.working_hours)
    ]
    return rng.choice(choices)
