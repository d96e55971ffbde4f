"""The reminder worker: an APScheduler interval job that claims due reminders and sends them.

APScheduler only wakes the worker up; the reminder rows are the state (a job store cannot be
shared between processes). Run one or several ``flask --app scheduler worker`` processes, or
``start_in_process(app)`` inside the embedded web process (``flask serve --with-worker``).

Each message: claim (short transaction), check it is still useful, render, send outside any
transaction, mark sent (short transaction). A crash between send and mark leaves the row
``sending``; after the claim timeout another worker sends it again with the same Message-ID,
so a duplicate is recognisable downstream. At most one message per crash can be doubled.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import signal
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from .. import clock
from ..db import db, write_transaction
from ..models import (
    Appointment,
    AppointmentStatus,
    Course,
    CourseStatus,
    MessageKind,
    Reminder,
    ReminderChannel,
)
from . import claims
from .channels import Channel, Envelope, PermanentFailure, TransientFailure, channels_from_config
from .context import context_time
from .policy import opted_out
from .rendering import RenderSettings, TemplateProblem, render_reminder, upcoming_sessions

log = logging.getLogger(__name__)

UPCOMING = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
NOTICE_GRACE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class WorkerSettings:
    interval_seconds: float = 5.0
    batch_size: int = 50
    claim_timeout: dt.timedelta = dt.timedelta(minutes=5)
    max_attempts: int = 8
    retry_base: dt.timedelta = dt.timedelta(minutes=1)
    retry_max: dt.timedelta = dt.timedelta(hours=2)

    @classmethod
    def from_config(cls, config: Any) -> WorkerSettings:
        return cls(
            interval_seconds=float(config.get("REMINDER_WORKER_INTERVAL", 5)),
            batch_size=int(config.get("REMINDER_BATCH_SIZE", 50)),
            claim_timeout=dt.timedelta(seconds=float(config.get("REMINDER_CLAIM_TIMEOUT", 300))),
            max_attempts=int(config.get("REMINDER_MAX_ATTEMPTS", 8)),
        )

    def backoff(self, attempts: int) -> dt.timedelta:
        """1, 2, 4, 8... minutes after each failed attempt, at most two hours."""
        return min(self.retry_base * (2 ** max(attempts - 1, 0)), self.retry_max)


@dataclass
class RunReport:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    taken_over: int = 0
    lost_claims: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)

    def add(self, reminder_id: int, outcome: str) -> None:
        self.outcomes[reminder_id] = outcome
        setattr(self, outcome, getattr(self, outcome) + 1)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class ReminderWorker:
    """Claims and sends due reminders for one app. One instance per thread or process."""

    def __init__(
        self,
        app: Flask,
        *,
        worker_id: str | None = None,
        channels: dict[ReminderChannel, Channel] | None = None,
        settings: WorkerSettings | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.app = app
        self.worker_id = worker_id or new_worker_id()
        self.channels = channels or channels_from_config(app.config)
        self.settings = settings or WorkerSettings.from_config(app.config)
        self._now = now
        self._stopping = threading.Event()
        self._marker: claims.SentMarker | None = None
        self._lock = threading.Lock()
        self.render_settings = RenderSettings(
            clinic_name=str(app.config.get("CLINIC_NAME", "The clinic")),
            base_url=str(app.config.get("BASE_URL", "")),
            sender_name=app.config.get("MESSAGE_SENDER_NAME") or None,
        )
        email = self.channels.get(ReminderChannel.EMAIL)
        self.domain = getattr(email, "domain", None) or (
            urlsplit(self.render_settings.base_url).hostname or "localhost"
        )

    def now(self) -> dt.datetime:
        return self._now() if self._now is not None else clock.now()

    def stop(self) -> None:
        """Finish the message in hand, hand back the rest of the batch, and return."""
        self._stopping.set()

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()

    def run_once(self, *, max_batches: int | None = None) -> RunReport:
        """Send everything due now, batch after batch. The APScheduler job."""
        report = RunReport()
        if not self._lock.acquire(blocking=False):
            return report  # the previous run is still going
        try:
            with self.app.app_context():
                session = db.session()
                postgres = db.engine.dialect.name == "postgresql"
                self._marker = claims.SentMarker(db.engine) if postgres else None
                try:
                    batches = 0
                    while not self._stopping.is_set():
                        if max_batches is not None and batches >= max_batches:
                            break
                        batch = claims.claim_due(
                            session,
                            self.worker_id,
                            self.now(),
                            limit=self.settings.batch_size,
                            claim_timeout=self.settings.claim_timeout,
                        )
                        if not batch:
                            break
                        batches += 1
                        report.claimed += len(batch)
                        report.taken_over += sum(c.taken_over for c in batch)
                        self._deliver_batch(session, batch, report)
                finally:
                    for channel in self.channels.values():
                        channel.close()
                    if self._marker is not None:
                        self._marker.close()
                        self._marker = None
                    db.session.remove()
        except Exception:
            log.exception("reminder run failed; the next run picks up where this one stopped")
        finally:
            self._lock.release()
        if report.claimed:
            log.info(
                "reminders: %d claimed, %d sent, %d skipped, %d to retry, %d failed, "
                "%d taken over from stopped workers",
                report.claimed,
                report.sent,
                report.skipped,
                report.retried,
                report.failed,
                report.taken_over,
            )
        return report

    # --- one batch -------------------------------------------------------------------------

    def _deliver_batch(
        self, session: Session, batch: list[claims.Claim], report: RunReport
    ) -> None:
        session.expire_all()  # rows and appointments may have changed since the last batch
        rows = {
            r.id: r
            for r in session.scalars(
                select(Reminder)
                .where(Reminder.id.in_([c.id for c in batch]))
                .options(
                    selectinload(Reminder.patient),
                    selectinload(Reminder.appointment).selectinload(Appointment.room),
                    selectinload(Reminder.appointment).selectinload(Appointment.location),
                )
            )
        }
        # End the read transaction (commit keeps the loaded rows, rollback would expire them):
        # nothing is held open while we talk to a mail server.
        session.commit()
        broken: dict[ReminderChannel, str] = {}
        # Admins' template edits apply from the next batch on.
        templates: dict[str, dict[str, str]] = {}
        for index, claim in enumerate(batch):
            if self._stopping.is_set():
                rest = [c.id for c in batch[index:]]
                claims.release(session, rest, self.worker_id, self.now())
                break
            row = rows.get(claim.id)
            if row is None:
                continue
            if claim.taken_over and claim.attempts > self.settings.max_attempts:
                # Workers keep dying on this one: stop before it takes more of them down.
                reason = f"workers stopped while sending it {claim.attempts - 1} times"
                if claims.mark_failed(session, row.id, self.worker_id, self.now(), reason):
                    report.add(row.id, "failed")
                continue
            if row.channel in broken:
                # The channel just failed for a message before this one: do not hammer it.
                self._retry(session, row, claim.attempts, broken[row.channel], report)
                continue
            try:
                outcome = self._deliver(session, row, claim.attempts, report, templates)
            except SQLAlchemyError:
                raise  # the database itself is in trouble: end the run, claims are kept
            except Exception as error:
                # A bug with one message must not stop the others. The type only: messages of
                # arbitrary exceptions may quote patient data.
                log.error(
                    "reminder %s: unexpected %s\n%s",
                    row.id,
                    type(error).__name__,
                    "".join(traceback.format_tb(error.__traceback__)),
                )
                session.rollback()
                self._retry(session, row, claim.attempts, f"error: {type(error).__name__}", report)
                continue
            if isinstance(outcome, TransientFailure):
                broken[row.channel] = str(outcome)

    def _deliver(
        self,
        session: Session,
        row: Reminder,
        attempts: int,
        report: RunReport,
        templates: dict[str, dict[str, str]],
    ) -> TransientFailure | None:
        now = self.now()
        reason = why_not_send(session, row, now)
        if reason is not None:
            if claims.mark_skipped(session, row.id, self.worker_id, now, reason):
                report.add(row.id, "skipped")
            return None
        try:
            message = render_reminder(session, row, self.render_settings, templates)
        except TemplateProblem as error:
            if claims.mark_failed(session, row.id, self.worker_id, now, str(error)):
                report.add(row.id, "failed")
            return None
        envelope = Envelope(
            reminder_id=row.id,
            channel=row.channel,
            message_id=message_id(row, self.domain),
            recipient=recipient(row),
            message=message,
        )
        channel = self.channels[row.channel]
        if session.in_transaction():
            session.commit()
        try:
            if channel.in_transaction:
                with write_transaction(session):
                    if not claims.still_mine(session, row.id, self.worker_id):
                        report.lost_claims += 1
                        return None
                    channel.send(envelope, session)
                    claims.mark_sent(session, row.id, self.worker_id, self.now())
                report.add(row.id, "sent")
                return None
            channel.send(envelope, session)
        except PermanentFailure as error:
            if claims.mark_failed(session, row.id, self.worker_id, self.now(), str(error)):
                report.add(row.id, "failed")
            return None
        except TransientFailure as error:
            self._retry(session, row, attempts, str(error), report)
            return error
        if self._marker is not None:
            marked = self._marker.mark(row.id, self.worker_id, self.now())
        else:
            with write_transaction(session):
                marked = claims.mark_sent(session, row.id, self.worker_id, self.now())
        if marked:
            report.add(row.id, "sent")
        else:
            # Another worker took the claim over (we were slower than the claim timeout):
            # it will send the same Message-ID again.
            report.lost_claims += 1
            log.warning("reminder %s: claim was taken over while sending", row.id)
        return None

    def _retry(
        self, session: Session, row: Reminder, attempts: int, error: str, report: RunReport
    ) -> None:
        now = self.now()
        if attempts >= self.settings.max_attempts:
            text = f"gave up after {attempts} attempts: {error}"
            if claims.mark_failed(session, row.id, self.worker_id, now, text):
                report.add(row.id, "failed")
            return
        at = now + self.settings.backoff(attempts)
        if claims.retry_later(session, row.id, self.worker_id, now, at, error):
            report.add(row.id, "retried")


# --- what a send needs ------------------------------------------------------------------------


def why_not_send(session: Session, row: Reminder, now: dt.datetime) -> str | None:
    """Why a claimed message is no longer worth sending, or None to send it.

    This is where a worker coming back after downtime drops what fell due meanwhile and is
    now useless: a reminder past its usefulness, a notice about an appointment already begun.
    """
    reason = opted_out(row.patient, row.channel)
    if reason:
        return reason
    if row.kind == MessageKind.WELCOME:
        course = session.get(Course, row.course_id) if row.course_id else None
        if course is None or course.status == CourseStatus.CANCELLED:
            return "the course was cancelled"
        if not any(a.starts_at > now for a in upcoming_sessions(session, course)):
            return "the course has no upcoming appointments"
        return None
    appointment = row.appointment
    if appointment is None:
        return "the appointment no longer exists"
    if row.kind == MessageKind.CANCELLED:
        if appointment.status != AppointmentStatus.CANCELLED:
            return "the appointment is no longer cancelled"
        old_start = context_time(row.context, "starts_at") or appointment.starts_at
        if now >= old_start:
            return "the cancelled appointment's time has passed"
        return None
    if appointment.status not in UPCOMING:
        return f"the appointment is {appointment.status.value.replace('_', ' ')}"
    if row.kind == MessageKind.REMINDER:
        planned_for = context_time(row.context, "starts_at")
        if planned_for is not None and planned_for != appointment.starts_at:
            return "the appointment was moved"
        useful_until = appointment.starts_at - dt.timedelta(minutes=row.stale_minutes)
        if now >= useful_until:
            late = int((now - row.due_at).total_seconds() // 60)
            return f"too late to be useful ({late} min after it was due)"
        return None
    if now >= appointment.starts_at:
        return "the appointment has already started"
    if now - row.due_at > NOTICE_GRACE and appointment.starts_at - now < NOTICE_GRACE:
        # Held up (no worker ran) until just before the appointment: the reminders said it all.
        return "too late to be useful: the appointment starts within the hour"
    return None


def recipient(row: Reminder) -> str:
    patient = row.patient
    return str(patient.email if row.channel == ReminderChannel.EMAIL else patient.phone)


def message_id(row: Reminder, domain: str) -> str:
    """Derived from the reminder (and how often an admin resent it), never random: a copy sent
    again after a crash carries the same Message-ID."""
    return f"<reminder-{row.id}.{row.resend_count}@{domain}>"


# --- APScheduler ------------------------------------------------------------------------------


def schedule(scheduler: BaseScheduler, worker: ReminderWorker) -> None:
    interval = worker.settings.interval_seconds
    scheduler.add_job(
        worker.run_once,
        "interval",
        seconds=interval,
        id="send_due_reminders",
        replace_existing=True,
        # Run at once on start: whatever fell due while no worker ran goes out (or is skipped).
        next_run_time=dt.datetime.now(dt.UTC),
        # The rows are the state, so a missed tick loses nothing: run once, not once per miss.
        coalesce=True,
        max_instances=1,
        misfire_grace_time=max(int(interval * 2), 1),
    )


def run_blocking(app: Flask, *, worker_id: str | None = None) -> None:
    """The ``flask worker`` process: runs until SIGTERM or SIGINT."""
    worker = ReminderWorker(app, worker_id=worker_id)
    scheduler = BlockingScheduler(timezone=dt.UTC)
    schedule(scheduler, worker)

    def shut_down(_signum: int, _frame: Any) -> None:
        worker.stop()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    log.info("reminder worker %s started", worker.worker_id)
    scheduler.start()


_in_process: BackgroundScheduler | None = None
_in_process_lock = threading.Lock()


def start_in_process(app: Flask) -> BackgroundScheduler:
    """Send reminders from a thread of this (web) process. Started once per process."""
    global _in_process
    with _in_process_lock:
        if _in_process is None:
            worker = ReminderWorker(app)
            scheduler = BackgroundScheduler(timezone=dt.UTC, daemon=True)
            schedule(scheduler, worker)
            scheduler.start()
            _in_process = scheduler
            log.info("reminder worker %s started in-process", worker.worker_id)
        return _in_process


@click.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--worker-id", default=None, help="Name in claimed_by (default: host:pid:random).")
def worker_command(once: bool, worker_id: str | None) -> None:
    """Send due reminders: an APScheduler job every REMINDER_WORKER_INTERVAL seconds."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        report = ReminderWorker(app, worker_id=worker_id).run_once()
        click.echo(
            f"{report.sent} sent, {report.skipped} skipped, {report.retried} to retry, "
            f"{report.failed} failed"
        )
        return
    run_blocking(app, worker_id=worker_id)
