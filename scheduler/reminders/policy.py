"""Which reminders an appointment gets, on which channels, and when: the rules live here.

Offsets come from, in order: the patient's overrides (``Patient.reminder_overrides``), the
``reminder_hours`` of the protocol step (or pairing) in the course's protocol version, then the
defaults below.
Every time is decided in the patient's own time zone, where quiet hours apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import object_session

from ..models import Appointment, AppointmentKind, Course, Patient, ReminderChannel
from ..protocols import Pairing, Step, definition_of

DEFAULT_QUIET_START = dt.time(21, 0)
DEFAULT_QUIET_END = dt.time(8, 0)


@dataclass(frozen=True)
class ReminderRule:
    """One reminder ahead of an appointment.

    ``stale_before``: closer to the start than this, the reminder is no longer worth sending.
    ``essential``: still sent (late) when the appointment was booked after its time, because it
    carries something the patient must act on (fasting, a ride home).
    """

    before: dt.timedelta
    template: str
    stale_before: dt.timedelta
    essential: bool = False

    @property
    def key(self) -> str:
        return f"r{int(self.before.total_seconds() // 60)}"


@dataclass(frozen=True)
class ReminderPolicy:
    rules: tuple[ReminderRule, ...]
    channels: tuple[ReminderChannel, ...]
    timezone: ZoneInfo
    quiet_start: dt.time
    quiet_end: dt.time
    #: Patient instructions for this step (preparation for a dosing session).
    instructions: tuple[str, ...]


def rule(hours: float, template: str, *, essential: bool = False) -> ReminderRule:
    before = dt.timedelta(hours=hours)
    return ReminderRule(before, template, stale_before=before / 4, essential=essential)


#: The clinic's defaults (../shared/domain.md, "Reminders patients expect").
DEFAULT_RULES: dict[AppointmentKind, tuple[ReminderRule, ...]] = {
    AppointmentKind.DOSING: (
        rule(48, "dosing_preparation", essential=True),
        rule(2, "dosing_soon"),
    ),
    AppointmentKind.INTEGRATION: (
        rule(24, "integration_reminder"),
        rule(1, "integration_reminder"),
    ),
    AppointmentKind.EVALUATION: (rule(24, "appointment_reminder"),),
    AppointmentKind.PREPARATION: (rule(24, "appointment_reminder"),),
    AppointmentKind.FOLLOW_UP: (rule(24, "appointment_reminder"),),
}

#: What every dosing reminder tells the patient unless the protocol says otherwise.
DEFAULT_INSTRUCTIONS: dict[AppointmentKind, tuple[str, ...]] = {
    AppointmentKind.DOSING: (
        "No solid food for 6 hours before your appointment; clear liquids are fine until "
        "2 hours before.",
        "Arrange for someone to drive you home: you may not drive after the session.",
        "Do not drive, drink alcohol or make important decisions until the next day.",
    ),
}

#: Templates for the messages that follow a change rather than a clock.
NOTICE_TEMPLATES = {
    "booked": "appointment_booked",
    "moved": "appointment_moved",
    "cancelled": "appointment_cancelled",
    "welcome": "course_welcome",
}

TEMPLATE_NAMES: tuple[str, ...] = (
    "dosing_preparation",
    "dosing_soon",
    "integration_reminder",
    "appointment_reminder",
    *NOTICE_TEMPLATES.values(),
)


def policy_for(appointment: Appointment) -> ReminderPolicy:
    """The reminder policy of one appointment: protocol step, patient overrides, defaults."""
    patient = appointment.patient
    step = protocol_step(appointment)
    rules = DEFAULT_RULES.get(appointment.kind, ())
    # No hours of its own (the schema's default, an empty list): the defaults.
    if step is not None and step.reminder_hours:
        rules = _rules_from_hours(list(step.reminder_hours), rules, appointment.kind)
    overrides = (patient.reminder_overrides or {}).get(str(appointment.kind))
    if overrides is not None:
        rules = _rules_from_hours(overrides, rules, appointment.kind)
    return ReminderPolicy(
        rules=tuple(sorted(rules, key=lambda r: r.before, reverse=True)),
        channels=channels_for(patient),
        timezone=patient_zone(patient),
        quiet_start=patient.quiet_hours_start or DEFAULT_QUIET_START,
        quiet_end=patient.quiet_hours_end or DEFAULT_QUIET_END,
        instructions=instructions_for(appointment, step),
    )


def channels_for(patient: Patient) -> tuple[ReminderChannel, ...]:
    """The channels a patient takes messages on: opted in, with an address to send to."""
    channels: list[ReminderChannel] = []
    if patient.remind_by_email and patient.email:
        channels.append(ReminderChannel.EMAIL)
    if patient.remind_by_sms and patient.phone:
        channels.append(ReminderChannel.SMS)
    return tuple(channels)


def opted_out(patient: Patient, channel: ReminderChannel) -> str | None:
    """Why ``patient`` cannot get a message on ``channel`` now, or None."""
    if channel == ReminderChannel.EMAIL:
        if not patient.remind_by_email:
            return "the patient opted out of e-mail"
        if not patient.email:
            return "the patient has no e-mail address"
    else:
        if not patient.remind_by_sms:
            return "the patient opted out of SMS"
        if not patient.phone:
            return "the patient has no phone number"
    return None


def patient_zone(patient: Patient) -> ZoneInfo:
    try:
        return ZoneInfo(patient.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def protocol_step(appointment: Appointment) -> Step | Pairing | None:
    """The step (or a step's pairing) of the course's protocol version this appointment fills."""
    if appointment.course_id is None or not appointment.step_key:
        return None
    session = object_session(appointment)
    course = session.get(Course, appointment.course_id) if session is not None else None
    if course is None or course.protocol_version is None:
        return None
    definition = definition_of(course.protocol_version)
    for step in definition.steps:
        if step.key == appointment.step_key:
            return step
        if step.pairing is not None and step.pairing.key == appointment.step_key:
            return step.pairing
    return None


def instructions_for(
    appointment: Appointment, step: Step | Pairing | None = None
) -> tuple[str, ...]:
    """The step's instructions, one line each, or the clinic's defaults when it has none."""
    if step is None:
        step = protocol_step(appointment)
    if step is not None:
        found = _lines(step.instructions)
        if found:
            return found
    return DEFAULT_INSTRUCTIONS.get(appointment.kind, ())


# --- quiet hours ---------------------------------------------------------------------------


def is_quiet(when: dt.datetime, tz: ZoneInfo, start: dt.time, end: dt.time) -> bool:
    """Inside quiet hours [start, end) in ``tz``; the start itself still counts as allowed,
    since it ends the allowed period that a reminder is moved back to."""
    if start == end:
        return False
    local = when.astimezone(tz).time()
    if start > end:  # overnight, e.g. 21:00-08:00
        return local > start or local < end
    return start < local < end


def avoid_quiet_hours(when: dt.datetime, tz: ZoneInfo, start: dt.time, end: dt.time) -> dt.datetime:
    """Move a time that falls in quiet hours earlier, to the end of the allowed period before."""
    if not is_quiet(when, tz, start, end):
        return when
    local = when.astimezone(tz)
    day = local.date()
    if start > end and local.time() < end:
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, start, tzinfo=tz).astimezone(dt.UTC)


def next_allowed(when: dt.datetime, tz: ZoneInfo, start: dt.time, end: dt.time) -> dt.datetime:
    """``when`` itself, or the end of the quiet hours it falls in."""
    if not is_quiet(when, tz, start, end):
        return when
    local = when.astimezone(tz)
    day = local.date()
    if start > end and local.time() > start:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tzinfo=tz).astimezone(dt.UTC)


# --- reading a step's settings ------------------------------------------------------------


def _lines(text: str) -> tuple[str, ...]:
    """Instructions written as lines or a bulleted list, without the bullets and blank lines."""
    lines = (line.strip(" -*\t") for line in text.splitlines())
    return tuple(line for line in lines if line)


def _template_for(hours: float, defaults: Iterable[ReminderRule], kind: AppointmentKind) -> str:
    """The default rule's template nearest in offset: a 36 h dosing reminder still carries the
    preparation instructions, a 3 h one is the 'see you soon' message."""
    options = (
        list(defaults) or list(DEFAULT_RULES.get(kind, ())) or [rule(24, "appointment_reminder")]
    )
    target = dt.timedelta(hours=hours)
    return min(options, key=lambda r: abs(r.before - target)).template


def _rules_from_hours(
    hours: Any, defaults: tuple[ReminderRule, ...], kind: AppointmentKind
) -> tuple[ReminderRule, ...]:
    if not isinstance(hours, list):
        return defaults
    result = []
    for value in hours:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            continue
        template = _template_for(float(value), defaults, kind)
        essential = template == "dosing_preparation"
        result.append(rule(float(value), template, essential=essential))
    return tuple(_unique(result))


def _unique(rules: Iterable[ReminderRule]) -> list[ReminderRule]:
    seen: dict[str, ReminderRule] = {}
    for r in rules:
        seen.setdefault(r.key, r)
    return list(seen.values())
