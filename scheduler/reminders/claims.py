"""Claiming due reminders, and recording how each send ended.

A claim is one short write transaction: on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` lets
several workers take disjoint rows at once; on SQLite the ``BEGIN IMMEDIATE`` write lock makes
claims take turns. A claimed row is ``sending`` with ``claimed_at``/``claimed_by``; one left
``sending`` longer than the claim timeout belongs to a worker that died and is taken over.
Every later update is guarded by ``claimed_by``, so a worker whose claim was taken over cannot
overwrite the new owner's outcome.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, and_, or_, select, text, update
from sqlalchemy.orm import Session

from ..db import write_transaction
from ..models import Reminder, ReminderStatus


@dataclass(frozen=True)
class Claim:
    id: int
    taken_over: bool
    attempts: int


def claim_due(
    session: Session,
    worker_id: str,
    now: dt.datetime,
    *,
    limit: int,
    claim_timeout: dt.timedelta,
) -> list[Claim]:
    due = and_(Reminder.status == ReminderStatus.PENDING, Reminder.next_attempt_at <= now)
    abandoned = and_(
        Reminder.status == ReminderStatus.SENDING, Reminder.claimed_at < now - claim_timeout
    )
    with write_transaction(session):
        rows = session.scalars(
            select(Reminder)
            .where(or_(due, abandoned))
            .order_by(Reminder.next_attempt_at, Reminder.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claims = []
        for row in rows:
            claims.append(Claim(row.id, row.status == ReminderStatus.SENDING, row.attempts + 1))
            row.status = ReminderStatus.SENDING
            row.claimed_at = now
            row.claimed_by = worker_id
            row.attempts += 1
            row.updated_at = now
    return claims


def _mine(reminder_id: int, worker_id: str):  # type: ignore[no-untyped-def]
    return (
        update(Reminder)
        .where(
            Reminder.id == reminder_id,
            Reminder.status == ReminderStatus.SENDING,
            Reminder.claimed_by == worker_id,
        )
        .execution_options(synchronize_session=False)
    )


def still_mine(session: Session, reminder_id: int, worker_id: str) -> bool:
    found = session.scalar(
        select(Reminder.id)
        .where(
            Reminder.id == reminder_id,
            Reminder.status == ReminderStatus.SENDING,
            Reminder.claimed_by == worker_id,
        )
        .with_for_update()
    )
    return found is not None


def sent_statement(reminder_id: int, worker_id: str, now: dt.datetime):  # type: ignore[no-untyped-def]
    return _mine(reminder_id, worker_id).values(
        status=ReminderStatus.SENT, sent_at=now, last_error=None, updated_at=now
    )


def mark_sent(session: Session, reminder_id: int, worker_id: str, now: dt.datetime) -> bool:
    """Inside the caller's transaction. False when the claim was lost meanwhile."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    result = session.execute(sent_statement(reminder_id, worker_id, now))
    return bool(result.rowcount)  # type: ignore[attr-defined]


class SentMarker:
    """Marks messages sent on PostgreSQL in one round trip each: a single guarded UPDATE on an
    autocommit connection whose commits do not wait for the disk.

    The server has the row the moment it answers, so a worker that dies next loses nothing;
    only a crash of the database server itself within a fraction of a second could forget the
    mark, and the message would go out again with the same Message-ID.
    """

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.connection.exec_driver_sql("SET synchronous_commit TO OFF")

    def mark(self, reminder_id: int, worker_id: str, now: dt.datetime) -> bool:
        result = self.connection.execute(sent_statement(reminder_id, worker_id, now))
        return bool(result.rowcount)

    def close(self) -> None:
        try:
            self.connection.exec_driver_sql("RESET synchronous_commit")
        finally:
            self.connection.close()


def mark_skipped(
    session: Session, reminder_id: int, worker_id: str, now: dt.datetime, reason: str
) -> bool:
    with write_transaction(session):
        result = session.execute(
            _mine(reminder_id, worker_id).values(
                status=ReminderStatus.SKIPPED, skip_reason=reason[:300], updated_at=now
            )
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_failed(
    session: Session, reminder_id: int, worker_id: str, now: dt.datetime, error: str
) -> bool:
    with write_transaction(session):
        result = session.execute(
            _mine(reminder_id, worker_id).values(
                status=ReminderStatus.FAILED, last_error=error[:500], updated_at=now
            )
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def retry_later(
    session: Session,
    reminder_id: int,
    worker_id: str,
    now: dt.datetime,
    at: dt.datetime,
    error: str,
) -> bool:
    with write_transaction(session):
        result = session.execute(
            _mine(reminder_id, worker_id).values(
                status=ReminderStatus.PENDING,
                next_attempt_at=at,
                last_error=error[:500],
                claimed_at=None,
                claimed_by=None,
                updated_at=now,
            )
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, reminder_ids: list[int], worker_id: str, now: dt.datetime) -> int:
    """Hand back claims this worker did not get to (it is stopping): not counted as attempts."""
    if not reminder_ids:
        return 0
    with write_transaction(session):
        result = session.execute(
            update(Reminder)
            .where(
                Reminder.id.in_(reminder_ids),
                Reminder.status == ReminderStatus.SENDING,
                Reminder.claimed_by == worker_id,
            )
            .execution_options(synchronize_session=False)
            .values(
                status=ReminderStatus.PENDING,
                attempts=Reminder.attempts - 1,
                claimed_at=None,
                claimed_by=None,
                updated_at=now,
            )
        )
    return int(result.rowcount)  # type: ignore[attr-defined]
