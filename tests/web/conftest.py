"""Fixtures for the pages: a small clinic with a paired dosing and integration session, and
signing in through the real sign-in form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient

from scheduler.models import Appointment, AppointmentKind, StaffMember, StaffPart
from tests.factories import PASSWORD, Clinic, Factory

TUESDAY = dt.date(2026, 3, 3)


@dataclass
class Scene:
    clinic: Clinic
    dosing: Appointment
    integration: Appointment


def sign_in(client: FlaskClient, member: StaffMember, password: str = PASSWORD) -> None:
    forget_cached_user()
    response = client.post("/sign-in", data={"email": member.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def forget_cached_user() -> None:
    """Tests hold one app context across requests (the ``session`` fixture), so Flask-Login's
    per-context user cache would leak from one test client into the next; real requests each
    get their own context."""
    if has_app_context():
        g.pop("_login_user", None)


@pytest.fixture
def scene(make: Factory) -> Scene:
    clinic = make.clinic()
    dosing = make.appointment(clinic, start=make.local(clinic.location, TUESDAY, 9))
    integration = book_integration(
        make, clinic, dosing, make.local(clinic.location, TUESDAY + dt.timedelta(days=1), 10)
    )
    return Scene(clinic, dosing, integration)


def book_integration(
    make: Factory, clinic: Clinic, dosing: Appointment, start: dt.datetime
) -> Appointment:
    from scheduler.audit import Action
    from scheduler.booking import AppointmentRequest, book_appointment
    from scheduler.db import write_transaction

    request = AppointmentRequest(
        kind=AppointmentKind.INTEGRATION,
        patient_id=dosing.patient_id,
        location_id=clinic.location.id,
        room_id=clinic.therapy_room.id,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=50),
        staff=[(clinic.therapist.id, StaffPart.THERAPIST)],
        paired_with_id=dosing.id,
    )
    with write_transaction(make.session):
        return book_appointment(make.session, request, Action("test", None, make.now))


# The end-to-end tests' server and browser (module-scoped; only those tests use them).
from .live_server import browser, live_server  # noqa: E402, F401
