"""The demo clinic: every patient's and staff member's feed parses with icalendar, vobject and
recurring-ical-events and matches the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scheduler.audit import Action
from scheduler.db import write_transaction
from scheduler.demo import load_demo
from scheduler.models import FeedOwnerKind, Patient, StaffMember
from tests.conftest import NOW

from .conftest import expected_appointments
from .test_parsers import check_feed


@pytest.mark.slow
def test_every_demo_feed_parses_and_matches(session, token_for, fetch):
    with write_transaction(session):
        load_demo(session, Action("demo", None, NOW))
    patients = session.scalars(select(Patient)).all()
    staff = session.scalars(select(StaffMember)).all()
    assert len(patients) >= 40
    events = 0
    for patient in patients:
        expected = expected_appointments(session, lambda a, p=patient: a.patient_id == p.id)
        response = fetch(token_for(FeedOwnerKind.PATIENT, patient.id))
        assert response.status_code == 200
        check_feed(session, response.data, expected)
        events += len(expected)
    for member in staff:
        expected = expected_appointments(session, lambda a, m=member: m.id in a.staff_ids)
        response = fetch(token_for(FeedOwnerKind.STAFF, member.id))
        assert response.status_code == 200
        check_feed(session, response.data, expected)
    assert events >= 100
