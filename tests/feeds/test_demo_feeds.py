"""The demo clinic: every patient's and staff member's feed parses with icalendar, vobject and
recurring-ical-events and matches the database, before and after a move and a cancellation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduler.audit import Action
from scheduler.booking import cancel_appointment, reschedule_appointment
from scheduler.db import write_transaction
from scheduler.demo import load_demo
from scheduler.errors import Conflict
from scheduler.models import Appointment, AppointmentStatus, FeedOwnerKind, Patient, StaffMember
from tests.conftest import NOW

from .conftest import expected_appointments, feed_events
from .test_parsers import check_feed


@pytest.mark.slow
def test_every_demo_feed_parses_and_matches(session, feed_token, fetch):
    with write_transaction(session):
        load_demo(session, Action("demo", None, NOW))
    patients = session.scalars(select(Patient)).all()
    staff = session.scalars(select(StaffMember)).all()
    assert len(patients) >= 40
    tokens = {("patient", p.id): feed_token(FeedOwnerKind.PATIENT, p.id) for p in patients}
    tokens.update({("staff", m.id): feed_token(FeedOwnerKind.STAFF, m.id) for m in staff})

    def check_all() -> int:
        events = 0
        for patient in patients:
            expected = expected_appointments(session, lambda a, p=patient: a.patient_id == p.id)
            response = fetch(tokens[("patient", patient.id)])
            assert response.status_code == 200
            check_feed(session, response.data, expected)
            events += len(expected)
        for member in staff:
            expected = expected_appointments(session, lambda a, m=member: m.id in a.staff_ids)
            check_feed(session, fetch(tokens[("staff", member.id)]).data, expected)
        return events

    assert check_all() >= 100

    # The patient with the most upcoming sessions: move one, cancel another.
    upcoming = [
        a
        for a in session.scalars(select(Appointment).order_by(Appointment.starts_at))
        if a.status == AppointmentStatus.SCHEDULED and a.starts_at > NOW + dt.timedelta(days=1)
    ]
    patient_id = max(
        {a.patient_id for a in upcoming}, key=lambda p: sum(a.patient_id == p for a in upcoming)
    )
    mine = [a for a in upcoming if a.patient_id == patient_id]
    token = tokens[("patient", patient_id)]
    before = feed_events(fetch(token).data)
    moved, cancelled = mine[0], mine[1]
    zone = ZoneInfo(moved.location.timezone)
    candidates = [
        dt.datetime.combine(
            moved.starts_at.astimezone(zone).date() + dt.timedelta(days=day), dt.time(hour), zone
        )
        for day in range(1, 15)
        for hour in range(8, 17)
    ]
    for start in candidates:
        try:
            with write_transaction(session):
                reschedule_appointment(session, moved, Action("demo", None, NOW), starts_at=start)
            break
        except Conflict:
            session.expire_all()
    else:
        pytest.fail("no free time to move the appointment to")
    with write_transaction(session):
        cancel_appointment(session, cancelled, Action("demo", None, NOW), "patient asked")
    check_all()
    after = feed_events(fetch(token).data)
    assert set(after) == set(before)
    assert int(after[moved.uid]["SEQUENCE"]) > int(before[moved.uid]["SEQUENCE"])
    assert after[moved.uid].decoded("DTSTART") == moved.starts_at
    assert str(after[cancelled.uid]["STATUS"]) == "CANCELLED"
