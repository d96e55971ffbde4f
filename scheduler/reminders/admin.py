"""What staff pages and the API do with reminders: list, resend, read the outbox, edit templates.

Domain functions: they take the session and an ``Action``, never commit, and write audit
entries for every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..audit import Action, record
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import (
    OutboxMessage,
    Reminder,
    ReminderChannel,
    ReminderStatus,
    ReminderTemplate,
)
from .policy import TEMPLATE_NAMES
from .rendering import (
    HTML_ENV,
    PARTS,
    TEXT_ENV,
    TemplateProblem,
    packaged_source,
    render_source,
    template_sources,
)

MAX_TEMPLATE_CHARS = {"subject": 300, "body_text": 20000, "body_html": 40000, "sms_text": 1000}


# --- reading ---------------------------------------------------------------------------------


def reminders_for_appointment(appointment_id: int) -> Select[tuple[Reminder]]:
    return (
        select(Reminder)
        .where(Reminder.appointment_id == appointment_id)
        .order_by(Reminder.due_at, Reminder.id)
    )


def list_for_appointment(session: Session, appointment_id: int) -> list[Reminder]:
    """Every message about one appointment, in the order they go out, with their status."""
    return list(session.scalars(reminders_for_appointment(appointment_id)))


def failed_reminders() -> Select[tuple[Reminder]]:
    return (
        select(Reminder)
        .where(Reminder.status == ReminderStatus.FAILED)
        .order_by(Reminder.updated_at.desc(), Reminder.id.desc())
    )


def list_failed(session: Session, *, limit: int = 100, offset: int = 0) -> list[Reminder]:
    """Deliveries that gave up, newest first, for an admin to look at and resend."""
    return list(session.scalars(failed_reminders().limit(limit).offset(offset)))


def outbox_messages(channel: ReminderChannel | None = None) -> Select[tuple[OutboxMessage]]:
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    return query


def list_outbox(
    session: Session,
    *,
    limit: int = 100,
    offset: int = 0,
    channel: ReminderChannel | None = None,
) -> list[OutboxMessage]:
    """Messages kept in the app (no SMTP server configured, or the SMS log backend)."""
    return list(session.scalars(outbox_messages(channel).limit(limit).offset(offset)))


def get_outbox_message(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"No outbox message {message_id}")
    return message


def get_reminder(session: Session, reminder_id: int) -> Reminder:
    # Workers change these rows from other connections: always read the stored state.
    reminder = session.get(Reminder, reminder_id, populate_existing=True)
    if reminder is None:
        raise NotFound(f"No reminder {reminder_id}")
    return reminder


# --- resending -------------------------------------------------------------------------------


def resend(session: Session, reminder_id: int, action: Action) -> Reminder:
    """Queue a message again now: a failed one, a skipped one, or a sent one the patient lost.

    A sent message goes out with a new Message-ID (it is a deliberate second copy); the worker
    still checks it is useful (a reminder for a cancelled appointment is skipped again).
    """
    reminder = get_reminder(session, reminder_id)
    if reminder.status in (ReminderStatus.PENDING, ReminderStatus.SENDING):
        raise Conflict(
            f"Reminder {reminder.id} is already {reminder.status.value}", rule="reminder_status"
        )
    before = _snapshot(reminder)
    if reminder.status == ReminderStatus.SENT:
        reminder.resend_count += 1
    reminder.status = ReminderStatus.PENDING
    reminder.attempts = 0
    reminder.last_error = None
    reminder.skip_reason = None
    reminder.claimed_at = None
    reminder.claimed_by = None
    reminder.next_attempt_at = action.now
    reminder.updated_at = action.now
    session.flush()
    record(
        session,
        action,
        "reminder",
        reminder.id,
        before,
        _snapshot(reminder),
        what="reminder.resend",
    )
    return reminder


def _snapshot(reminder: Reminder) -> dict[str, Any]:
    return {
        "status": reminder.status.value,
        "attempts": reminder.attempts,
        "resend_count": reminder.resend_count,
        "next_attempt_at": reminder.next_attempt_at.isoformat(),
    }


# --- templates -------------------------------------------------------------------------------


@dataclass
class TemplateView:
    """One template as admins see it: each part's current source and whether it is theirs."""

    name: str
    subject: str
    body_text: str
    body_html: str
    sms_text: str
    customized: list[str]


def list_templates(session: Session) -> list[TemplateView]:
    return [get_template(session, name) for name in TEMPLATE_NAMES]


def get_template(session: Session, name: str) -> TemplateView:
    _known(name)
    sources = template_sources(session, name)
    row = session.scalar(select(ReminderTemplate).where(ReminderTemplate.name == name))
    customized = [p for p in PARTS if row is not None and (getattr(row, p) or "").strip()]
    return TemplateView(name=name, customized=customized, **sources)


def sample_context() -> dict[str, Any]:
    """Every variable a message template may use, with example values."""
    appointment = {
        "label": "appointment",
        "when": "Tue 3 Mar 2026, 09:00 EST (America/New_York)",
        "date": "Tuesday 3 March 2026",
        "time": "09:00",
        "ends": "10:40",
        "zone": "America/New_York",
        "zone_abbreviation": "EST",
        "duration_minutes": 100,
        "telehealth": False,
        "video_url": None,
        "location": "Riverside",
        "address": "1 Main Street",
        "phone": "+1 555 0100",
        "cancelled": False,
    }
    return {
        "clinic_name": "Riverside",
        "minimal": False,
        "base_url": "https://clinic.example.org",
        "first_name": "Avery",
        "zone": "America/New_York",
        "kind": "reminder",
        "hours_before": 24,
        "instructions": ["Arrange for someone to drive you home."],
        "appointment": appointment,
        "old": {"when": "Mon 2 Mar 2026, 09:00 EST (America/New_York)"},
        "sessions": [appointment],
        "feed_url": "https://clinic.example.org/feeds/x.ics",
        "feed_webcal_url": "webcal://clinic.example.org/feeds/x.ics",
    }


def update_template(
    session: Session, name: str, action: Action, changes: dict[str, str | None]
) -> TemplateView:
    """Set parts of a template. An empty part goes back to the packaged default.

    Each given part must compile in the sandbox; a broken template is refused here rather than
    failing at 3 a.m. in the worker.
    """
    _known(name)
    unknown = sorted(set(changes) - set(PARTS))
    if unknown:
        raise ValidationFailed({unknown[0]: "not a template part"})
    problems: dict[str, str] = {}
    for part, source in changes.items():
        text = source or ""
        if len(text) > MAX_TEMPLATE_CHARS[part]:
            problems[part] = f"at most {MAX_TEMPLATE_CHARS[part]} characters"
            continue
        if "\x00" in text:
            problems[part] = "contains a NUL character"
            continue
        env = HTML_ENV if part == "body_html" else TEXT_ENV
        try:
            env.parse(text)
        except TemplateSyntaxError as error:
            problems[part] = f"line {error.lineno}: {error.message}"
            continue
        try:
            # A sample render: what compiles may still cost too much to render.
            render_source(text, sample_context(), html=part == "body_html")
        except TemplateProblem as error:
            problems[part] = str(error)
    if problems:
        raise ValidationFailed(problems, "The template does not compile")
    row = session.scalar(select(ReminderTemplate).where(ReminderTemplate.name == name))
    before = None
    if row is None:
        row = ReminderTemplate(name=name)
        session.add(row)
    else:
        before = {p: getattr(row, p) for p in PARTS}
    for part, source in changes.items():
        text = source or ""
        setattr(row, part, text if text.strip() else "")
    row.updated_at = action.now
    row.updated_by_id = action.actor.id if action.actor else None
    session.flush()
    after = {p: getattr(row, p) for p in PARTS}
    record(
        session, action, "reminder_template", row.id, before, after, what="reminder_template.update"
    )
    return get_template(session, name)


def packaged_template(name: str) -> dict[str, str]:
    _known(name)
    return {part: packaged_source(name, part) for part in PARTS}


def _known(name: str) -> None:
    if name not in TEMPLATE_NAMES:
        raise NotFound(f"No reminder template {name!r}")
