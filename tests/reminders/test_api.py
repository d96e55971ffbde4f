"""/api: an appointment's reminders for whoever may see it; failures, resend, outbox and
templates for admins."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.db import write_transaction
from scheduler.models import Reminder, ReminderStatus, Role
from scheduler.reminders.worker import ReminderWorker
from tests.clients import Api, token_for

D = dt.date(2026, 3, 5)


@pytest.fixture
def setup(app, make, session):
    clinic = make.clinic()
    other = make.staff(name="Other Therapist", location=clinic.location)
    other.set_roles([Role.THERAPIST])
    session.commit()
    appointment = make.appointment(clinic, start=make.local(clinic.location, D, 10))
    members = {
        "admin": clinic.admin,
        "front_desk": clinic.front_desk,
        "clinician": clinic.clinician,
        "other": other,
    }
    tokens = {role: token_for(session, m, make.now, hours=24) for role, m in members.items()}
    return Api(app.test_client(), tokens), appointment


def test_an_appointments_reminders_with_status(setup):
    api, appointment = setup
    response = api.get(f"/api/appointments/{appointment.id}/reminders", role="clinician")
    assert response.status_code == 200
    body = response.get_json()
    assert [(r["kind"], r["offset_minutes"], r["status"]) for r in body] == [
        ("booked", None, "pending"),
        ("reminder", 2880, "pending"),
        ("reminder", 120, "pending"),
    ]
    assert body[1]["due_at"] == "2026-03-03T15:00:00+00:00"
    assert api.get(f"/api/appointments/{appointment.id}/reminders", role="other").status_code == 404
    assert api.get("/api/appointments/99999/reminders").status_code == 404
    assert api.get(f"/api/appointments/{2**40}/reminders").status_code == 404


@pytest.mark.committing  # the worker marks sends on its own connection
def test_failed_deliveries_resend_and_outbox(app, setup, session):
    api, _appointment = setup
    with write_transaction(session):
        row = session.query(Reminder).filter_by(kind="booked").one()
        row.status = ReminderStatus.FAILED
        row.last_error = "recipient refused: 550 unknown user"
    failed = api.get("/api/reminders/failed").get_json()
    assert [(r["id"], r["last_error"]) for r in failed] == [(row.id, row.last_error)]
    assert api.get("/api/reminders/failed", role="front_desk").status_code == 403
    assert api.get("/api/reminders/failed?limit=0").status_code == 422

    resent = api.post(f"/api/reminders/{row.id}/resend")
    assert resent.status_code == 200 and resent.get_json()["status"] == "pending"
    assert api.post(f"/api/reminders/{row.id}/resend").status_code == 409
    assert api.post("/api/reminders/424242/resend").status_code == 404
    assert api.post(f"/api/reminders/{row.id}/resend", role="front_desk").status_code == 403

    app.config["CLOCK"] = lambda: dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC)
    ReminderWorker(app, worker_id="embedded").run_once()  # no SMTP: the outbox
    outbox = api.get("/api/reminders/outbox").get_json()
    assert len(outbox) == 1 and outbox[0]["subject"].startswith("Booked: your appointment")
    assert outbox[0]["attachment"].startswith("BEGIN:VCALENDAR")
    assert api.get("/api/reminders/outbox?channel=sms").get_json() == []
    assert api.get("/api/reminders/outbox", role="clinician").status_code == 403


def test_templates_read_and_edit(setup):
    api, _appointment = setup
    names = [t["name"] for t in api.get("/api/reminders/templates").get_json()]
    assert "dosing_preparation" in names and "course_welcome" in names
    response = api.patch(
        "/api/reminders/templates/dosing_soon", json={"subject": "Soon: {{ appointment.when }}"}
    )
    assert response.status_code == 200
    assert response.get_json()["customized"] == ["subject"]
    assert api.get("/api/reminders/templates/dosing_soon").get_json()["subject"].startswith("Soon")
    broken = api.patch("/api/reminders/templates/dosing_soon", json={"body_text": "{{ x"})
    assert broken.status_code == 422 and "body_text" in broken.get_json()["errors"]["json"]
    assert api.patch("/api/reminders/templates/nope", json={"subject": "x"}).status_code == 404
    assert api.patch("/api/reminders/templates/dosing_soon", json={"x": 1}).status_code == 422
    assert (
        api.patch(
            "/api/reminders/templates/dosing_soon", role="front_desk", json={"subject": "Hi"}
        ).status_code
        == 403
    )
