"""Finding 5 of issue 9: cancelling course sessions meant different things by different routes.
`POST /api/appointments/{dose}/cancel` silently kept the integration session while the course
route insisted on a choice. Now every route cancels through ``cancel_session``."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.models import Appointment

WHO = "front_desk"


def book_iv(api, cc, session, now) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/courses",
        WHO,
        json={
            "patient_id": cc.clinic.patient.id,
            "location_id": cc.clinic.location.id,
            "protocol_id": cc.protocol("IV").id,
        },
    )
    assert response.status_code == 201, response.json
    return {f"{a['step_key']}-{a['sequence']}": a for a in response.json["appointments"]} | {
        "course": response.json
    }


def cancel_path(route: str, course_id: int, appointment_id: int) -> str:
    if route == "plain":
        return f"/api/appointments/{appointment_id}/cancel"
    return f"/api/courses/{course_id}/appointments/{appointment_id}/cancel"


def status(session, appointment_id: int) -> str:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.get(Appointment, appointment_id).status.value  # type: ignore[no-any-return]


def test_plain_cancel_of_course_dose_needs_keep_integration(api, course_clinic, session, now):
    booked = book_iv(api, course_clinic, session, now)
    dose, integration = booked["dosing-2"], booked["integration-2"]
    path = f"/api/appointments/{dose['id']}/cancel"
    asked = api.post(path, WHO, json={"reason": "Unwell"})
    assert asked.status_code == 422, asked.json
    (message,) = asked.json["errors"]["json"]["keep_integration"]
    assert str(integration["id"]) in message
    assert status(session, dose["id"]) == "scheduled"
    kept = api.post(path, WHO, json={"reason": "Unwell", "keep_integration": True})
    assert kept.status_code == 200 and kept.json["status"] == "cancelled"
    assert status(session, integration["id"]) == "scheduled"


@pytest.mark.parametrize("route", ["plain", "course"])
@pytest.mark.parametrize("keep", [True, False])
def test_every_route_cancels_a_dose_the_same_way(api, course_clinic, session, now, route, keep):
    booked = book_iv(api, course_clinic, session, now)
    course_id = booked["course"]["id"]
    dose, integration = booked["dosing-3"], booked["integration-3"]
    path = cancel_path(route, course_id, dose["id"])
    assert api.post(path, WHO, json={"reason": "Unwell"}).status_code == 422
    done = api.post(path, WHO, json={"reason": "Unwell", "keep_integration": keep})
    assert done.status_code == 200, done.json
    assert status(session, dose["id"]) == "cancelled"
    assert status(session, integration["id"]) == ("scheduled" if keep else "cancelled")
    assert status(session, booked["dosing-4"]["id"]) == "scheduled"


@pytest.mark.parametrize("route", ["plain", "course"])
def test_an_integration_or_the_evaluation_cancels_without_a_choice(
    api, course_clinic, session, now, route
):
    booked = book_iv(api, course_clinic, session, now)
    course_id = booked["course"]["id"]
    for key in ("integration-1", "evaluation-1"):
        path = cancel_path(route, course_id, booked[key]["id"])
        response = api.post(path, WHO, json={"reason": "Therapist ill"})
        assert response.status_code == 200, response.json
        assert status(session, booked[key]["id"]) == "cancelled"
    assert status(session, booked["dosing-1"]["id"]) == "scheduled"


def test_a_dose_whose_integration_is_gone_needs_no_choice(api, course_clinic, session, now):
    booked = book_iv(api, course_clinic, session, now)
    dose, integration = booked["dosing-4"], booked["integration-4"]
    assert (
        api.post(
            f"/api/appointments/{integration['id']}/cancel", WHO, json={"reason": "x"}
        ).status_code
        == 200
    )
    response = api.post(f"/api/appointments/{dose['id']}/cancel", WHO, json={"reason": "x"})
    assert response.status_code == 200, response.json


def test_keep_integration_must_be_a_boolean(api, course_clinic, session, now):
    booked = book_iv(api, course_clinic, session, now)
    path = f"/api/appointments/{booked['dosing-1']['id']}/cancel"
    response = api.post(path, WHO, json={"reason": "x", "keep_integration": "maybe"})
    assert response.status_code == 422
    assert "keep_integration" in response.json["errors"]["json"]
