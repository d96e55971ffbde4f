"""Reminders on the appointment and patient pages; failed deliveries, resend and the outbox."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.models import OutboxMessage, Reminder, ReminderChannel, ReminderStatus

from .conftest import sign_in


def test_appointment_and_patient_pages_list_reminders_with_status(app, scene, session):
    reminders = session.scalars(
        select(Reminder).where(Reminder.appointment_id == scene.dosing.id)
    ).all()
    assert reminders, "booking a dosing session schedules its reminders"
    client = app.test_client()
    sign_in(client, scene.clinic.front_desk)
    page = client.get(f"/appointments/{scene.dosing.id}").get_data(as_text=True)
    assert "Reminders and notices" in page
    assert page.count('<td><span class="badge') >= len(reminders)
    patient_page = client.get(f"/patients/{scene.clinic.patient.id}").get_data(as_text=True)
    assert 'aria-label="Reminders"' in patient_page and "Pending" in patient_page


def test_admin_sees_failed_deliveries_and_resends(app, scene, session):
    reminder = session.scalars(
        select(Reminder).where(Reminder.appointment_id == scene.dosing.id)
    ).first()
    reminder.status = ReminderStatus.FAILED
    reminder.last_error = "550 mailbox unavailable"
    session.commit()
    client = app.test_client()
    sign_in(client, scene.clinic.admin)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "550 mailbox unavailable" in page and "Resend" in page
    response = client.post(f"/admin/reminders/{reminder.id}/resend", data={"back": "/admin/outbox"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/outbox"
    session.expire_all()
    assert session.get(Reminder, reminder.id).status == ReminderStatus.PENDING
    again = client.post(f"/admin/reminders/{reminder.id}/resend")
    assert again.status_code == 302  # already pending: refused with a message, not an error
    assert "already pending" in client.get("/admin/outbox").get_data(as_text=True)


def test_front_desk_cannot_resend(app, scene, session):
    reminder = session.scalars(select(Reminder)).first()
    client = app.test_client()
    sign_in(client, scene.clinic.front_desk)
    assert client.post(f"/admin/reminders/{reminder.id}/resend").status_code == 403


def test_outbox_lists_and_shows_messages(app, scene, session, now):
    message = OutboxMessage(
        channel=ReminderChannel.EMAIL,
        recipient="avery@example.org",
        subject="Your infusion on Tuesday",
        body_text="Please arrange a ride home.",
        message_id="<test-1@clinic>",
        created_at=now,
    )
    session.add(message)
    session.commit()
    client = app.test_client()
    sign_in(client, scene.clinic.admin)
    assert "Your infusion on Tuesday" in client.get("/admin/outbox").get_data(as_text=True)
    assert "Your infusion" not in client.get("/admin/outbox?channel=sms").get_data(as_text=True)
    shown = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "Please arrange a ride home." in shown
    assert client.get("/admin/outbox/424242").status_code == 404


def test_template_edit_refuses_a_broken_template(app, scene):
    client = app.test_client()
    sign_in(client, scene.clinic.admin)
    page = client.get("/admin/templates/dosing_preparation").get_data(as_text=True)
    assert "Plain-text body" in page
    bad = client.post(
        "/admin/templates/dosing_preparation",
        data={"subject": "Hi {{ patient", "body_text": "x", "body_html": "", "sms_text": ""},
    )
    assert bad.status_code == 422 and "line 1" in bad.get_data(as_text=True)
    good = client.post(
        "/admin/templates/dosing_preparation",
        data={"subject": "See you soon", "body_text": "", "body_html": "", "sms_text": ""},
    )
    assert good.status_code == 302
    assert "See you soon" in client.get("/admin/templates").get_data(as_text=True)
