"""Short ways to plan and book courses in tests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from scheduler.courses import new_course
from scheduler.courses.preconditions import missing_preconditions
from scheduler.db import write_transaction
from scheduler.models import Appointment, Course, CourseStatus, Protocol
from scheduler.planning import Plan, Preferences
from scheduler.protocols import current_version, definition_of

from ..factories import Factory
from .conftest import CourseClinic


def meet_preconditions(
    session: Session, cc: CourseClinic, protocol: Protocol, now: dt.datetime
) -> None:
    """Give the clinic's patient what ``protocol`` requires, so tests about something else can
    book it: a REMS enrollment, or a completed IV induction (a course row, no sessions)."""
    definition = definition_of(current_version(session, protocol))
    patient = cc.clinic.patient
    rules = {r.rule for r in definition.requires}
    missing = {
        m.rule
        for m in missing_preconditions(
            session, patient_id=patient.id, definition=definition, now=now
        )
    }
    if not missing:
        return
    with write_transaction(session):
        if "rems_enrollment" in rules and patient.rems_number is None:
            patient.rems_enrolled_on = now.date() - dt.timedelta(days=30)
            patient.rems_number = "REMS-TEST-0001"
        if "precondition:completed_course" in missing:
            induction = cc.protocol("IV")
            session.add(
                Course(
                    patient_id=patient.id,
                    location_id=cc.clinic.location.id,
                    protocol_version_id=current_version(session, induction).id,
                    status=CourseStatus.COMPLETED,
                    preferences={},
                    created_at=now - dt.timedelta(days=90),
                    updated_at=now - dt.timedelta(days=60),
                )
            )


def request_for(
    session: Session,
    cc: CourseClinic,
    protocol: Protocol,
    now: dt.datetime,
    prefs: Preferences | None = None,
):  # type: ignore[no-untyped-def]
    meet_preconditions(session, cc, protocol, now)
    return new_course(
        session,
        patient_id=cc.clinic.patient.id,
        location_id=cc.clinic.location.id,
        protocol_id=protocol.id,
        protocol_version_id=None,
        preferences=prefs or Preferences(),
        earliest=None,
        now=now,
    )


def book(
    session: Session,
    cc: CourseClinic,
    prefix: str,
    now: dt.datetime,
    prefs: Preferences | None = None,
) -> tuple[Course, list[Appointment], Plan]:
    protocol = cc.protocol(prefix)
    meet_preconditions(session, cc, protocol, now)
    booked = Factory(session, now).booked_course(cc.clinic, protocol, preferences=prefs)
    return booked.course, booked.appointments, booked.plan
