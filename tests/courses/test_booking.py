"""Planning and booking whole courses in the database, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from scheduler.audit import Action
from scheduler.courses import (
    ProposedAppointment,
    book_course,
    plan_new_course,
    proposal_plan,
)
from scheduler.db import write_transaction
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import (
    Appointment,
    AppointmentKind,
    AuditEntry,
    Course,
    ResourceClaim,
    StaffMember,
    StaffPart,
)

from .helpers import book, request_for


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


def test_plan_writes_nothing(session, course_clinic, now):
    request = request_for(session, course_clinic, course_clinic.protocol("IV"), now)
    plan = plan_new_course(session, request)
    assert plan.complete and len(plan.appointments) == 13
    assert _count(session, Appointment) == 0 and _count(session, Course) == 0


@pytest.mark.parametrize("prefix", ["IV", "IM", "Esketamine", "Booster"])
def test_every_seeded_protocol_plans_and_books(session, course_clinic, now, prefix):
    course, booked, plan = book(session, course_clinic, prefix, now)
    assert len(booked) == len(plan.appointments)
    assert all(a.course_id == course.id and a.revision == 1 for a in booked)
    by_id = {a.id: a for a in booked}
    for a in booked:
        if a.paired_with_id is not None:
            dose = by_id[a.paired_with_id]
            assert dose.sequence == a.sequence and dose.kind.value == "dosing"
    claims = _count(session, ResourceClaim)
    doses = sum(a.kind.value == "dosing" for a in booked)
    assert claims == sum(2 + len(a.participants) for a in booked) + doses


def test_booking_audit_shares_one_action(session, course_clinic, now):
    course, booked, _ = book(session, course_clinic, "IV", now)
    entries = session.scalars(select(AuditEntry)).all()
    assert {e.action_id for e in entries if e.entity_type != "protocol"} == {entries[-1].action_id}
    assert sum(e.entity_type == "appointment" for e in entries) == len(booked)
    assert any(e.entity_type == "course" and e.entity_id == course.id for e in entries)


def test_a_slot_taken_meanwhile_is_a_conflict_and_nothing_is_written(
    session, course_clinic, make, now
):
    request = request_for(session, course_clinic, course_clinic.protocol("IV"), now)
    plan = plan_new_course(session, request)
    third = next(a for a in plan.appointments if a.key == "dosing-3")
    # Someone else books that infusion's clinician meanwhile.
    clinician = session.get(StaffMember, third.staff[0][0])
    make.appointment(
        course_clinic.clinic,
        start=third.starts_at,
        patient=make.patient(),
        room=course_clinic.clinic.telehealth,
        kind=AppointmentKind.EVALUATION,
        staff=[(clinician, StaffPart.EVALUATING_CLINICIAN)],
        minutes=30,
        buffer_minutes=0,
    )
    before = _count(session, Appointment)
    with pytest.raises(Conflict) as caught, write_transaction(session):
        book_course(session, Action("course.book", None, now), request, plan)
    assert caught.value.message.startswith("dosing 3 of 6: Double booking:")
    assert clinician.name in caught.value.message
    assert caught.value.details["appointment_key"] == "dosing-3"
    assert _count(session, Appointment) == before and _count(session, Course) == 0


def _items(plan):  # type: ignore[no-untyped-def]
    return [ProposedAppointment(a.key, a.starts_at, a.room_id, a.staff) for a in plan.appointments]


def test_a_returned_proposal_is_checked_and_booked(session, course_clinic, now):
    request = request_for(session, course_clinic, course_clinic.protocol("IV"), now)
    plan = plan_new_course(session, request)
    again = proposal_plan(request, _items(plan))
    with write_transaction(session):
        _course, booked = book_course(session, Action("course.book", None, now), request, again)
    assert sorted(a.starts_at for a in booked) == sorted(a.starts_at for a in plan.appointments)


def test_a_proposal_breaking_the_protocol_names_the_item(session, course_clinic, now):
    request = request_for(session, course_clinic, course_clinic.protocol("IV"), now)
    items = _items(plan_new_course(session, request))
    n = next(k for k, item in enumerate(items) if item.key == "dosing-2")
    items[n] = ProposedAppointment(
        items[n].key, items[n].starts_at - dt.timedelta(days=1), items[n].room_id, items[n].staff
    )
    with pytest.raises(ValidationFailed) as caught:
        proposal_plan(request, items)
    path = f"appointments.{n}.starts_at"
    assert "48 h to 7 days after dosing 1 of 6" in caught.value.fields[path][0]
    with pytest.raises(ValidationFailed) as caught:
        proposal_plan(request, items[1:])
    assert "missing" in caught.value.fields["appointments"][0]
