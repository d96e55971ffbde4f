"""Booking rules that need no database: hours, closures, time off, room kinds, staff parts.

Each check returns ``None`` when the rule holds, or a message a front-desk user can act on.
The planner calls the same functions on data it preloaded for its window, so a plan and a
booking can never disagree about what is allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from ..models import (
    REQUIRED_PARTS,
    ROLE_FOR_PART,
    ROOM_KINDS_FOR,
    AppointmentKind,
    Closure,
    Location,
    Room,
    StaffMember,
    StaffPart,
    TimeOff,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def local_span(
    tz: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    return start.astimezone(tz), end.astimezone(tz)


def describe_span(tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> str:
    """'Tue 10 Mar 2026 09:00-10:40 (Europe/Berlin)'."""
    ls, le = local_span(tz, start, end)
    return f"{ls:%a %d %b %Y %H:%M}-{le:%H:%M} ({tz.key})"


def fits_weekly(
    intervals: Iterable[tuple[int, dt.time, dt.time]],
    tz: ZoneInfo,
    start: dt.datetime,
    end: dt.datetime,
) -> bool:
    """True when [start, end) lies inside one weekly local interval (weekday, from, to)."""
    ls, le = local_span(tz, start, end)
    end_time = le.time()
    if le.date() != ls.date():
        # Ending exactly at local midnight still belongs to the day it started.
        if not (le.date() == ls.date() + dt.timedelta(days=1) and end_time == dt.time(0)):
            return False
        end_time = dt.time.max
    weekday = ls.weekday()
    begin = ls.time()
    return any(
        day == weekday
        and opens <= begin
        and end_time <= (closes if closes != dt.time(0) else dt.time.max)
        for day, opens, closes in intervals
    )


def check_opening_hours(location: Location, start: dt.datetime, end: dt.datetime) -> str | None:
    tz = ZoneInfo(location.timezone)
    intervals = [(h.weekday, h.opens, h.closes) for h in location.opening_hours]
    if fits_weekly(intervals, tz, start, end):
        return None
    return f"{location.name} is not open for all of {describe_span(tz, start, end)}"


def check_closures(
    location: Location, closures: Iterable[Closure], start: dt.datetime, end: dt.datetime
) -> str | None:
    tz = ZoneInfo(location.timezone)
    ls, le = local_span(tz, start, end)
    for closure in closures:
        if closure.starts_on <= le.date() and ls.date() <= closure.ends_on:
            reason = f" ({closure.reason})" if closure.reason else ""
            return f"{location.name} is closed on {ls:%a %d %b %Y}{reason}"
    return None


def check_working_hours(
    staff: StaffMember, location: Location, start: dt.datetime, end: dt.datetime
) -> str | None:
    tz = ZoneInfo(location.timezone)
    intervals = [
        (h.weekday, h.starts, h.ends) for h in staff.working_hours if h.location_id == location.id
    ]
    if fits_weekly(intervals, tz, start, end):
        return None
    return f"{staff.name} does not work at {location.name} {describe_span(tz, start, end)}"


def check_time_off(
    staff: StaffMember,
    time_off: Iterable[TimeOff],
    start: dt.datetime,
    end: dt.datetime,
    tz: ZoneInfo,
) -> str | None:
    for off in time_off:
        if off.starts_at < end and start < off.ends_at:
            return f"{staff.name} is off {describe_span(tz, off.starts_at, off.ends_at)}"
    return None


def check_room(
    room: Room,
    kind: AppointmentKind,
    location: Location,
    allowed: Iterable[str] | None = None,
) -> str | None:
    if room.location_id != location.id:
        return f"{room.name} is not at {location.name}"
    if not room.active:
        return f"{room.name} is not in service"
    kinds = set(allowed) if allowed is not None else ROOM_KINDS_FOR[kind]
    if room.kind not in kinds:
        wanted = ", ".join(sorted(str(k).replace("_", " ") for k in kinds))
        return (
            f"{room.name} is a {room.kind.value.replace('_', ' ')}; "
            f"a {kind.value.replace('_', ' ')} appointment needs: {wanted}"
        )
    return None


def check_parts(
    kind: AppointmentKind, participants: Iterable[tuple[StaffMember, StaffPart]]
) -> str | None:
    """Every part is taken by someone with its role, and the kind's required parts are filled."""
    filled: set[StaffPart] = set()
    for member, part in participants:
        role = ROLE_FOR_PART[part]
        if not member.active:
            return f"{member.name} is not active"
        if role not in member.roles:
            return (
                f"{member.name} is not a {role.value} and cannot be {part.value.replace('_', ' ')}"
            )
        filled.add(part)
    missing = REQUIRED_PARTS[kind] - filled
    if missing:
        names = ", ".join(sorted(p.value.replace("_", " ") for p in missing))
        return f"a {kind.value.replace('_', ' ')} appointment needs: {names}"
    return None
