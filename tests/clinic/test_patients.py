"""Patients: front desk registers and edits; clinicians and therapists read only the patients
they treat; notes go to staff who may see the patient and never into the audit log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from scheduler.models import AuditEntry

NEW = {
    "first_name": "Sam",
    "last_name": "Rivera",
    "date_of_birth": "1979-08-30",
    "email": "Sam.Rivera@Example.org",
    "phone": "+1 (555) 010-2000",
    "timezone": "America/Chicago",
    "remind_by_sms": True,
    "reminder_overrides": {"dosing": [48, 2]},
    "quiet_hours_start": "22:00",
    "quiet_hours_end": "07:30",
    "feed_privacy": "standard",
    "notes": "Prefers the window chair; history of motion sickness.",
}


def test_front_desk_registers_and_edits_a_patient(api, session):
    created = api.post("/api/patients", role="front_desk", json=NEW)
    assert created.status_code == 201
    patient = created.json
    assert patient["email"] == "sam.rivera@example.org"
    assert patient["reminder_overrides"] == {"dosing": [48.0, 2.0]}
    assert patient["quiet_hours_start"] == "22:00" and patient["feed_privacy"] == "standard"
    assert patient["notes"] == NEW["notes"]

    changed = api.patch(
        f"/api/patients/{patient['id']}", role="front_desk", json={"notes": "Updated."}
    )
    assert changed.status_code == 200 and changed.json["notes"] == "Updated."
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "patient")).all()
    assert [e.action for e in audit] == ["patient.create", "patient.update"]
    logged = json.dumps([e.before for e in audit] + [e.after for e in audit])
    assert "motion sickness" not in logged and "Updated." not in logged


def test_defaults_apply_when_omitted(api):
    body = {k: NEW[k] for k in ("first_name", "last_name", "date_of_birth", "timezone", "email")}
    patient = api.post("/api/patients", json=body).json
    assert patient["quiet_hours_start"] == "21:00" and patient["quiet_hours_end"] == "08:00"
    assert patient["remind_by_email"] is True and patient["feed_privacy"] == "minimal"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Central Time"}, "timezone"),
        ({"email": "sam@"}, "email"),
        ({"phone": "call me maybe"}, "phone"),
        ({"date_of_birth": "1979-02-30"}, "date_of_birth"),
        ({"date_of_birth": 19790830}, "date_of_birth"),
        ({"reminder_overrides": {"massage": [1]}}, "reminder_overrides"),
        ({"reminder_overrides": {"dosing": [-1]}}, "reminder_overrides"),
        ({"feed_privacy": "everything"}, "feed_privacy"),
        ({"quiet_hours_start": "9pm"}, "quiet_hours_start"),
        ({"remind_by_sms": 1}, "remind_by_sms"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"remind_by_sms": True, "phone": None}, "phone"),
    ],
)
def test_invalid_patient_fields_are_422(api, change, field):
    response = api.post("/api/patients", json={**NEW, **change})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


def test_care_staff_see_only_patients_they_treat(api, clinic, make):
    other = make.patient(first_name="Quinn")
    make.appointment(clinic)  # the clinician now treats clinic.patient
    listed = api.get("/api/patients", role="clinician")
    assert [p["id"] for p in listed.json] == [clinic.patient.id]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 1
    assert api.get(f"/api/patients/{clinic.patient.id}", role="clinician").status_code == 200
    assert api.get(f"/api/patients/{other.id}", role="clinician").status_code == 404
    assert api.get("/api/patients", role="therapist").json == []
    assert api.get(f"/api/patients/{clinic.patient.id}", role="therapist").status_code == 404
    assert len(api.get("/api/patients", role="front_desk").json) == 2


def test_patients_are_paged(api, make):
    for n in range(5):
        make.patient(last_name=f"Zed{n}")
    page = api.get("/api/patients?page=2&page_size=2")
    assert [p["last_name"] for p in page.json] == ["Zed1", "Zed2"]
    meta = json.loads(page.headers["X-Pagination"])
    assert meta == {
        "total": 6,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 2,
        "previous_page": 1,
        "next_page": 3,
    }
    assert api.get("/api/patients?page=999999").json == []
    assert api.get("/api/patients?page_size=1000").status_code == 422
    assert api.get("/api/patients?name=Zed").status_code == 422  # no names in URLs


def test_patient_with_appointments_cannot_be_deleted(api, clinic, make):
    make.appointment(clinic)
    response = api.delete(f"/api/patients/{clinic.patient.id}", role="front_desk")
    assert response.status_code == 409 and response.json["rule"] == "in_use"
    assert "Avery" not in response.json["message"]


def test_rems_enrollment_is_kept_with_its_date_and_number(api, session):
    """Esketamine needs the REMS enrollment on record (issue 9, finding 8): staff record the
    date and number together, and can clear both."""
    body = {**NEW, "rems_enrolled_on": "2026-02-20", "rems_number": "SPR-0042 17"}
    created = api.post("/api/patients", role="front_desk", json=body)
    assert created.status_code == 201, created.json
    pid = created.json["id"]
    shown = api.get(f"/api/patients/{pid}", role="front_desk").json
    assert (shown["rems_enrolled_on"], shown["rems_number"]) == ("2026-02-20", "SPR-0042 17")
    cleared = api.patch(
        f"/api/patients/{pid}",
        role="front_desk",
        json={"rems_enrolled_on": None, "rems_number": None},
    )
    assert cleared.status_code == 200
    assert (cleared.json["rems_enrolled_on"], cleared.json["rems_number"]) == (None, None)
    plain = api.post("/api/patients", role="front_desk", json=NEW).json
    assert plain["rems_enrolled_on"] is None and plain["rems_number"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rems_enrolled_on": "2026-02-20"}, "rems_number"),
        ({"rems_number": "SPR-1"}, "rems_enrolled_on"),
        ({"rems_enrolled_on": "2026-03-09", "rems_number": "SPR-1"}, "rems_enrolled_on"),
        ({"rems_enrolled_on": "2026-02-20", "rems_number": "x" * 41}, "rems_number"),
        ({"rems_enrolled_on": "2026-02-20", "rems_number": ""}, "rems_number"),
        ({"rems_enrolled_on": "2026-02-20", "rems_number": "SPR\n1"}, "rems_number"),
    ],
)
def test_rems_enrollment_needs_both_a_past_date_and_a_printable_number(api, change, field):
    created = api.post("/api/patients", role="front_desk", json={**NEW, **change})
    assert created.status_code == 422
    assert field in created.json["errors"]["json"], created.json
    patient = api.post("/api/patients", role="front_desk", json=NEW).json
    changed = api.patch(f"/api/patients/{patient['id']}", role="front_desk", json=change)
    assert changed.status_code == 422


def test_patch_of_one_rems_field_keeps_the_pair_whole(api):
    body = {**NEW, "rems_enrolled_on": "2026-02-20", "rems_number": "SPR-7"}
    patient = api.post("/api/patients", role="front_desk", json=body).json
    renumbered = api.patch(
        f"/api/patients/{patient['id']}", role="front_desk", json={"rems_number": "SPR-8"}
    )
    assert renumbered.status_code == 200 and renumbered.json["rems_number"] == "SPR-8"
    half = api.patch(
        f"/api/patients/{patient['id']}", role="front_desk", json={"rems_number": None}
    )
    assert half.status_code == 422 and "rems_number" in half.json["errors"]["json"]
