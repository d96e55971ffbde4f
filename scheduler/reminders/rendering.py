"""Turning a reminder row into a message: Jinja templates in plain text, HTML and SMS.

Packaged defaults live in ``templates/reminders/<name>.{subject.txt,txt,html,sms.txt}``; an
admin's ``ReminderTemplate`` row overrides any part it fills. Everything renders in a sandboxed
environment, since admins edit these templates in the app.

Health data: a message names the clinic, the time and the place, never the drug, a dose, a
diagnosis or staff notes. Unless the patient chose more detail for their calendar, the session
is called an "appointment".
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, TemplateError, TemplateNotFound, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import ROOT
from ..feeds.render import render_appointment_ics
from ..models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Course,
    FeedPrivacy,
    Location,
    MessageKind,
    Patient,
    Reminder,
    ReminderChannel,
    ReminderTemplate,
    RoomKind,
)
from .context import context_time
from .links import welcome_feed_links
from .policy import instructions_for, patient_zone
from .sandbox import BoundedSandbox

TEMPLATE_DIR = ROOT / "templates"
PARTS = ("subject", "body_text", "body_html", "sms_text")
SUFFIX = {
    "subject": ".subject.txt",
    "body_text": ".txt",
    "body_html": ".html",
    "sms_text": ".sms.txt",
}

KIND_LABELS = {
    AppointmentKind.DOSING: "treatment session",
    AppointmentKind.INTEGRATION: "integration session",
    AppointmentKind.EVALUATION: "evaluation",
    AppointmentKind.PREPARATION: "preparation session",
    AppointmentKind.FOLLOW_UP: "follow-up",
}


class TemplateProblem(Exception):
    """An admin's template does not render; the message fails permanently until it is fixed."""


@dataclass(frozen=True)
class RenderSettings:
    clinic_name: str
    base_url: str
    #: The name messages are signed with and subjects start with (MESSAGE_SENDER_NAME); None:
    #: the appointment's location's name, so that no message names the treatment by itself.
    sender_name: str | None = None


@dataclass
class RenderedMessage:
    subject: str
    text: str
    html: str | None = None
    attachment: bytes | None = None
    attachment_name: str | None = None


def packaged_source(name: str, part: str) -> str:
    path = TEMPLATE_DIR / "reminders" / f"{name}{SUFFIX[part]}"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def template_sources(session: Session, name: str) -> dict[str, str]:
    """Each part of template ``name``: the admin's version where set, else the packaged one."""
    row = session.scalar(select(ReminderTemplate).where(ReminderTemplate.name == name))
    sources = {part: packaged_source(name, part) for part in PARTS}
    if row is not None:
        for part in PARTS:
            value = getattr(row, part)
            if value and value.strip():
                sources[part] = value
    return sources


def format_local(when: dt.datetime | None, tz: ZoneInfo | str | None = None) -> str:
    """'Tue 3 Mar 2026, 09:00 EST (America/New_York)': local time, with the zone named."""
    if when is None:
        return ""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz or ZoneInfo("UTC")
    local = when.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {local:%Z} ({zone.key})"


def _environment(autoescape: bool) -> BoundedSandbox:
    env = BoundedSandbox(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default=autoescape),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["local"] = format_local
    return env


TEXT_ENV = _environment(autoescape=False)
HTML_ENV = _environment(autoescape=True)


@functools.lru_cache(maxsize=256)
def _compiled(source: str, html: bool) -> Any:
    env = HTML_ENV if html else TEXT_ENV
    return env.from_string(source)


def render_source(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    env = HTML_ENV if html else TEXT_ENV
    try:
        return env.render_bounded(_compiled(source, html), context).strip()
    except TemplateNotFound as error:
        raise TemplateProblem(f"template includes a missing file: {error.name}") from None
    except TemplateError as error:
        raise TemplateProblem(f"template error: {error}") from None


def render_reminder(
    session: Session,
    reminder: Reminder,
    settings: RenderSettings,
    templates: dict[str, dict[str, str]] | None = None,
) -> RenderedMessage:
    """``templates``: a cache of template sources by name, kept by a worker for one batch."""
    context = message_context(session, reminder, settings)
    if templates is None:
        templates = {}
    if reminder.template not in templates:
        templates[reminder.template] = template_sources(session, reminder.template)
    sources = templates[reminder.template]
    attachment = None
    if (
        reminder.channel == ReminderChannel.EMAIL
        # A cancellation's .ics carries STATUS:CANCELLED with a higher SEQUENCE: calendars that
        # imported the booking drop the event.
        and reminder.kind in (MessageKind.BOOKED, MessageKind.MOVED, MessageKind.CANCELLED)
        and reminder.appointment is not None
    ):
        attachment = render_appointment_ics(session, reminder.appointment)
    if reminder.channel == ReminderChannel.SMS:
        text = render_source(sources["sms_text"] or sources["body_text"], context)
        return RenderedMessage(subject="", text=text)
    subject = " ".join(render_source(sources["subject"], context).split())
    return RenderedMessage(
        subject=subject[:300],
        text=render_source(sources["body_text"], context) + "\n",
        html=render_source(sources["body_html"], context, html=True) or None,
        attachment=attachment,
        attachment_name="appointment.ics" if attachment else None,
    )


# --- what templates see ---------------------------------------------------------------------


def appointment_view(
    appointment: Appointment, patient: Patient, tz: ZoneInfo, when: dt.datetime | None = None
) -> dict[str, Any]:
    start = when or appointment.starts_at
    end = start + (appointment.ends_at - appointment.starts_at)
    room = appointment.room
    location = appointment.location
    telehealth = room is not None and room.kind == RoomKind.TELEHEALTH
    return {
        "label": label_for(appointment, patient),
        "when": format_local(start, tz),
        "date": f"{start.astimezone(tz):%A} {start.astimezone(tz).day} "
        f"{start.astimezone(tz):%B %Y}",
        "time": f"{start.astimezone(tz):%H:%M}",
        "ends": f"{end.astimezone(tz):%H:%M}",
        "zone": tz.key,
        "zone_abbreviation": f"{start.astimezone(tz):%Z}",
        "duration_minutes": int((end - start).total_seconds() // 60),
        "telehealth": telehealth,
        "video_url": room.video_url if telehealth and room is not None else None,
        "location": location.name if location is not None else "",
        "address": location.address if location is not None and not telehealth else "",
        "phone": location.phone if location is not None else "",
        "cancelled": appointment.status == AppointmentStatus.CANCELLED,
    }


def label_for(appointment: Appointment, patient: Patient) -> str:
    if patient.feed_privacy == FeedPrivacy.MINIMAL:
        return "appointment"
    return KIND_LABELS.get(appointment.kind, "appointment")


def message_context(
    session: Session, reminder: Reminder, settings: RenderSettings
) -> dict[str, Any]:
    patient = reminder.patient or session.get(Patient, reminder.patient_id)
    tz = patient_zone(patient)
    minimal = patient.feed_privacy == FeedPrivacy.MINIMAL
    location = _location(session, reminder)
    context: dict[str, Any] = {
        "clinic_name": settings.sender_name
        or (location.name if location else settings.clinic_name),
        #: The patient chose minimal privacy: no treatment words, no instructions.
        "minimal": minimal,
        "base_url": settings.base_url,
        "first_name": patient.first_name,
        "zone": tz.key,
        "kind": str(reminder.kind),
        "hours_before": _hours(reminder.offset_minutes),
        "instructions": [],
        "appointment": None,
        "old": None,
        "sessions": [],
        "feed_url": None,
        "feed_webcal_url": None,
    }
    appointment = reminder.appointment
    if appointment is not None:
        context["appointment"] = appointment_view(appointment, patient, tz)
        if not minimal:
            context["instructions"] = list(instructions_for(appointment))
        if reminder.kind == MessageKind.CANCELLED:
            old = context_time(reminder.context, "starts_at")
            context["appointment"] = appointment_view(appointment, patient, tz, old)
        if reminder.kind == MessageKind.MOVED:
            old = context_time(reminder.context, "old_starts_at")
            context["old"] = {"when": format_local(old, tz)} if old else None
    if reminder.kind == MessageKind.WELCOME and reminder.course_id is not None:
        course = session.get(Course, reminder.course_id)
        if course is not None:
            context["sessions"] = [
                appointment_view(a, patient, tz) for a in upcoming_sessions(session, course)
            ]
        links = welcome_feed_links(session, patient, settings.base_url)
        if links is not None:
            context["feed_url"] = links.url
            context["feed_webcal_url"] = links.webcal_url
    return context


def _location(session: Session, reminder: Reminder) -> Location | None:
    """Where the message's appointment (or course) is: its name signs the message."""
    if reminder.appointment is not None:
        return reminder.appointment.location
    if reminder.course_id is not None:
        course = session.get(Course, reminder.course_id)
        if course is not None:
            return session.get(Location, course.location_id)
    return None


def upcoming_sessions(session: Session, course: Course) -> list[Appointment]:
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.course_id == course.id,
                Appointment.status.in_((AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)),
            )
            .order_by(Appointment.starts_at)
        )
    )


def _hours(minutes: int | None) -> int | float | None:
    if minutes is None:
        return None
    hours = minutes / 60
    return int(hours) if hours == int(hours) else round(hours, 1)
