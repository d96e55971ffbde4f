"""Fixtures for the pages: a small clinic with a paired dosing and integration session, and
signing in through the real sign-in form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient

from scheduler.models import Appointment, AppointmentKind, StaffMember
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
    integration = make.appointment(
        clinic,
        kind=AppointmentKind.INTEGRATION,
        start=make.local(clinic.location, TUESDAY + dt.timedelta(days=1), 10),
        minutes=50,
        buffer_minutes=0,
        paired_with=dosing,
    )
    return Scene(clinic, dosing, integration)


# The end-to-end tests' server and browser (module-scoped; only those tests use them).
from .live_server import browser, live_server  # noqa: E402, F401
