"""Finding 2 of issue 9: a dose booked on its own bypassed the protocol (no monitoring time, no
chair turnover, no evaluation, no integration). A dose is only booked through a course."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from scheduler.audit import Action
from scheduler.booking import AppointmentRequest, book_appointment
from scheduler.errors import ValidationFailed
from scheduler.models import Appointment, AppointmentKind, StaffPart
from tests.clients import TOMORROW, booking


def dose_body(clinic, starts_at: str) -> dict:
    return booking(
        clinic,
        starts_at,
        kind="dosing",
        room_id=clinic.chair.id,
        duration_minutes=30,
        buffer_minutes=0,
        staff=[{"staff_id": clinic.clinician.id, "part": "administering_clinician"}],
    )


def test_standalone_dosing_bypasses_the_protocol_is_refused(api, clinic, at, session):
    response = api.post("/api/appointments", role="front_desk", json=dose_body(clinic, at(12)))
    assert response.status_code == 422, response.json
    (message,) = response.json["errors"]["json"]["kind"]
    assert "course" in message and "booster" in message and "POST /api/courses" in message
    assert session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_the_domain_refuses_a_dose_without_a_course(make, clinic, session):
    """Pages and the CLI book through the same function, so they are refused the same way."""
    start = make.local(clinic.location, TOMORROW, 12)
    request = AppointmentRequest(
        kind=AppointmentKind.DOSING,
        patient_id=clinic.patient.id,
        location_id=clinic.location.id,
        room_id=clinic.chair.id,
        starts_at=start,
        ends_at=start.replace(hour=start.hour + 2),
        staff=[(clinic.clinician.id, StaffPart.ADMINISTERING_CLINICIAN)],
    )
    with pytest.raises(ValidationFailed) as refused:
        book_appointment(session, request, Action("test", None, make.now))
    assert set(refused.value.fields) == {"kind"}


@pytest.mark.parametrize(
    ("kind", "part"),
    [("evaluation", "evaluating_clinician"), ("follow_up", "evaluating_clinician")],
)
def test_evaluations_and_follow_ups_stay_standalone(api, clinic, at, kind, part):
    body = booking(
        clinic, at(12), kind=kind, staff=[{"staff_id": clinic.clinician.id, "part": part}]
    )
    assert api.post("/api/appointments", json=body).status_code == 201
