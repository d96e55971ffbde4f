"""Needs attention: the flag an appointment carries while it breaks a rule.

Every accepted change ends with the flags of what it touched brought up to date, in the same
transaction: appointment and clinic-data changes note their scope (``note``), and just before
the commit the appointments in that scope are judged again (``check.py``). A session that
breaks a rule is flagged with the rule, a front-desk message and since when; a flag clears as
soon as the session is valid again, or is cancelled. A course left with nothing to come, all of
it held or cancelled, completes by itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import event, select
from sqlalchemy.orm import Session, scoped_session

from ..audit import Action, record
from ..models import Appointment, AppointmentStatus, Course, CourseStatus
from .check import OPEN, Scope, Violation, appointments_in, violations_of

PENDING = "integrity_pending"
HOOKED = "integrity_hooked"
#: The order in which rules are shown when a session breaks several: what to fix first.
PRIORITY = (
    "closure",
    "time_off",
    "opening_hours",
    "working_hours",
    "room",
    "staff_role",
    "overlap",
    "dosing_interval",
    "other_course",
    "prerequisite",
    "pair_missing",
    "protocol",
)


@dataclass
class Pending:
    scope: Scope = field(default_factory=Scope)
    courses: set[int] = field(default_factory=set)
    now: dt.datetime | None = None
    action: Action | None = None


def note(session: Session, action: Action, scope: Scope, courses: set[int] | None = None) -> None:
    """Have the flags in ``scope`` (and the status of ``courses``) brought up to date before
    this transaction commits."""
    if isinstance(session, scoped_session):
        session = session()
    pending: Pending = session.info.setdefault(PENDING, Pending())
    pending.scope = pending.scope | scope
    pending.courses |= courses or set()
    pending.now = action.now if pending.now is None else max(pending.now, action.now)
    pending.action = action
    if not session.info.get(HOOKED):
        session.info[HOOKED] = True
        event.listen(session, "before_commit", _before_commit)
        event.listen(session, "after_soft_rollback", _after_rollback)


def _before_commit(session: Session) -> None:
    pending: Pending | None = session.info.pop(PENDING, None)
    if pending is None or pending.now is None or pending.action is None:
        return
    complete_finished_courses(session, pending.action, pending.courses)
    refresh_flags(session, pending.scope, pending.now)
    session.flush()


def _after_rollback(session: Session, _previous: object) -> None:
    session.info.pop(PENDING, None)


def rank(violation: Violation) -> int:
    rule = violation.rule.split(":")[0]
    return PRIORITY.index(rule) if rule in PRIORITY else len(PRIORITY)


def refresh_flags(session: Session, scope: Scope, now: dt.datetime) -> list[Violation]:
    """Flag every appointment in ``scope`` that breaks a rule and clear the others' flags;
    returns the violations found."""
    targets = appointments_in(session, scope, now)
    found = violations_of(session, targets, now)
    first: dict[int, Violation] = {}
    for violation in sorted(found, key=rank):
        first.setdefault(violation.appointment_id, violation)
    for appointment in targets:
        violation = first.get(appointment.id)
        if violation is None:
            _clear(appointment)
        elif appointment.attention_rule != violation.rule:
            appointment.attention_rule = violation.rule
            appointment.attention_message = violation.message[:500]
            appointment.attention_since = now
        else:
            appointment.attention_message = violation.message[:500]
    if scope.appointment_ids:
        # Cancelled or no longer to come: nothing left to attend to.
        for appointment in session.scalars(
            select(Appointment).where(
                Appointment.id.in_(scope.appointment_ids),
                Appointment.attention_rule.is_not(None),
                Appointment.status.not_in(OPEN),
            )
        ):
            _clear(appointment)
    return found


def _clear(appointment: Appointment) -> None:
    if appointment.attention_rule is not None:
        appointment.attention_rule = None
        appointment.attention_message = None
        appointment.attention_since = None


def complete_finished_courses(session: Session, action: Action, course_ids: set[int]) -> None:
    """An active course whose sessions are all held, missed or cancelled is complete."""
    if not course_ids:
        return
    for course in session.scalars(
        select(Course).where(Course.id.in_(course_ids), Course.status == CourseStatus.ACTIVE)
    ):
        statuses = set(
            session.scalars(select(Appointment.status).where(Appointment.course_id == course.id))
        )
        if not statuses or statuses & OPEN:
            continue
        if AppointmentStatus.CHECKED_IN in statuses:
            continue
        course.status = CourseStatus.COMPLETED
        course.updated_at = action.now
        record(
            session,
            action,
            "course",
            course.id,
            {"status": "active"},
            {"status": "completed", "why": "every session held, missed or cancelled"},
            what="course.complete",
        )
