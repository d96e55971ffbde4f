"""The front desk's pages: finding and creating patients, the day view, and appointment
actions (check in, complete, no-show, cancel with a reason)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from scheduler.models import AppointmentStatus, AuditEntry, Patient

from .conftest import TUESDAY, sign_in


def desk(app, scene):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, scene.clinic.front_desk)
    return client


def test_search_finds_patients_by_name_without_putting_it_in_the_url(app, scene, make):
    make.patient(first_name="Rowan", last_name="Quill")
    client = desk(app, scene)
    page = client.post("/patients", data={"q": "rowan qu"}).get_data(as_text=True)
    assert "Quill, Rowan" in page and "1 match" in page
    none = client.post("/patients", data={"q": "nobody-like-this"}).get_data(as_text=True)
    assert "No patient matches" in none and "Create a new patient" in none
    fragment = client.post("/patients", data={"q": "Quill"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)


def test_create_patient_with_domain_validation_on_the_field(app, scene, session):
    client = desk(app, scene)
    data = {
        "first_name": "Nia",
        "last_name": "Okoro",
        "date_of_birth": "1990-04-01",
        "timezone": "America/New_York",
        "remind_by_sms": "y",
        "email": "nia@example.org",
    }
    refused = client.post("/patients/new", data=data)
    assert refused.status_code == 422
    assert "SMS reminders need a phone number" in refused.get_data(as_text=True)
    created = client.post("/patients/new", data={**data, "phone": "+1 555 0199"})
    assert created.status_code == 302
    patient = session.scalars(select(Patient).where(Patient.last_name == "Okoro")).one()
    assert created.headers["Location"] == f"/patients/{patient.id}"


def test_edit_and_preferences(app, scene, session):
    client = desk(app, scene)
    patient = scene.clinic.patient
    form = client.get(f"/patients/{patient.id}/edit").get_data(as_text=True)
    assert patient.last_name in form
    saved = client.post(
        f"/patients/{patient.id}/preferences",
        data={
            "feed_privacy": "standard",
            "remind_by_email": "y",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:30",
            "dosing": "72, 2",
        },
    )
    assert saved.status_code == 302
    session.expire_all()
    fresh = session.get(Patient, patient.id)
    assert fresh.feed_privacy.value == "standard"
    assert fresh.reminder_overrides == {"dosing": [72.0, 2.0]}
    assert fresh.quiet_hours_start == dt.time(22)
    bad = client.post(
        f"/patients/{patient.id}/preferences",
        data={
            "feed_privacy": "standard",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:30",
            "dosing": "soon",
        },
    )
    assert bad.status_code == 422 and "Hours before" in bad.get_data(as_text=True)


def test_day_view_shows_rooms_with_appointments_and_pairs(app, scene):
    client = desk(app, scene)
    location = scene.clinic.location
    page = client.get(f"/desk/day?location={location.id}&date={TUESDAY}").get_data(as_text=True)
    assert "Chair 1" in page and "Therapy 1" in page
    assert f'data-appointment="{scene.dosing.id}"' in page
    assert "09:00\u201310:40" in page and "↔ Integration Wed 04 Mar 10:00" in page
    assert "Avery" in page
    garbage = client.get("/desk/day?location=abc&date=not-a-date")
    assert garbage.status_code == 200


def test_cancel_needs_a_reason_and_is_audited(app, scene, session):
    client = desk(app, scene)
    url = f"/appointments/{scene.integration.id}"
    client.post(url + "/cancel", data={"reason": ""})
    assert session.get(type(scene.integration), scene.integration.id).status.value == "scheduled"
    client.post(url + "/cancel", data={"reason": "Patient has the flu", "revision": "1"})
    session.expire_all()
    cancelled = session.get(type(scene.integration), scene.integration.id)
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.cancel_reason == "Patient has the flu"
    page = client.get(url).get_data(as_text=True)
    assert "Patient has the flu" in page and "Cancel" in page
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "appointment.cancel")
    ).one()
    assert entry.actor_id == scene.clinic.front_desk.id


def test_a_stale_page_cannot_change_an_appointment(app, scene, session):
    client = desk(app, scene)
    response = client.post(
        f"/appointments/{scene.dosing.id}/cancel", data={"reason": "x", "revision": "99"}
    )
    assert response.status_code == 302
    page = client.get(f"/appointments/{scene.dosing.id}").get_data(as_text=True)
    assert "changed since the page was loaded" in page


def test_check_in_only_on_the_day_then_complete(app, scene, session):
    client = desk(app, scene)
    url = f"/appointments/{scene.dosing.id}/status"
    client.post(url, data={"step": "check_in"})
    page = client.get(f"/appointments/{scene.dosing.id}").get_data(as_text=True)
    assert "Check-in is only possible on the day of the appointment" in page

    app.config["CLOCK"] = lambda: scene.dosing.starts_at - dt.timedelta(minutes=10)
    client = desk(app, scene)  # weeks later: the idle session has expired
    client.post(url, data={"step": "check_in"})
    client.post(url, data={"step": "complete"})
    session.expire_all()
    assert session.get(type(scene.dosing), scene.dosing.id).status == AppointmentStatus.COMPLETED
    assert client.post(url, data={"step": "explode"}).status_code == 302


def test_care_staff_cannot_change_appointments(app, scene):
    client = app.test_client()
    sign_in(client, scene.clinic.clinician)
    url = f"/appointments/{scene.dosing.id}"
    assert client.post(url + "/status", data={"step": "check_in"}).status_code == 403
    assert client.post(url + "/cancel", data={"reason": "x"}).status_code == 403
    page = client.get(url).get_data(as_text=True)
    assert "Cancel this appointment" not in page and "Move" not in page


def test_appointment_downloads_as_the_patients_ics(app, scene):
    client = desk(app, scene)
    response = client.get(f"/appointments/{scene.dosing.id}.ics")
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "BEGIN:VCALENDAR" in body and scene.dosing.uid in body
    assert scene.clinic.patient.last_name not in body  # minimal privacy by default
