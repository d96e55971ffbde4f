"""The .ics attachment of "booked" and "moved" e-mails.

The feeds module (issue 4) owns iCalendar building; until it offers
``scheduler.feeds.render_appointment_ics(session, appointment)``, ``_minimal_ics`` stands in.
This is the one place to switch.
"""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from ..models import Appointment, AppointmentStatus, RoomKind

try:  # pragma: no cover - depends on whether the feeds module has landed
    from ..feeds import render_appointment_ics as _feeds_ics
except ImportError:  # pragma: no cover
    _feeds_ics = None


def appointment_ics(session: Session, appointment: Appointment) -> bytes:
    if _feeds_ics is not None:
        built = _feeds_ics(session, appointment)
        return built.encode("utf-8") if isinstance(built, str) else bytes(built)
    return _minimal_ics(appointment)


def _minimal_ics(appointment: Appointment) -> bytes:
    """One event in UTC (no floating time, no VTIMEZONE to get wrong), with the appointment's
    fixed UID and its revision as SEQUENCE, so a calendar updates the event instead of adding
    a second one. The summary names no treatment."""
    calendar = Calendar()
    calendar.add("prodid", "-//Ketamine Clinic Scheduler//Reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", appointment.uid)
    event.add("sequence", appointment.revision)
    event.add("dtstamp", appointment.updated_at.astimezone(dt.UTC))
    event.add("dtstart", appointment.starts_at.astimezone(dt.UTC))
    event.add("dtend", appointment.ends_at.astimezone(dt.UTC))
    location = appointment.location
    event.add("summary", f"Appointment at {location.name}" if location else "Appointment")
    room = appointment.room
    if room is not None and room.kind == RoomKind.TELEHEALTH and room.video_url:
        event.add("location", room.video_url)
    elif location is not None:
        event.add("location", location.address or location.name)
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
