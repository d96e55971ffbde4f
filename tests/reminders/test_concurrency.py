"""Two workers on PostgreSQL, each with its own connections, over 1,000 due reminders: every
reminder is delivered exactly once (``FOR UPDATE SKIP LOCKED`` claims)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from scheduler.models import AppointmentKind, Reminder

from .conftest import insert_due, rows

D = dt.date(2026, 3, 5)


@pytest.mark.slow
@pytest.mark.committing
def test_two_workers_deliver_each_of_1000_reminders_once(
    dialect, make, session, clock, make_worker, smtp_server
):
    if dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: concurrent claims are a PostgreSQL matter")
    clinic = make.clinic()
    appointments = [
        # Evaluations: one patient's doses hours apart would break the dosing interval.
        make.appointment(
            clinic, start=make.local(clinic.location, D, hour), kind=AppointmentKind.EVALUATION
        )
        for hour in (8, 11, 14)
    ]
    clock.set(dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC))
    for index, appointment in enumerate(appointments):
        insert_due(
            session, appointment, 334 if index < 2 else 332, clock() - dt.timedelta(minutes=1)
        )
    expected = set(session.scalars(select(Reminder.id).where(Reminder.dedupe_key.like("bulk:%"))))
    assert len(expected) == 1000

    workers = [make_worker(worker_id=f"worker-{n}", batch_size=25) for n in (1, 2)]
    start = threading.Barrier(2)
    reports = {}

    def run(worker) -> None:
        start.wait()
        reports[worker.worker_id] = worker.run_once()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    received = Counter(m.message_id for m in smtp_server.mailbox.take())
    bulk = {f"<reminder-{i}.0@clinic.example.org>" for i in expected}
    assert bulk <= set(received)
    assert [mid for mid, n in received.items() if n > 1] == []
    sent_by = Counter(
        r.claimed_by for r in rows(session) if r.id in expected and r.status == "sent"
    )
    assert sum(sent_by.values()) == 1000
    assert set(sent_by) == {"worker-1", "worker-2"}, sent_by  # both really took part
    assert sum(r.sent for r in reports.values()) == len(received)
