"""iCalendar pieces, rendered by icalendar (escaping, CRLF, 75-octet folding) and joined as bytes.

A feed is ``head + VTIMEZONE blocks + VEVENTs + END:VCALENDAR``. Each VEVENT depends only on
what it is rendered from and each VTIMEZONE only on its zone and years, so both are rendered
once and reused: after one appointment changes, a rebuild renders one event and joins cached
bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vDuration

from .privacy import EventView
from .vtimezone import vtimezone_bytes

#: Neutral on purpose: a minimal-privacy feed must not name the treatment anywhere.
PRODID = "-//Clinic Scheduler//Calendar feeds 1.0//EN"
END = b"END:VCALENDAR\r\n"


@dataclass(frozen=True)
class CalendarHead:
    """Calendar-level properties. ``name`` and ``refresh`` are for subscribed feeds only: a
    single-event attachment carries neither, so importing it does not create a calendar."""

    method: str = "PUBLISH"
    name: str | None = None
    timezone: str | None = None
    refresh: dt.timedelta | None = None


def render_head(head: CalendarHead) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", head.method)
    if head.name:
        calendar.add("x-wr-calname", head.name)
    if head.timezone:
        calendar.add("x-wr-timezone", head.timezone)
    if head.refresh:
        calendar.add("refresh-interval", head.refresh, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(head.refresh))
    data = calendar.to_ical()
    assert data.endswith(END)
    return data[: -len(END)]


def render_event(view: EventView) -> bytes:
    """One VEVENT. DTSTAMP and LAST-MODIFIED are the appointment's last change, never the
    clock, so an unchanged appointment renders to the same bytes on every request."""
    tz = ZoneInfo(view.tzid)
    event = Event()
    event.add("uid", view.uid)
    event.add("dtstamp", view.stamp.astimezone(dt.UTC))
    event.add("last-modified", view.stamp.astimezone(dt.UTC))
    event.add("sequence", view.sequence)
    event.add("dtstart", view.starts_at.astimezone(tz))
    event.add("dtend", view.ends_at.astimezone(tz))
    event.add("status", view.status)
    event.add("summary", view.summary)
    if view.location:
        event.add("location", view.location)
    if view.description:
        event.add("description", view.description)
    event.add("class", "PRIVATE")
    event.add("transp", "TRANSPARENT" if view.status == "CANCELLED" else "OPAQUE")
    for before, text in view.alarms:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", text)
        alarm.add("trigger", -before)
        event.add_component(alarm)
    return event.to_ical()


def timezone_years(instants: Iterable[dt.datetime]) -> tuple[int, int]:
    """Years a VTIMEZONE must cover (it also holds the observance in force on 1 January of
    the first)."""
    years = [i.year for i in instants]
    return min(years), max(years)


def assemble(
    head: CalendarHead, tzids: Iterable[str], years: tuple[int, int], events: Iterable[bytes]
) -> bytes:
    """The calendar: a VTIMEZONE for every TZID the events use, then the events in order."""
    parts = [render_head(head)]
    parts.extend(vtimezone_bytes(tzid, *years) for tzid in sorted(set(tzids)))
    parts.extend(events)
    parts.append(END)
    return b"".join(parts)
