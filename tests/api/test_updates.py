"""A PATCH that changes nothing (no body, ``{}``) is refused naming what may be set, on every
resource that takes partial updates."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("resource", ["locations", "patients", "rooms", "staff"])
def test_an_update_without_changes_is_422(api, clinic, resource):
    ids = {
        "locations": clinic.location.id,
        "patients": clinic.patient.id,
        "rooms": clinic.chair.id,
        "staff": clinic.therapist.id,
    }
    path = f"/api/{resource}/{ids[resource]}"
    for body in ({}, None):
        answer = (
            api.patch(path, "admin", json=body) if body is not None else api.patch(path, "admin")
        )
        assert answer.status_code == 422, (path, body, answer.json)
        (message,) = answer.json["errors"]["json"]["_schema"]
        assert message.startswith("give at least one field to change: ")
    assert (
        api.patch(
            path,
            "admin",
            json={"name": "Renamed"} if resource != "patients" else {"phone": "+1 555 0199"},
        ).status_code
        == 200
    )


def test_a_template_update_without_changes_is_422(api):
    answer = api.patch("/api/reminders/templates/dosing_preparation", "admin", json={})
    assert answer.status_code == 422
    assert "subject" in answer.json["errors"]["json"]["_schema"][0]


def test_a_text_over_its_max_length_is_refused_before_stripping(api, clinic, at):
    from tests.clients import booking

    booked = api.post("/api/appointments", "front_desk", json=booking(clinic, at(9)))
    assert booked.status_code == 201, booked.json
    padded = "Patient is unwell" + " " * 300  # 317 characters sent, 17 after stripping
    answer = api.post(
        f"/api/appointments/{booked.json['id']}/cancel", "front_desk", json={"reason": padded}
    )
    assert answer.status_code == 422
    assert "reason" in answer.json["errors"]["json"]
