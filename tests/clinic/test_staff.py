"""Staff: roles, working hours per location, time off; write-only passwords; admin guard."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD


def new_staff(clinic, **overrides):
    body = {
        "name": "Morgan Nurse",
        "email": "Morgan@Example.org",
        "roles": ["clinician", "therapist"],
        "password": "long-enough-secret-words",
        "working_hours": [
            {"location_id": clinic.location.id, "weekday": 1, "starts": "09:00", "ends": "17:00"}
        ],
        "time_off": [
            {
                "starts_at": "2026-04-01T00:00:00-04:00",
                "ends_at": "2026-04-08T00:00:00-04:00",
                "reason": "Conference",
            }
        ],
    }
    body.update(overrides)
    return body


def test_create_sign_in_update_delete(api, clinic):
    created = api.post("/api/staff", json=new_staff(clinic))
    assert created.status_code == 201
    member = created.json
    assert member["email"] == "morgan@example.org"
    assert member["roles"] == ["clinician", "therapist"]
    assert "password" not in member and "password_hash" not in member
    assert member["working_hours"][0]["starts"] == "09:00"
    assert member["time_off"][0]["starts_at"] == "2026-04-01T04:00:00+00:00"

    signed_in = api.post(
        "/api/auth/token",
        role=None,
        json={"email": "morgan@example.org", "password": "long-enough-secret-words"},
    )
    assert signed_in.status_code == 201

    listed = api.get(f"/api/staff?role=therapist&location_id={clinic.location.id}").json
    assert {m["name"] for m in listed} == {"Dana Therapist", "Morgan Nurse"}

    changed = api.patch(f"/api/staff/{member['id']}", json={"roles": ["therapist"]})
    assert changed.json["roles"] == ["therapist"]
    assert api.delete(f"/api/staff/{member['id']}").status_code == 204
    assert api.get(f"/api/staff/{member['id']}").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"roles": ["surgeon"]}, "roles"),
        ({"roles": []}, "roles"),
        ({"password": "short"}, "password"),
        ({"name": "x\x00y"}, "name"),
        (
            {
                "working_hours": [
                    {"location_id": 999, "weekday": 1, "starts": "09:00", "ends": "17:00"}
                ]
            },
            "working_hours",
        ),
        (
            {
                "working_hours": [
                    {"location_id": 1, "weekday": -1, "starts": "09:00", "ends": "17:00"}
                ]
            },
            "working_hours",
        ),
        (
            {"time_off": [{"starts_at": "2026-04-01T00:00:00", "ends_at": "2026-04-02T00:00:00Z"}]},
            "time_off",
        ),
        (
            {
                "time_off": [
                    {"starts_at": "2026-04-02T00:00:00Z", "ends_at": "2026-04-01T00:00:00Z"}
                ]
            },
            "time_off",
        ),
    ],
)
def test_invalid_staff_fields_are_422(api, clinic, change, field):
    response = api.post("/api/staff", json=new_staff(clinic, **change))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


def test_duplicate_email_is_422(api, clinic):
    response = api.post("/api/staff", json=new_staff(clinic, email=clinic.therapist.email))
    assert response.status_code == 422
    assert "email" in response.json["errors"]["json"]


def test_staff_with_appointments_is_deactivated_and_their_tokens_stop(api, clinic, make):
    make.appointment(clinic)
    response = api.delete(f"/api/staff/{clinic.clinician.id}")
    assert response.status_code == 409 and response.json["rule"] == "in_use"
    off = api.patch(f"/api/staff/{clinic.clinician.id}", json={"active": False})
    assert off.status_code == 409 and off.json["sessions"][0]["rule"] == "staff_role"
    off = api.patch(
        f"/api/staff/{clinic.clinician.id}", json={"active": False, "on_conflict": "flag"}
    )
    assert off.status_code == 200
    assert api.get("/api/auth/me", role="clinician").status_code == 401
    sign_in = {"email": clinic.clinician.email, "password": PASSWORD}
    assert api.post("/api/auth/token", role=None, json=sign_in).status_code == 401


def test_the_last_admin_stays(api, clinic):
    demote = api.patch(f"/api/staff/{clinic.admin.id}", json={"roles": ["front_desk"]})
    assert demote.status_code == 409 and demote.json["rule"] == "last_admin"
    assert api.delete(f"/api/staff/{clinic.admin.id}").status_code == 409
    assert api.get("/api/auth/me").json["roles"] == ["admin"]  # nothing half-written
