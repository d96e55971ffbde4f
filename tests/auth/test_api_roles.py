"""Each role against each endpoint: the status it gets, from one table.

Columns: admin, front_desk, clinician, therapist; without a token every route but sign-in is
401. Requests that must fail run first, so that they find the state the allowed ones change;
allowed writes work on objects made for that request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from scheduler.audit import Action
from scheduler.booking import progress_appointment
from scheduler.db import write_transaction
from scheduler.models import AppointmentKind, Role, RoomKind, StaffPart
from tests.clients import ROLES, TOMORROW, Api, booking
from tests.conftest import NOW
from tests.factories import PASSWORD, Clinic, Factory

TODAY = dt.date(2026, 3, 2)  # Monday; the test clock says 07:00 UTC, 02:00 in New York
#: Order of the requests within one row: refusals first.
ORDER = (None, "therapist", "clinician", "front_desk", "admin")


@dataclass
class World:
    app: Flask
    make: Factory
    clinic: Clinic
    session: Any
    extra: dict[str, Any]
    calls: int = 0

    def slot(self, role: str | None) -> int:
        """A distinct hour of the day per role, for objects that must not overlap."""
        return 8 + 2 * ORDER.index(role)

    def member(self, role: str | None) -> Any:
        return getattr(self.clinic, role or "admin")

    def appointment(self, role: str | None, day: dt.date = TODAY, **kw: Any) -> Any:
        # Evaluations: one patient's doses hours apart would break the dosing interval.
        kw.setdefault("kind", AppointmentKind.EVALUATION)
        return self.make.appointment(
            self.clinic, start=self.make.local(self.clinic.location, day, self.slot(role)), **kw
        )


Request = Callable[[World, str | None], tuple[str, dict[str, Any] | None]]


@dataclass
class Row:
    name: str
    method: str
    expected: tuple[int, int, int, int]
    request: Request

    def status_for(self, role: str | None) -> int:
        if role is None:
            return 401 if self.name != "sign in" else 201
        return self.expected[ROLES.index(role)]


ALL = lambda code: (code, code, code, code)  # noqa: E731
ADMIN = lambda code: (code, 403, 403, 403)  # noqa: E731
DESK = lambda code: (code, code, 403, 403)  # noqa: E731


def fixed(path: str, body: dict[str, Any] | None = None) -> Request:
    return lambda w, role: (path.format(**_ids(w)), body)


def _ids(w: World) -> dict[str, int]:
    c = w.clinic
    return {
        "location": c.location.id,
        "room": c.chair.id,
        "staff": c.therapist.id,
        "patient": c.patient.id,
        "therapy_patient": w.extra["therapy_patient"].id,
        "dosing": w.extra["dosing"].id,
        "integration": w.extra["integration"].id,
    }


def _sign_in(w: World, role: str | None) -> tuple[str, dict[str, Any]]:
    return "/api/auth/token", {"email": w.member(role).email, "password": PASSWORD}


def _new_location(w: World, role: str | None) -> tuple[str, dict[str, Any]]:
    body = {"name": f"Clinic {role}", "timezone": "Europe/Berlin"}
    return "/api/locations", body


def _spare_location(w: World, role: str | None) -> tuple[str, None]:
    return f"/api/locations/{w.make.location().id}", None


def _new_room(w: World, role: str | None) -> tuple[str, dict[str, Any]]:
    body = {"name": f"Chair {role}", "kind": "infusion_chair", "location_id": w.clinic.location.id}
    return "/api/rooms", body


def _spare_room(w: World, role: str | None) -> tuple[str, None]:
    return f"/api/rooms/{w.make.room(w.clinic.location).id}", None


def _new_staff(w: World, role: str | None) -> tuple[str, dict[str, Any]]:
    body = {"name": "New Hire", "email": f"new-{role}@example.org", "roles": ["therapist"]}
    return "/api/staff", body


def _spare_staff(w: World, role: str | None) -> tuple[str, None]:
    return f"/api/staff/{w.make.staff([Role.THERAPIST]).id}", None


def _new_patient(w: World, role: str | None) -> tuple[str, dict[str, Any]]:
    body = {
        "first_name": "Robin",
        "last_name": f"Doe {role}",
        "date_of_birth": "1990-01-02",
        "email": "robin@example.org",
        "timezone": "America/New_York",
    }
    return "/api/patients", body


def _spare_patient(w: World, role: str | None) -> tuple[str, None]:
    return f"/api/patients/{w.make.patient().id}", None


def _book(w: World, role: str | None) -> tuple[str, dict[str, Any]]:
    start = w.make.local(w.clinic.location, TOMORROW, w.slot(role))
    return "/api/appointments", booking(w.clinic, start.isoformat())


def _move(w: World, role: str | None) -> tuple[str, dict[str, Any]]:
    appointment = w.appointment(role)
    later = w.make.local(w.clinic.location, TOMORROW, w.slot(role))
    return f"/api/appointments/{appointment.id}", {"starts_at": later.isoformat()}


def _on_fresh(path: str, body: dict[str, Any] | None = None) -> Request:
    def request(w: World, role: str | None) -> tuple[str, dict[str, Any] | None]:
        return f"/api/appointments/{w.appointment(role).id}/{path}", body

    return request


def _complete(w: World, role: str | None) -> tuple[str, None]:
    appointment = w.appointment(role)
    with write_transaction(w.session):
        progress_appointment(w.session, appointment, Action("test", None, w.make.now), "check_in")
    return f"/api/appointments/{appointment.id}/complete", None


def _no_show(w: World, role: str | None) -> tuple[str, None]:
    appointment = w.appointment(role)
    # Every role's appointment has started by then; the tokens are still valid.
    w.app.config["CLOCK"] = lambda: w.make.local(w.clinic.location, TODAY, 17)
    return f"/api/appointments/{appointment.id}/no-show", None


ROWS = [
    Row("sign in", "POST", ALL(201), _sign_in),
    Row("me", "GET", ALL(200), fixed("/api/auth/me")),
    Row("sign out", "DELETE", ALL(204), fixed("/api/auth/token")),
    Row("list locations", "GET", ALL(200), fixed("/api/locations")),
    Row("create location", "POST", ADMIN(201), _new_location),
    Row("get location", "GET", ALL(200), fixed("/api/locations/{location}")),
    Row("edit location", "PATCH", ADMIN(200), fixed("/api/locations/{location}", {"phone": "1"})),
    Row("delete location", "DELETE", ADMIN(204), _spare_location),
    Row("list rooms", "GET", ALL(200), fixed("/api/rooms")),
    Row("create room", "POST", ADMIN(201), _new_room),
    Row("get room", "GET", ALL(200), fixed("/api/rooms/{room}")),
    Row("edit room", "PATCH", ADMIN(200), fixed("/api/rooms/{room}", {"name": "Chair A"})),
    Row("delete room", "DELETE", ADMIN(204), _spare_room),
    Row("list staff", "GET", ALL(200), fixed("/api/staff")),
    Row("create staff", "POST", ADMIN(201), _new_staff),
    Row("get staff", "GET", ALL(200), fixed("/api/staff/{staff}")),
    Row("edit staff", "PATCH", ADMIN(200), fixed("/api/staff/{staff}", {"name": "Dana T."})),
    Row("delete staff", "DELETE", ADMIN(204), _spare_staff),
    Row("list patients", "GET", ALL(200), fixed("/api/patients")),
    Row("create patient", "POST", DESK(201), _new_patient),
    # A record someone may not see is answered as if it did not exist.
    Row("get clinician's patient", "GET", (200, 200, 200, 404), fixed("/api/patients/{patient}")),
    Row(
        "get therapist's patient",
        "GET",
        (200, 200, 404, 200),
        fixed("/api/patients/{therapy_patient}"),
    ),
    Row("edit patient", "PATCH", DESK(200), fixed("/api/patients/{patient}", {"phone": "+1 555"})),
    Row("delete patient", "DELETE", DESK(204), _spare_patient),
    Row("list appointments", "GET", ALL(200), fixed("/api/appointments")),
    Row("book", "POST", DESK(201), _book),
    Row(
        "get clinician's appointment",
        "GET",
        (200, 200, 200, 404),
        fixed("/api/appointments/{dosing}"),
    ),
    Row(
        "get therapist's appointment",
        "GET",
        (200, 200, 404, 200),
        fixed("/api/appointments/{integration}"),
    ),
    Row("reschedule", "PATCH", DESK(200), _move),
    Row("cancel", "POST", DESK(200), _on_fresh("cancel", {"reason": "Patient is unwell"})),
    Row("confirm", "POST", DESK(200), _on_fresh("confirm")),
    Row("check in", "POST", DESK(200), _on_fresh("check-in")),
    Row("complete", "POST", DESK(200), _complete),
    Row("no-show", "POST", DESK(200), _no_show),
]


@pytest.fixture
def world(app: Flask, make: Factory, clinic: Clinic, session: Any) -> World:
    therapy_patient = make.patient(first_name="Jordan")
    dosing = make.appointment(clinic, start=make.local(clinic.location, dt.date(2026, 3, 4), 9))
    integration = make.appointment(
        clinic,
        kind=AppointmentKind.INTEGRATION,
        patient=therapy_patient,
        room=make.room(clinic.location, RoomKind.THERAPY_ROOM),
        staff=[(clinic.therapist, StaffPart.THERAPIST)],
        start=make.local(clinic.location, dt.date(2026, 3, 5), 9),
        minutes=50,
    )
    extra = {"therapy_patient": therapy_patient, "dosing": dosing, "integration": integration}
    return World(app, make, clinic, session, extra)


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_role_matrix(row: Row, world: World, api: Api) -> None:
    seen = {}
    for role in ORDER:
        path, body = row.request(world, role)
        response = api.call(row.method, path, role, json=body)
        seen[role] = response.status_code
    expected = {role: row.status_for(role) for role in ORDER}
    assert seen == expected


def test_a_colleagues_email_hours_and_time_off_reasons_are_private(
    api: Api, clinic: Clinic, make: Factory
) -> None:
    member = clinic.therapist
    make.time_off(member, NOW + dt.timedelta(days=3), NOW + dt.timedelta(days=4))
    seen_by = {
        role: api.get(f"/api/staff/{member.id}", role).json
        for role in ("admin", "front_desk", "clinician", "therapist")
    }
    for role in ("admin", "therapist"):  # an admin, and the therapist themselves
        assert seen_by[role]["email"] == member.email
        assert seen_by[role]["time_off"][0]["reason"] == "Leave"
        assert "working_hours" in seen_by[role]
    for role in ("front_desk", "clinician"):
        assert "email" not in seen_by[role] and "working_hours" not in seen_by[role]
        assert "reason" not in seen_by[role]["time_off"][0]
        assert seen_by[role]["name"] == member.name
    listed = api.get("/api/staff", "clinician").json
    assert all("email" not in m for m in listed if m["id"] != clinic.clinician.id)
