"""Every look at a patient's record is logged (who, when, which patient, which route), and
admins can list them by patient; failed or refused looks log nothing."""

from __future__ import annotations

from scheduler.models import RecordRead
from tests.web.conftest import sign_in


def test_reads_through_the_api_and_the_pages_are_logged(api, app, clinic, session):
    patient = clinic.patient
    assert api.get(f"/api/patients/{patient.id}", "front_desk").status_code == 200
    page = app.test_client()
    sign_in(page, clinic.admin)
    assert page.get(f"/patients/{patient.id}").status_code == 200
    listed = api.get(f"/api/record-reads?patient_id={patient.id}", "admin")
    assert listed.status_code == 200
    reads = [(r["staff"], r["via"]) for r in listed.json]
    assert reads == [
        (clinic.admin.name, "GET /patients/<int:patient_id>"),
        (clinic.front_desk.name, "GET /api/patients/<int:patient_id>"),
    ]
    assert all(r["patient_id"] == patient.id for r in listed.json)


def test_refused_and_missing_records_log_nothing(api, clinic, make, session):
    stranger = make.patient(first_name="Unseen")
    assert api.get(f"/api/patients/{stranger.id}", "therapist").status_code == 404
    assert api.get("/api/patients/999999", "front_desk").status_code == 404
    assert session.query(RecordRead).filter_by(patient_id=stranger.id).count() == 0


def test_only_admins_read_the_log(api):
    assert api.get("/api/record-reads", "front_desk").status_code == 403
    assert api.get("/api/record-reads", "admin").status_code == 200
