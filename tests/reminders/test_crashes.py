"""A worker that dies mid-run: its claims are taken over, nothing is lost, and a message it
may already have sent goes out again with the same Message-ID."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from scheduler.db import write_transaction
from scheduler.models import Reminder, ReminderStatus
from scheduler.reminders import claims
from scheduler.reminders import worker as worker_module
from scheduler.reminders.channels import Envelope
from scheduler.reminders.rendering import render_reminder
from scheduler.reminders.worker import message_id, recipient

from .conftest import insert_due, rows

ROOT = Path(__file__).resolve().parents[2]
D = dt.date(2026, 3, 5)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_claims_of_a_crashed_worker_are_taken_over_after_the_timeout(
    make, session, clock, make_worker, smtp_server
):
    clinic = make.clinic()
    make.appointment(clinic, start=make.local(clinic.location, D, 10))
    clock.set(utc(2026, 3, 3, 15, 0))  # booked notice and 48 h reminder due
    # The dead worker claimed both, then its process vanished before sending anything.
    dead = claims.claim_due(
        session, "dead", clock(), limit=10, claim_timeout=dt.timedelta(minutes=5)
    )
    assert len(dead) == 2
    assert {(r.status, r.claimed_by) for r in rows(session) if r.id in {c.id for c in dead}} == {
        ("sending", "dead")
    }
    worker = make_worker(worker_id="alive", claim_timeout=dt.timedelta(minutes=5))
    clock.advance(minutes=4)
    assert worker.run_once().claimed == 0  # the claim is still fresh: maybe it is just slow
    clock.advance(minutes=2)
    report = worker.run_once()
    assert report.taken_over == 2 and report.sent == 2
    assert len(smtp_server.mailbox.take()) == 2
    assert {r.claimed_by for r in rows(session) if r.status == "sent"} == {"alive"}


def test_crash_between_send_and_mark_repeats_one_message_with_the_same_id(
    app, make, session, clock, make_worker, smtp_server
):
    clinic = make.clinic()
    make.appointment(clinic, start=make.local(clinic.location, D, 10))
    clock.set(utc(2026, 3, 2, 13, 0))
    crashing = make_worker(worker_id="crashing")
    (claim,) = claims.claim_due(
        session, "crashing", clock(), limit=1, claim_timeout=dt.timedelta(minutes=5)
    )
    row = session.get(Reminder, claim.id)
    envelope = Envelope(
        row.id,
        row.channel,
        message_id(row, crashing.domain),
        recipient(row),
        render_reminder(session, row, crashing.render_settings),
    )
    crashing.channels["email"].send(envelope, session)  # ...and the process dies here
    crashing.close()
    # The dead worker cannot mark it sent once its claim has been taken over.
    clock.advance(minutes=6)
    report = make_worker(worker_id="restarted").run_once()
    assert report.taken_over == 1 and report.sent == 1
    first, second = smtp_server.mailbox.take()
    assert first.message_id == second.message_id == envelope.message_id
    with write_transaction(session):
        assert not claims.mark_sent(session, row.id, "crashing", clock())
    assert session.get(Reminder, row.id, populate_existing=True).claimed_by == "restarted"


def _worker_process(database_url: str, smtp_url: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        SCHEDULER_DATABASE_URL=database_url,
        SCHEDULER_SMTP_URL=smtp_url,
        SCHEDULER_SECRET_KEY="test",
        SCHEDULER_REMINDER_INTERVAL="0.5",
        SCHEDULER_REMINDER_CLAIM_TIMEOUT="2",
        SCHEDULER_REMINDER_BATCH_SIZE="20",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "scheduler", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.slow
@pytest.mark.committing
def test_a_worker_process_killed_with_sigkill_loses_nothing(
    database_url, make, session, smtp_server
):
    """A real ``flask worker`` process, SIGKILLed mid-run and restarted, on the real clock."""
    clinic = make.clinic()
    # The subprocess runs on the real clock: an appointment well ahead of it.
    today = dt.datetime.now(dt.UTC).date()
    day = today + dt.timedelta(days=14 + (1 - today.weekday()) % 7)  # a Tuesday
    appointment = make.appointment(clinic, start=make.local(clinic.location, day, 10))
    total = 400
    insert_due(session, appointment, total, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    smtp_server.mailbox.delay = 0.003  # a server slow enough to be killed in the middle
    engine = create_engine(database_url)

    def count(status: str) -> int:
        with engine.connect() as conn:
            return int(
                conn.scalar(
                    select(func.count())
                    .select_from(Reminder)
                    .where(Reminder.status == status, Reminder.dedupe_key.like("bulk:%"))
                )
            )

    first = _worker_process(database_url, smtp_server.url)
    try:
        assert _wait(lambda: len(smtp_server.mailbox) >= 40, 120), "the worker sent nothing"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        received_at_kill = len(smtp_server.mailbox)
        assert received_at_kill < total, "the worker finished before it was killed"
        # Usually the dead worker leaves claims behind ("sending"): taken over after 2 s.
        second = _worker_process(database_url, smtp_server.url)
        try:
            assert _wait(lambda: count("sent") == total, 180), "the restarted worker stalled"
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        engine.dispose()
    ids = [m.message_id for m in smtp_server.mailbox.take()]
    with engine.connect() as conn:
        expected = {
            f"<reminder-{i}.0@clinic.example.org>"
            for i in conn.scalars(select(Reminder.id).where(Reminder.dedupe_key.like("bulk:%")))
        }
        assert conn.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
    assert set(ids) >= expected  # none lost
    assert len(ids) - len(set(ids)) <= 1  # at most the one message in flight at the kill
    assert count_status(session, ReminderStatus.SENT) >= total


def count_status(session, status) -> int:
    session.rollback()
    return int(
        session.scalar(select(func.count()).select_from(Reminder).where(Reminder.status == status))
    )


def test_a_bug_with_one_message_does_not_stop_the_others(
    make, session, clock, make_worker, smtp_server, monkeypatch
):
    clinic = make.clinic()
    make.appointment(clinic, start=make.local(clinic.location, D, 10))
    clock.set(utc(2026, 3, 3, 15, 0))  # the booked notice and the 48 h reminder are due
    real = worker_module.render_reminder

    def flaky(session, row, settings, templates=None):
        if row.template == "appointment_booked":
            raise KeyError("boom")
        return real(session, row, settings, templates)

    monkeypatch.setattr(worker_module, "render_reminder", flaky)
    report = make_worker().run_once()
    assert report.sent == 1 and report.retried == 1
    (row,) = [r for r in rows(session) if r.kind == "booked"]
    assert row.status == "pending" and row.last_error == "error: KeyError"
