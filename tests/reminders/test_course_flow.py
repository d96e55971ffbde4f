"""Done when: booking a course, moving one session and cancelling another produces exactly the
expected messages at the expected times in a local SMTP server, through a worker restart.

The clinic is in New York, the patient in Chicago: every message shows Chicago time, and
quiet hours (21:00-08:00) are the patient's. The worker runs every hour of simulated time.
"""

from __future__ import annotations

import datetime as dt
import re

from icalendar import Calendar

from scheduler.audit import Action
from scheduler.booking import cancel_appointment, reschedule_appointment
from scheduler.db import write_transaction
from scheduler.models import MessageKind, Reminder
from scheduler.reminders import claims

from .conftest import iv_definition, rows


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_course_move_cancel_and_worker_restart(app, make, session, clock, make_worker, smtp_server):
    clinic = make.clinic()
    patient = make.patient(first_name="Robin", timezone="America/Chicago")
    at = lambda day, hour: make.local(clinic.location, dt.date(2026, 3, day), hour)  # noqa: E731
    dosing1, integration1, dosing2, integration2 = make.booked_course(
        clinic,
        iv_definition(2),
        patient=patient,
        rooms=[clinic.telehealth],
        at=[
            at(4, 10),  # Wed 15:00 UTC
            at(5, 10),  # Thu 15:00 UTC, by video
            at(6, 10),  # Fri 15:00 UTC
            at(9, 10),  # Mon 14:00 UTC (after DST starts)
        ],
    ).appointments
    log: list[tuple[dt.datetime, object]] = []

    def run(worker) -> None:
        worker.run_once()
        log.extend((clock(), m) for m in smtp_server.mailbox.take())

    def run_until(worker, end: dt.datetime) -> None:
        while clock() < end:
            clock.set(clock().replace(minute=0) + dt.timedelta(hours=1))
            run(worker)

    worker_a = make_worker("worker-a", claim_timeout=dt.timedelta(minutes=5))
    run(worker_a)
    run_until(worker_a, utc(2026, 3, 3, 12))

    # Tuesday 06:00 in Chicago: the front desk moves the second dosing session by 3 hours.
    with write_transaction(session):
        reschedule_appointment(session, dosing2, Action("move", None, clock()), starts_at=at(6, 13))
    run_until(worker_a, utc(2026, 3, 3, 13))

    # 14:00: worker A claims the "moved" notice and dies before sending it.
    clock.set(utc(2026, 3, 3, 14))
    taken = claims.claim_due(
        session, "worker-a", clock(), limit=50, claim_timeout=dt.timedelta(minutes=5)
    )
    assert [session.get(Reminder, c.id).kind for c in taken] == [MessageKind.MOVED]
    # A new worker starts at 14:02; the dead worker's claim is taken over after 5 minutes.
    worker_b = make_worker("worker-b", claim_timeout=dt.timedelta(minutes=5))
    clock.set(utc(2026, 3, 3, 14, 2))
    run(worker_b)
    clock.set(utc(2026, 3, 3, 14, 10))
    run(worker_b)
    run_until(worker_b, utc(2026, 3, 5, 20))

    # Thursday 14:00 in Chicago: the integration session of next Monday is cancelled.
    with write_transaction(session):
        cancel_appointment(session, integration2, Action("cancel", None, clock()), "travel")
    run(worker_b)
    run_until(worker_b, utc(2026, 3, 10, 0))

    got = [(when, m.subject) for when, m in log]
    assert got == [
        (utc(2026, 3, 2, 14), f"Welcome to {clinic.location.name}: your 4 upcoming appointments"),
        (
            utc(2026, 3, 2, 15),
            "Preparing for your appointment on Wed 4 Mar 2026, 09:00 CST (America/Chicago)",
        ),
        (
            utc(2026, 3, 3, 14, 10),
            "Moved: your appointment is now on Fri 6 Mar 2026, 12:00 CST (America/Chicago)",
        ),
        # 2 h before 09:00 is 07:00 in Chicago, in quiet hours: sent at 21:00 the evening before.
        (utc(2026, 3, 4, 3), "Coming up: your appointment at 09:00 CST, Wednesday 4 March 2026"),
        (
            utc(2026, 3, 4, 15),
            "Reminder: your appointment on Thu 5 Mar 2026, 09:00 CST (America/Chicago)",
        ),
        (
            utc(2026, 3, 4, 18),
            "Preparing for your appointment on Fri 6 Mar 2026, 12:00 CST (America/Chicago)",
        ),
        (
            utc(2026, 3, 5, 14),
            "Reminder: your appointment on Thu 5 Mar 2026, 09:00 CST (America/Chicago)",
        ),
        (
            utc(2026, 3, 5, 20),
            "Cancelled: your appointment on Mon 9 Mar 2026, 09:00 CDT (America/Chicago)",
        ),
        (utc(2026, 3, 6, 16), "Coming up: your appointment at 12:00 CST, Friday 6 March 2026"),
    ]
    assert {tuple(m.recipients) for _w, m in log} == {(patient.email,)}
    assert len({m.message_id for _w, m in log}) == len(log)

    welcome = log[0][1]
    for line in (
        "- Wed 4 Mar 2026, 09:00 CST (America/Chicago): appointment, Location",
        "- Thu 5 Mar 2026, 09:00 CST (America/Chicago): appointment, video call",
        "- Fri 6 Mar 2026, 09:00 CST (America/Chicago): appointment, Location",
        "- Mon 9 Mar 2026, 09:00 CDT (America/Chicago): appointment, video call",
    ):
        assert line in welcome.text
    # The patient had no calendar link yet: the welcome issues one, and it works.
    match = re.search(r"webcal://[^/]+(/feeds/[A-Za-z0-9_-]+\.ics)", welcome.text)
    assert match, welcome.text
    feed = app.test_client().get(match.group(1))
    assert feed.status_code == 200
    assert {str(e["uid"]) for e in Calendar.from_ical(feed.data).walk("VEVENT")} >= {dosing2.uid}

    moved = log[2][1]
    assert "Was:    Fri 6 Mar 2026, 09:00 CST (America/Chicago)" in moved.text
    (ics,) = moved.attachments
    event = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")[0]
    assert event.decoded("dtstart") == utc(2026, 3, 6, 18) and str(event["uid"]) == dosing2.uid
    assert int(event["sequence"]) == 2
    (cancelled_ics,) = log[7][1].attachments
    cancelled_event = Calendar.from_ical(cancelled_ics.get_payload(decode=True)).walk("VEVENT")[0]
    assert str(cancelled_event["status"]) == "CANCELLED"
    assert str(cancelled_event["uid"]) == integration2.uid
    assert [m.attachments for _w, m in log if not m.subject.startswith(("Moved", "Cancel"))] == [
        []
    ] * 7
    # Minimal privacy (the default): the protocol's instructions stay with the clinic.
    assert "No solid food" not in log[1][1].text and "please call" in log[1][1].text
    assert "https://video.example.org/room1" in log[6][1].text  # the 1 h integration reminder

    # Nothing stale: the moved session's old reminders were re-timed, the cancelled one's skipped.
    by_appointment = {}
    for row in rows(session):
        by_appointment.setdefault(row.appointment_id, []).append((str(row.kind), str(row.status)))
    assert sorted(by_appointment[integration2.id]) == [
        ("cancelled", "sent"),
        ("reminder", "skipped"),
        ("reminder", "skipped"),
    ]
    assert sorted(by_appointment[dosing2.id]) == [
        ("moved", "sent"),
        ("reminder", "sent"),
        ("reminder", "sent"),
    ]
    assert {s for k, s in by_appointment[dosing1.id] + by_appointment[integration1.id]} == {"sent"}
