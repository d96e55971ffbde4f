"""Reminder rows follow appointment changes, inside the transaction of the change.

``on_appointment_change`` follows ``scheduler.signals.appointment_changed``: a booking plans the
appointment's reminders and a "booked" notice, a move re-times the reminders still to come and
adds a "moved" notice with the old and new time, a cancellation skips what is still to come and
adds a cancellation notice. A notice the patient would get about an appointment they never
heard of (its "booked" message still unsent) is not created: the pending message is rendered at
send time and already tells the current state. ``on_clinic_data_change`` re-plans a patient's
reminders when their time zone, quiet hours or channels change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..audit import Action
from ..models import (
    Appointment,
    AppointmentStatus,
    Course,
    MessageKind,
    Patient,
    Reminder,
    ReminderChannel,
    ReminderStatus,
)
from ..signals import AppointmentChange, ClinicDataChange, appointment_changed, clinic_data_changed
from .context import context_time
from .policy import (
    NOTICE_TEMPLATES,
    ReminderPolicy,
    ReminderRule,
    avoid_quiet_hours,
    channels_for,
    next_allowed,
    patient_zone,
    policy_for,
)

#: Statuses meaning the message reached the patient, or may have (a send in flight).
KNOWN = (ReminderStatus.SENT, ReminderStatus.SENDING)
#: Statuses of messages still to go out; these are the ones a change may re-time or skip.
OPEN = (ReminderStatus.PENDING, ReminderStatus.FAILED)
#: Appointment statuses that still get reminders.
UPCOMING = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
#: Patient fields that decide when and how reminders reach the patient.
PATIENT_FIELDS = frozenset(
    {
        "email",
        "phone",
        "timezone",
        "remind_by_email",
        "remind_by_sms",
        "reminder_overrides",
        "quiet_hours_start",
        "quiet_hours_end",
    }
)


def connect_listeners() -> None:
    """Follow appointment and patient changes. Connecting again changes nothing: blinker keys
    receivers by identity. Strong references: these must outlive any app."""
    appointment_changed.connect(on_appointment_change, weak=False)
    clinic_data_changed.connect(on_clinic_data_change, weak=False)


def on_appointment_change(session: Session, change: AppointmentChange) -> None:
    """The listener booking calls in the transaction of every appointment change."""
    appointment = change.appointment
    now = change.action.now
    if change.kind == "created":
        _on_created(session, appointment, now, change.within_course_booking)
    elif change.kind == "rescheduled":
        before = change.before
        old_start = before.starts_at if before else appointment.starts_at
        place_changed = before is not None and (
            before.room_id != appointment.room_id or before.location_id != appointment.location_id
        )
        _on_moved(session, appointment, now, old_start, place_changed)
    elif change.kind == "cancelled":
        old_start = change.before.starts_at if change.before else appointment.starts_at
        _on_cancelled(session, appointment, now, old_start)
    elif change.kind == "status" and appointment.status not in UPCOMING:
        reason = f"the appointment is {appointment.status.value.replace('_', ' ')}"
        skip_open(session, reminders_of(session, appointment.id), reason)


def on_clinic_data_change(session: Session, change: ClinicDataChange) -> None:
    """The listener for clinic data: only a patient's reminder settings concern reminders."""
    if change.what != "patient" or change.kind != "updated" or change.patient_id is None:
        return
    if not change.fields & PATIENT_FIELDS:
        return
    patient = session.get(Patient, change.patient_id)
    if patient is not None:
        patient_changed(session, patient, change.action)


def course_booked(session: Session, course: Course, action: Action) -> list[Reminder]:
    """One welcome message for a booked course, instead of a "booked" message per session.

    Safe to call more than once and after the sessions' own changes: "booked" notices still
    pending for the course's sessions are folded into the welcome.
    """
    patient = course.patient or session.get(Patient, course.patient_id)
    rows = _ensure_welcome(session, course, patient, action.now)
    appointment_ids = select(Appointment.id).where(Appointment.course_id == course.id)
    pending_booked = session.scalars(
        select(Reminder).where(
            Reminder.appointment_id.in_(appointment_ids),
            Reminder.kind == MessageKind.BOOKED,
            Reminder.status.in_(OPEN),
        )
    ).all()
    if rows:
        skip_open(session, pending_booked, "covered by the course's welcome message")
    return rows


def patient_changed(session: Session, patient: Patient, action: Action) -> None:
    """Re-plan the reminders still to come after a patient's time zone, quiet hours, channels
    or overrides changed. Call it in the transaction that saves the patient."""
    session.flush()
    upcoming = session.scalars(
        select(Appointment).where(
            Appointment.patient_id == patient.id,
            Appointment.starts_at > action.now,
            Appointment.status.in_(UPCOMING),
        )
    ).all()
    for appointment in upcoming:
        rows = reminders_of(session, appointment.id)
        retime_reminders(
            session, appointment, action.now, rows, reason="the patient's preferences changed"
        )
        wanted = set(channels_for(patient))
        skip_open(
            session,
            [r for r in rows if r.kind != MessageKind.REMINDER and r.channel not in wanted],
            "the patient's preferences changed",
        )


# --- the reactions -------------------------------------------------------------------------


def _on_created(
    session: Session, appointment: Appointment, now: dt.datetime, within_course: bool
) -> None:
    if appointment.ends_at <= now or appointment.status not in UPCOMING:
        return
    schedule_reminders(session, appointment, now)
    course = session.get(Course, appointment.course_id) if appointment.course_id else None
    if within_course and course is not None:
        welcome = _course_welcome_rows(session, course.id)
        if not welcome or not any(r.status in KNOWN for r in welcome):
            _ensure_welcome(session, course, appointment.patient, now)
            return
    policy = policy_for(appointment)
    # A reminder already late at booking (the 48 h preparation message of a session booked
    # for tomorrow) would arrive with the booking message, which carries the same instructions.
    late = [
        r
        for r in reminders_of(session, appointment.id)
        if r.kind == MessageKind.REMINDER
        and appointment.starts_at - dt.timedelta(minutes=r.offset_minutes or 0) < now
    ]
    if policy.channels:
        skip_open(session, late, "the booking message carries what this reminder says")
    for channel in policy.channels:
        _add_notice(
            session,
            appointment,
            MessageKind.BOOKED,
            channel,
            key=f"a{appointment.id}:booked:{channel}",
            due=_notice_due(now, policy, appointment.starts_at),
            context={"starts_at": appointment.starts_at.isoformat()},
            now=now,
        )


def _on_moved(
    session: Session,
    appointment: Appointment,
    now: dt.datetime,
    old_start: dt.datetime,
    place_changed: bool,
) -> None:
    rows = reminders_of(session, appointment.id)
    time_changed = old_start != appointment.starts_at
    if time_changed:
        retime_reminders(session, appointment, now, rows)
    if not (time_changed or place_changed):
        return
    # A move the patient has not been told about yet replaces the earlier one: the message says
    # the time they last heard of, not an intermediate one.
    told_start = old_start
    for row in rows:
        if row.kind == MessageKind.MOVED and row.status in OPEN:
            told_start = context_time(row.context, "old_starts_at") or told_start
            _skip(row, "replaced by a later move")
    if not patient_knows(session, appointment, rows):
        return
    if told_start == appointment.starts_at and not place_changed:
        return
    policy = policy_for(appointment)
    for channel in policy.channels:
        _add_notice(
            session,
            appointment,
            MessageKind.MOVED,
            channel,
            key=f"a{appointment.id}:moved:r{appointment.revision}:{channel}",
            due=_notice_due(now, policy, appointment.starts_at),
            context={
                "old_starts_at": told_start.isoformat(),
                "starts_at": appointment.starts_at.isoformat(),
            },
            now=now,
        )


def _on_cancelled(
    session: Session, appointment: Appointment, now: dt.datetime, old_start: dt.datetime
) -> None:
    rows = reminders_of(session, appointment.id)
    knew = patient_knows(session, appointment, rows)
    skip_open(session, rows, "the appointment was cancelled")
    if not knew or old_start <= now:
        return
    patient = appointment.patient
    policy = policy_for(appointment)
    for channel in channels_for(patient):
        _add_notice(
            session,
            appointment,
            MessageKind.CANCELLED,
            channel,
            key=f"a{appointment.id}:cancelled:{channel}",
            due=_notice_due(now, policy, old_start),
            context={"starts_at": old_start.isoformat()},
            now=now,
        )


# --- reminders ahead of an appointment ----------------------------------------------------


def reminder_key(appointment: Appointment, rule: ReminderRule, channel: ReminderChannel) -> str:
    """One reminder per appointment, rule, channel and start time."""
    return f"a{appointment.id}:{rule.key}:{channel}:{int(appointment.starts_at.timestamp())}"


def plan_time(
    rule: ReminderRule, starts_at: dt.datetime, policy: ReminderPolicy, now: dt.datetime
) -> tuple[dt.datetime, str | None]:
    """When a reminder goes out, or why it will not: (due, skip reason)."""
    tz, quiet = policy.timezone, (policy.quiet_start, policy.quiet_end)
    nominal = starts_at - rule.before
    due = avoid_quiet_hours(nominal, tz, *quiet)
    if due < now:
        if nominal < now and not rule.essential:
            return now, "the appointment was booked after this reminder's time"
        due = next_allowed(now, tz, *quiet)
    if due >= starts_at - rule.stale_before:
        return due, "too close to the appointment once quiet hours are respected"
    return due, None


def schedule_reminders(
    session: Session, appointment: Appointment, now: dt.datetime
) -> list[Reminder]:
    """Add the reminder rows the policy asks for that do not exist yet."""
    policy = policy_for(appointment)
    existing = {r.dedupe_key for r in reminders_of(session, appointment.id)}
    added = []
    for rule in policy.rules:
        for channel in policy.channels:
            key = reminder_key(appointment, rule, channel)
            if key in existing:
                continue
            row = Reminder(
                appointment_id=appointment.id,
                course_id=appointment.course_id,
                patient_id=appointment.patient_id,
                kind=MessageKind.REMINDER,
                template=rule.template,
                channel=channel,
                offset_minutes=int(rule.before.total_seconds() // 60),
                dedupe_key=key,
                created_at=now,
            )
            _time_reminder(row, rule, appointment, policy, now)
            session.add(row)
            added.append(row)
    session.flush()
    return added


def retime_reminders(
    session: Session,
    appointment: Appointment,
    now: dt.datetime,
    rows: list[Reminder],
    *,
    reason: str = "the appointment was moved",
) -> None:
    """Move the reminders still to come to the appointment's new time.

    A reminder already sent stays as it is; the new time gets its own row (its key carries the
    start time). A reminder being sent right now is left to finish; the "moved" notice follows.
    """
    policy = policy_for(appointment)
    wanted: dict[tuple[int, ReminderChannel], tuple[str, ReminderRule]] = {}
    for rule in policy.rules:
        for channel in policy.channels:
            slot = (int(rule.before.total_seconds() // 60), channel)
            wanted[slot] = (reminder_key(appointment, rule, channel), rule)
    taken = {r.dedupe_key for r in rows}
    for row in rows:
        if row.kind != MessageKind.REMINDER or row.status not in OPEN:
            continue
        slot = (row.offset_minutes or 0, row.channel)
        target = wanted.get(slot)
        if target is None or (target[0] in taken and target[0] != row.dedupe_key):
            _skip(row, reason)
            continue
        key, rule = target
        taken.discard(row.dedupe_key)
        taken.add(key)
        row.dedupe_key = key
        row.template = rule.template
        row.attempts = 0
        row.last_error = None
        _time_reminder(row, rule, appointment, policy, now)
    session.flush()
    schedule_reminders(session, appointment, now)


def _time_reminder(
    row: Reminder,
    rule: ReminderRule,
    appointment: Appointment,
    policy: ReminderPolicy,
    now: dt.datetime,
) -> None:
    due, skip = plan_time(rule, appointment.starts_at, policy, now)
    row.due_at = due
    row.next_attempt_at = due
    row.stale_minutes = int(rule.stale_before.total_seconds() // 60)
    row.context = {"starts_at": appointment.starts_at.isoformat()}
    row.updated_at = now
    row.status = ReminderStatus.SKIPPED if skip else ReminderStatus.PENDING
    row.skip_reason = skip


# --- notices -------------------------------------------------------------------------------


def _notice_due(now: dt.datetime, policy: ReminderPolicy, deadline: dt.datetime) -> dt.datetime:
    """Now, or the end of the patient's night, unless waiting would pass ``deadline``."""
    due = next_allowed(now, policy.timezone, policy.quiet_start, policy.quiet_end)
    return due if due < deadline else now


def _add_notice(
    session: Session,
    appointment: Appointment,
    kind: MessageKind,
    channel: ReminderChannel,
    *,
    key: str,
    due: dt.datetime,
    context: dict[str, Any],
    now: dt.datetime,
) -> Reminder | None:
    if session.scalar(select(Reminder.id).where(Reminder.dedupe_key == key)) is not None:
        return None
    row = Reminder(
        appointment_id=appointment.id,
        course_id=appointment.course_id,
        patient_id=appointment.patient_id,
        kind=kind,
        template=NOTICE_TEMPLATES[kind.value],
        channel=channel,
        dedupe_key=key,
        context=context,
        due_at=due,
        next_attempt_at=due,
        stale_minutes=0,
        status=ReminderStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _course_welcome_rows(session: Session, course_id: int) -> list[Reminder]:
    return list(
        session.scalars(
            select(Reminder).where(
                Reminder.course_id == course_id,
                Reminder.appointment_id.is_(None),
                Reminder.kind == MessageKind.WELCOME,
            )
        )
    )


def _ensure_welcome(
    session: Session, course: Course, patient: Patient, now: dt.datetime
) -> list[Reminder]:
    tz = patient_zone(patient)
    start = patient.quiet_hours_start
    end = patient.quiet_hours_end
    due = next_allowed(now, tz, start, end)
    first = session.scalar(
        select(Appointment.starts_at)
        .where(Appointment.course_id == course.id, Appointment.starts_at > now)
        .order_by(Appointment.starts_at)
        .limit(1)
    )
    if first is not None and due >= first:
        due = now
    rows = _course_welcome_rows(session, course.id)
    have = {r.channel for r in rows}
    for channel in channels_for(patient):
        if channel in have:
            continue
        row = Reminder(
            course_id=course.id,
            patient_id=patient.id,
            kind=MessageKind.WELCOME,
            template=NOTICE_TEMPLATES["welcome"],
            channel=channel,
            dedupe_key=f"c{course.id}:welcome:{channel}",
            context={},
            due_at=due,
            next_attempt_at=due,
            stale_minutes=0,
            status=ReminderStatus.PENDING,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


# --- queries and small helpers -------------------------------------------------------------


def reminders_of(session: Session, appointment_id: int) -> list[Reminder]:
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.appointment_id == appointment_id)
            .order_by(Reminder.due_at, Reminder.id)
        )
    )


def patient_knows(session: Session, appointment: Appointment, rows: Iterable[Reminder]) -> bool:
    """Whether any message about this appointment (or its course's welcome) reached the patient."""
    if any(r.status in KNOWN for r in rows):
        return True
    if appointment.course_id is None:
        return False
    found = session.scalar(
        select(Reminder.id).where(
            Reminder.course_id == appointment.course_id,
            or_(Reminder.appointment_id.is_(None), Reminder.appointment_id == appointment.id),
            Reminder.kind == MessageKind.WELCOME,
            Reminder.status.in_(KNOWN),
        )
    )
    return found is not None


def skip_open(session: Session, rows: Iterable[Reminder], reason: str) -> None:
    for row in rows:
        if row.status in OPEN:
            _skip(row, reason)
    session.flush()


def _skip(row: Reminder, reason: str) -> None:
    row.status = ReminderStatus.SKIPPED
    row.skip_reason = reason[:300]
    row.claimed_at = None
