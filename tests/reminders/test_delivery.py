"""Delivery to a real SMTP server on loopback, the outbox, SMS, retries, failures and resends."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from icalendar import Calendar

from scheduler.audit import Action
from scheduler.db import write_transaction
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import (
    AppointmentKind,
    FeedPrivacy,
    OutboxMessage,
    ReminderStatus,
    ReminderTemplate,
)
from scheduler.reminders import admin
from scheduler.reminders.channels import LogSmsBackend, OutboxChannel, WebhookSmsBackend
from scheduler.reminders.worker import ReminderWorker, WorkerSettings

from .conftest import rows

D = dt.date(2026, 3, 5)  # Thursday


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def fresh(session):
    """The admin module, after ending the test session's snapshot (workers wrote meanwhile)."""
    session.commit()
    session.expire_all()
    return admin


def booked_dosing(make, session, **patient):
    clinic = make.clinic()
    patient_row = make.patient(**patient) if patient else clinic.patient
    patient_row.notes = "Diagnosis: treatment-resistant depression"
    session.commit()
    appt = make.appointment(clinic, patient=patient_row, start=make.local(clinic.location, D, 10))
    appt.internal_note = "ketamine 0.5 mg/kg over 40 min"
    session.commit()
    return clinic, patient_row, appt


def test_smtp_messages_carry_local_times_and_the_ics(
    make, session, clock, make_worker, smtp_server
):
    _clinic, patient, appt = booked_dosing(make, session)
    worker = make_worker()
    assert worker.run_once().sent == 0  # 02:00 in New York: nothing yet
    assert len(smtp_server.mailbox) == 0

    clock.set(utc(2026, 3, 2, 13, 0))  # 08:00 New York
    assert worker.run_once().sent == 1
    (booked,) = smtp_server.mailbox.take()
    assert booked.recipients == [patient.email]
    assert (
        booked.subject == "Booked: your appointment on Thu 5 Mar 2026, 10:00 EST (America/New_York)"
    )
    assert "When:   Thu 5 Mar 2026, 10:00 EST (America/New_York)" in booked.text
    # The patient chose minimal privacy (the default): no treatment words, no instructions.
    assert "No solid food" not in booked.text and "infusion" not in booked.text.lower()
    assert "Ketamine" not in booked.subject + booked.text
    assert "<td>Thu 5 Mar 2026, 10:00 EST (America/New_York)</td>" in booked.html
    assert booked.message_id.startswith("<reminder-") and booked.message_id.endswith(
        ".0@clinic.example.org>"
    )
    (ics,) = booked.attachments
    assert ics.get_content_type() == "text/calendar" and ics.get_filename() == "appointment.ics"
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == utc(2026, 3, 5, 15, 0)
    assert str(event["uid"]) == appt.uid

    clock.set(utc(2026, 3, 3, 15, 0))  # 48 h before
    worker.run_once()
    (prep,) = smtp_server.mailbox.take()
    assert prep.subject.startswith("Preparing for your appointment on Thu 5 Mar 2026, 10:00 EST")
    assert "drive you home" not in prep.text  # minimal privacy: what the clinic tells by phone
    assert "Your preparation notes are with the clinic: please call" in prep.text
    assert prep.attachments == []

    clock.set(utc(2026, 3, 5, 13, 0))  # 2 h before: 08:00 New York
    worker.run_once()
    (soon,) = smtp_server.mailbox.take()
    assert "starts at 10:00 EST" in soon.text
    for message in (booked, prep, soon):
        for secret in ("ketamine", "mg/kg", "Diagnosis", "depression", patient.last_name):
            assert secret not in message.text + message.html + message.subject
    assert {str(r.status) for r in rows(session)} == {"sent"}


@pytest.mark.committing  # the worker marks sends on its own connection
def test_outbox_without_smtp_stores_each_message_once(app, make, session, clock):
    booked_dosing(make, session)
    clock.set(utc(2026, 3, 2, 13, 0))
    worker = ReminderWorker(app, worker_id="embedded")  # SMTP_URL is None in tests
    assert isinstance(worker.channels["email"], OutboxChannel)
    assert worker.run_once().sent == 1
    assert worker.run_once().sent == 0
    (message,) = fresh(session).list_outbox(session)
    assert message.subject.startswith("Booked: your appointment on Thu 5 Mar 2026")
    assert "BEGIN:VCALENDAR" in message.attachment
    assert admin.get_outbox_message(session, message.id).message_id == message.message_id


class Webhook(BaseHTTPRequestHandler):
    received: list[tuple[dict, dict]] = []
    status = 200

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        return None


@pytest.fixture
def webhook():
    Webhook.received = []
    Webhook.status = 200
    server = HTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms", Webhook
    server.shutdown()
    server.server_close()


@pytest.mark.committing  # the worker marks sends on its own connection
def test_sms_webhook_and_its_failures(app, make, session, clock, webhook):
    url, hook = webhook
    booked_dosing(make, session, remind_by_email=False, remind_by_sms=True)
    clock.set(utc(2026, 3, 2, 13, 0))
    channels = {"email": OutboxChannel(), "sms": WebhookSmsBackend(url)}
    worker = ReminderWorker(app, worker_id="w", channels=channels, settings=WorkerSettings())
    hook.status = 503
    report = worker.run_once()
    assert report.retried == 1
    (row,) = [r for r in rows(session) if r.kind == "booked"]
    assert row.status == "pending" and row.attempts == 1
    assert row.next_attempt_at == utc(2026, 3, 2, 13, 1)  # 1 minute backoff
    assert row.last_error == "SMS webhook answered 503"

    hook.status = 200
    clock.advance(minutes=1)
    assert worker.run_once().sent == 1
    headers, body = hook.received[-1]
    assert body["to"] == "+15550100"
    assert "booked for Thu 5 Mar 2026, 10:00 EST (America/New_York)" in body["body"]
    assert (
        headers["Idempotency-Key"]
        == body["message_id"]
        == f"<reminder-{row.id}.0@clinic.example.org>"
    )

    hook.status = 400
    clock.set(utc(2026, 3, 3, 15, 0))
    assert worker.run_once().failed == 1
    assert [r.last_error for r in fresh(session).list_failed(session)] == [
        "SMS webhook answered 400"
    ]


@pytest.mark.committing  # the worker marks sends on its own connection
def test_sms_log_backend_keeps_messages_in_the_outbox(app, make, session, clock):
    booked_dosing(make, session, remind_by_email=False, remind_by_sms=True)
    clock.set(utc(2026, 3, 2, 13, 0))
    worker = ReminderWorker(app, worker_id="w")
    assert isinstance(worker.channels["sms"], LogSmsBackend)
    worker.run_once()
    (sms,) = fresh(session).list_outbox(session)
    assert sms.channel == "sms" and sms.recipient == "+15550100" and sms.body_html is None


def test_transient_smtp_failure_retries_with_backoff(
    make, session, clock, make_worker, smtp_server
):
    _clinic, patient, _appt = booked_dosing(make, session)
    smtp_server.mailbox.refuse[patient.email] = "451 4.3.0 mailbox busy"
    clock.set(utc(2026, 3, 2, 13, 0))
    worker = make_worker()
    for expected_delay in (1, 2, 4):
        assert worker.run_once().retried == 1
        (row,) = [r for r in rows(session) if r.kind == "booked"]
        assert row.next_attempt_at == clock() + dt.timedelta(minutes=expected_delay)
        assert patient.email not in row.last_error and "451" in row.last_error
        clock.set(row.next_attempt_at)
    del smtp_server.mailbox.refuse[patient.email]
    assert worker.run_once().sent == 1
    assert len(smtp_server.mailbox.take()) == 1


def test_transient_failures_give_up_after_max_attempts(
    make, session, clock, make_worker, smtp_server
):
    _clinic, patient, _appt = booked_dosing(make, session)
    smtp_server.mailbox.refuse[patient.email] = "421 closing"
    clock.set(utc(2026, 3, 2, 13, 0))
    worker = make_worker(max_attempts=2)
    worker.run_once()
    clock.advance(minutes=1)
    assert worker.run_once().failed == 1
    (failed,) = fresh(session).list_failed(session)
    assert failed.last_error.startswith("gave up after 2 attempts")


def test_permanent_failure_is_shown_and_resent(make, session, clock, make_worker, smtp_server):
    _clinic, patient, _appt = booked_dosing(make, session)
    smtp_server.mailbox.refuse[patient.email] = f"550 5.1.1 <{patient.email}> no such user"
    clock.set(utc(2026, 3, 2, 13, 0))
    worker = make_worker()
    assert worker.run_once().failed == 1
    (failed,) = fresh(session).list_failed(session)
    assert failed.status == "failed" and failed.last_error.startswith("recipient refused: 550")
    assert patient.email not in failed.last_error

    del smtp_server.mailbox.refuse[patient.email]
    with write_transaction(session):
        admin.resend(session, failed.id, Action("reminder.resend", None, clock()))
    with pytest.raises(Conflict):
        admin.resend(session, failed.id, Action("reminder.resend", None, clock()))
    assert worker.run_once().sent == 1
    (message,) = smtp_server.mailbox.take()
    assert message.message_id == f"<reminder-{failed.id}.0@clinic.example.org>"
    # Resending a message that did go out makes a deliberate copy with a Message-ID of its own.
    with write_transaction(session):
        admin.resend(session, failed.id, Action("reminder.resend", None, clock()))
    worker.run_once()
    (copy,) = smtp_server.mailbox.take()
    assert copy.message_id == f"<reminder-{failed.id}.1@clinic.example.org>"


def test_after_downtime_useful_reminders_go_and_useless_ones_are_skipped(
    make, session, clock, make_worker, smtp_server
):
    booked_dosing(make, session)
    # No worker ran from Monday until Thursday 09:45 New York, 15 min before the session.
    clock.set(utc(2026, 3, 5, 14, 45))
    report = make_worker().run_once()
    assert report.sent == 0 and report.skipped == 3
    reasons = {r.template: r.skip_reason for r in rows(session)}
    assert reasons["appointment_booked"].endswith("the appointment starts within the hour")
    assert reasons["dosing_preparation"].startswith("too late to be useful")
    assert reasons["dosing_soon"].startswith("too late to be useful")
    assert smtp_server.mailbox.take() == []

    # A shorter outage: back at 08:30 on Thursday, the 2 h reminder (due 08:00) still helps.
    clinic = make.clinic()
    make.appointment(clinic, start=make.local(clinic.location, D, 15))
    clock.set(utc(2026, 3, 5, 18, 30))  # 13:30 New York, 90 min before 15:00
    report = make_worker().run_once()
    subjects = sorted(m.subject.split(":")[0] for m in smtp_server.mailbox.take())
    assert subjects == ["Booked", "Coming up"]


def test_opting_out_after_booking_stops_the_message(make, session, clock, make_worker, smtp_server):
    _clinic, patient, _appt = booked_dosing(make, session)
    patient.remind_by_email = False
    session.commit()
    clock.set(utc(2026, 3, 2, 13, 0))
    assert make_worker().run_once().skipped == 1
    assert [r.skip_reason for r in rows(session) if r.kind == "booked"] == [
        "the patient opted out of e-mail"
    ]


def test_standard_privacy_carries_the_instructions_signed_with_the_sender_name(
    app, make, session, clock, make_worker, smtp_server
):
    app.config["MESSAGE_SENDER_NAME"] = "Riverside Wellness"
    booked_dosing(make, session, feed_privacy=FeedPrivacy.STANDARD)
    worker = make_worker()
    clock.set(utc(2026, 3, 3, 15, 0))  # 48 h before: booked, then the preparation message
    worker.run_once()
    prep = next(m for m in smtp_server.mailbox.take() if m.subject.startswith("Preparing"))
    assert "No solid food for 6 hours" in prep.text and "drive you home" in prep.text
    assert "Riverside Wellness" in prep.text and "Ketamine Clinic" not in prep.text


def test_admin_templates_override_and_are_sandboxed(make, session, clock, make_worker, smtp_server):
    clinic, _patient, _appointment = booked_dosing(make, session)
    action = Action("template.update", None, clock())
    with write_transaction(session):
        view = admin.update_template(
            session, "appointment_booked", action, {"subject": "See you {{ appointment.when }}"}
        )
    assert view.customized == ["subject"]
    with pytest.raises(ValidationFailed) as caught:
        admin.update_template(session, "appointment_booked", action, {"body_text": "{% if %}"})
    assert "body_text" in caught.value.fields
    clock.set(utc(2026, 3, 2, 13, 0))
    make_worker().run_once()
    (message,) = smtp_server.mailbox.take()
    assert message.subject == "See you Thu 5 Mar 2026, 10:00 EST (America/New_York)"
    # The packaged body, signed with the location's name.
    assert f"Your appointment with {clinic.location.name} is booked." in message.text

    # What would reach Python internals or cost a worker its minutes is refused at saving,
    # by a sample render in the same bounded sandbox the worker uses.
    costly = {
        "{{ first_name.__class__.__mro__[1].__subclasses__() }}": "unsafe",
        "{{ ((9**64)**64)**64 }}": "a power of more than 300 digits",
        '{{ "x" * 2000000000 }}': "repetition into more than 100000 characters",
        "{% for i in range(10**8) %}{% endfor %}": "range() of more than 1000 numbers",
    }
    for source, why in costly.items():
        with pytest.raises(ValidationFailed) as refused:
            admin.update_template(session, "dosing_preparation", action, {"subject": source})
        assert why in str(refused.value.fields["subject"]), source
    # One stored before these checks existed: the message fails, the worker goes on.
    session.add(ReminderTemplate(name="dosing_preparation", subject='{{ "x" * 2000000000 }}'))
    session.commit()
    clock.set(utc(2026, 3, 3, 15, 0))
    assert make_worker().run_once().failed == 1
    (failed,) = fresh(session).list_failed(session)
    assert failed.last_error.startswith("template error")
    with write_transaction(session):
        admin.update_template(session, "dosing_preparation", action, {"subject": ""})
    assert admin.get_template(session, "dosing_preparation").customized == []


def test_reminders_render_the_telehealth_link(make, session, clock, make_worker, smtp_server):
    clinic = make.clinic()
    make.appointment(
        clinic,
        kind=AppointmentKind.INTEGRATION,
        minutes=50,
        room=clinic.telehealth,
        start=make.local(clinic.location, D, 10),
    )
    clock.set(utc(2026, 3, 5, 14, 0))  # 1 h before
    make_worker().run_once()
    messages = {m.subject.split(":")[0]: m for m in smtp_server.mailbox.take()}
    assert "https://video.example.org/room1" in messages["Reminder"].text
    assert 'href="https://video.example.org/room1"' in messages["Reminder"].html
    assert session.query(OutboxMessage).count() == 0
    assert {str(r.status) for r in rows(session) if r.offset_minutes == 60} == {
        str(ReminderStatus.SENT)
    }
