"""Finding 1 of the integrity review: two dosing courses at once.

Any two doses of one patient, from any courses, are the clinic's dosing interval apart, and a
patient's dosing courses never interleave unless an admin records an exception.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from scheduler.audit import Action
from scheduler.booking import reschedule_appointment
from scheduler.courses import book_course, plan_new_course
from scheduler.db import write_transaction
from scheduler.errors import Conflict
from scheduler.models import Appointment, AppointmentKind, ResourceClaim

from .helpers import book, request_for

OVERRIDE = [{"rule": "other_course", "reason": "Switching to esketamine mid-series"}]


def _doses(session, patient_id: int) -> list[Appointment]:
    return list(
        session.scalars(
            select(Appointment)
            .where(Appointment.patient_id == patient_id, Appointment.kind == AppointmentKind.DOSING)
            .order_by(Appointment.starts_at)
        )
    )


def test_two_dosing_courses_at_once_second_is_planned_after_the_first(session, course_clinic, now):
    iv, iv_booked, _ = book(session, course_clinic, "IV", now)
    last_iv = max(a.ends_at for a in iv_booked if a.kind == AppointmentKind.DOSING)
    request = request_for(session, course_clinic, course_clinic.protocol("Esketamine"), now)
    plan = plan_new_course(session, request)
    assert plan.complete, plan.failure
    assert [o.course_id for o in request.other_courses] == [iv.id]
    assert min(a.starts_at for a in plan.appointments) >= last_iv + dt.timedelta(hours=24)
    with write_transaction(session):
        book_course(session, Action("course.book", None, now), request, plan)
    doses = _doses(session, course_clinic.clinic.patient.id)
    courses = [a.course_id for a in doses]
    # All IV doses, then all esketamine doses: no interleaving.
    assert courses == sorted(courses, key=lambda c: c != iv.id)


def test_two_dosing_courses_at_once_interleaving_plan_is_refused_naming_the_course(
    session, course_clinic, now
):
    iv, iv_booked, _ = book(session, course_clinic, "IV", now)
    request = request_for(session, course_clinic, course_clinic.protocol("Booster"), now)
    request.overrides = list(OVERRIDE)
    plan = plan_new_course(session, request)  # planned among the IV doses, by the exception
    assert plan.complete, plan.failure
    booster = next(a for a in plan.appointments if a.kind == AppointmentKind.DOSING)
    assert booster.starts_at < max(a.starts_at for a in iv_booked)
    request.overrides = []
    with pytest.raises(Conflict) as caught, write_transaction(session):
        book_course(session, Action("course.book", None, now), request, plan)
    assert caught.value.rule == "other_course"
    assert f"course {iv.id}" in caught.value.message
    assert caught.value.details["other_courses"][0]["course_id"] == iv.id


def test_admin_exception_lets_courses_overlap_but_doses_stay_24h_apart(session, course_clinic, now):
    book(session, course_clinic, "IV", now)
    request = request_for(session, course_clinic, course_clinic.protocol("Esketamine"), now)
    request.overrides = list(OVERRIDE)
    plan = plan_new_course(session, request)
    assert plan.complete, plan.failure
    admin = course_clinic.clinic.admin
    with write_transaction(session):
        course, _ = book_course(session, Action("course.book", admin, now), request, plan)
    assert course.exceptions[0]["rule"] == "other_course"
    doses = _doses(session, course_clinic.clinic.patient.id)
    assert len({a.course_id for a in doses}) == 2
    for a, b in itertools.pairwise(doses):
        assert b.starts_at - a.ends_at >= dt.timedelta(hours=24), (a.starts_at, b.starts_at)


def test_moving_a_dose_within_24h_of_another_courses_dose_is_refused(session, course_clinic, now):
    iv, iv_booked, _ = book(session, course_clinic, "IV", now)
    request = request_for(session, course_clinic, course_clinic.protocol("Booster"), now)
    plan = plan_new_course(session, request)
    with write_transaction(session):
        _, booked = book_course(session, Action("course.book", None, now), request, plan)
    booster = next(a for a in booked if a.kind == AppointmentKind.DOSING)
    first_iv = next(a for a in iv_booked if a.kind == AppointmentKind.DOSING)
    with pytest.raises(Conflict) as caught, write_transaction(session):
        reschedule_appointment(
            session,
            booster,
            Action("move", None, now),
            starts_at=first_iv.ends_at + dt.timedelta(hours=3),
        )
    assert caught.value.rule == "dosing_interval"
    assert f"course {iv.id}" in caught.value.message
    assert "24 h apart" in caught.value.message


def test_dose_claims_of_one_patient_exclude_each_other_in_postgres(
    session, course_clinic, now, dialect
):
    if dialect != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite serializes writers")
    _, booked, _ = book(session, course_clinic, "Booster", now)
    dose = next(a for a in booked if a.kind == AppointmentKind.DOSING)
    claim = session.scalars(
        select(ResourceClaim).where(
            ResourceClaim.appointment_id == dose.id, ResourceClaim.resource == "dose"
        )
    ).one()
    evaluation = next(a for a in booked if a.kind != AppointmentKind.DOSING)
    session.add(
        ResourceClaim(
            appointment_id=evaluation.id,
            resource="dose",
            resource_id=claim.resource_id,
            starts_at=claim.ends_at - dt.timedelta(hours=1),
            ends_at=claim.ends_at + dt.timedelta(hours=5),
            active=True,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
