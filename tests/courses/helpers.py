"""Short ways to plan and book courses in tests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from scheduler.audit import Action
from scheduler.courses import book_course, new_course, plan_new_course
from scheduler.db import write_transaction
from scheduler.models import Appointment, Course, Protocol
from scheduler.planning import Plan, Preferences

from .conftest import CourseClinic


def request_for(
    session: Session,
    cc: CourseClinic,
    protocol: Protocol,
    now: dt.datetime,
    prefs: Preferences | None = None,
):  # type: ignore[no-untyped-def]
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
    request = request_for(session, cc, cc.protocol(prefix), now, prefs)
    plan = plan_new_course(session, request)
    assert plan.complete, plan.failure
    with write_transaction(session):
        course, booked = book_course(session, Action("course.book", None, now), request, plan)
    return course, booked, plan
