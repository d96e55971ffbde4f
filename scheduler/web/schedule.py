"""A clinician's or therapist's own schedule: my day as an agenda, my week as a calendar grid.

The front desk and admins can open anyone's week at ``/staff/<id>/week``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..auth import permissions
from ..auth.web import current_staff, signed_in
from ..clinic.staff import home_location_id
from ..clock import now
from ..db import db
from ..errors import NotFound
from ..models import (
    Appointment,
    AppointmentStaff,
    AppointmentStatus,
    FeedOwnerKind,
    Location,
    StaffMember,
    TimeOff,
)
from .appointment_lists import Entry, load_entries
from .calendar import Column, Grid, closed_spans, hour_range, now_marker, place
from .feed_links import FeedPanel, feed_panel, issue_link, revoke_link
from .forms.auth import ActionForm
from .query_params import MAX_ID, day_param, id_param

bp = Blueprint("schedule", __name__)

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class Week:
    member: StaffMember
    zone: ZoneInfo
    location: Location | None
    monday: dt.date
    entries: list[Entry]
    time_off: list[TimeOff]


def staff_appointments(member_id: int, begin: dt.datetime, end: dt.datetime) -> list[Entry]:
    """The member's live appointments overlapping [begin, end), with pairs and progress."""
    return load_entries(
        db.session,
        select(Appointment)
        .where(
            Appointment.id.in_(
                select(AppointmentStaff.appointment_id).where(
                    AppointmentStaff.staff_id == member_id
                )
            ),
            Appointment.status != AppointmentStatus.CANCELLED,
            Appointment.starts_at < end,
            Appointment.ends_at > begin,
        )
        .order_by(Appointment.starts_at, Appointment.id),
    )


def display_zone(member: StaffMember) -> tuple[ZoneInfo, Location | None]:
    """A schedule is shown in the time zone of the location where its owner works most."""
    wanted = id_param("location")
    location_id = wanted or home_location_id(member.working_hours)
    location = db.session.get(Location, location_id) if location_id else None
    if location is None:
        return ZoneInfo("UTC"), None
    return ZoneInfo(location.timezone), location


def load_week(member: StaffMember) -> Week:
    zone, location = display_zone(member)
    anchor = day_param("date") or now().astimezone(zone).date()
    monday = anchor - dt.timedelta(days=anchor.weekday())
    begin = dt.datetime.combine(monday, dt.time(0), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), zone).astimezone(dt.UTC)
    entries = staff_appointments(member.id, begin, end)
    time_off = db.session.scalars(
        select(TimeOff).where(
            TimeOff.staff_id == member.id, TimeOff.starts_at < end, TimeOff.ends_at > begin
        )
    ).all()
    return Week(member, zone, location, monday, entries, list(time_off))


def week_grid(week: Week) -> Grid:
    zone = week.zone
    hours_by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for h in week.member.working_hours:
        if week.location is None or h.location_id == week.location.id:
            hours_by_day.setdefault(h.weekday, []).append((h.starts, h.ends))
    spans = [
        (e.appointment.starts_at.astimezone(zone), e.appointment.ends_at.astimezone(zone))
        for e in week.entries
    ]
    first, last = hour_range([iv for ivs in hours_by_day.values() for iv in ivs], spans)
    today = now().astimezone(zone).date()
    days = [week.monday + dt.timedelta(days=i) for i in range(7)]
    used = {s.date() for s, _ in spans}
    shown = [d for d in days if d.weekday() < 5 or d.weekday() in hours_by_day or d in used]
    columns: dict[dt.date, Column] = {}
    for d in shown:
        closed = closed_spans(hours_by_day.get(d.weekday(), []), first, last)
        closed += time_off_spans(week.time_off, d, zone, first, last)
        columns[d] = Column(
            key=d.isoformat(),
            title=f"{WEEKDAY_NAMES[d.weekday()]} {d.day}",
            subtitle=d.strftime("%b %Y") if d == shown[0] else d.strftime("%b"),
            is_today=d == today,
            closed=closed,
            url=day_url(week.member, d),
        )
    for entry, (starts, _ends) in zip(week.entries, spans, strict=True):
        column = columns.get(starts.date())
        if column is not None:
            column.items.append(place(entry, zone, first, last))
    grid = Grid(zone=zone, first_hour=first, last_hour=last, columns=list(columns.values()))
    now_marker(grid, now(), {d: c.key for d, c in columns.items()})
    return grid


def time_off_spans(
    time_off: list[TimeOff], day: dt.date, zone: ZoneInfo, first: int, last: int
) -> list[tuple[float, float]]:
    spans: list[tuple[float, float]] = []
    day_start = dt.datetime.combine(day, dt.time(first), zone)
    day_end = dt.datetime.combine(day, dt.time(0), zone) + dt.timedelta(hours=last)
    for off in time_off:
        a = max(off.starts_at.astimezone(zone), day_start)
        b = min(off.ends_at.astimezone(zone), day_end)
        if a < b:
            top = (a - day_start).total_seconds() / 900
            spans.append((top, (b - a).total_seconds() / 900))
    return spans


def day_url(member: StaffMember, day: dt.date) -> str:
    if member.id == current_staff().id:
        return url_for("schedule.day", date=day.isoformat())
    return url_for("schedule.staff_day", staff_id=member.id, date=day.isoformat())


def week_page(member: StaffMember, feed: FeedPanel | None = None) -> str:
    week = load_week(member)
    grid = week_grid(week)
    own = member.id == current_staff().id
    endpoint_args = {} if own else {"staff_id": member.id}
    endpoint = "schedule.week" if own else "schedule.staff_week"
    return render_template(
        "schedule/week.html",
        week=week,
        grid=grid,
        member=member,
        own=own,
        count=len(week.entries),
        prev_url=url_for(
            endpoint, date=(week.monday - dt.timedelta(days=7)).isoformat(), **endpoint_args
        ),
        next_url=url_for(
            endpoint, date=(week.monday + dt.timedelta(days=7)).isoformat(), **endpoint_args
        ),
        today_url=url_for(endpoint, **endpoint_args),
        feed=(feed or feed_panel(FeedOwnerKind.STAFF, member.id)) if own else None,
    )


def day_page(member: StaffMember) -> str:
    zone, location = display_zone(member)
    today = now().astimezone(zone).date()
    day = day_param("date") or today
    begin = dt.datetime.combine(day, dt.time(0), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.UTC)
    entries = staff_appointments(member.id, begin, end)
    own = member.id == current_staff().id
    args = {} if own else {"staff_id": member.id}
    endpoint = "schedule.day" if own else "schedule.staff_day"
    return render_template(
        "schedule/day.html",
        member=member,
        own=own,
        zone=zone,
        location=location,
        day=day,
        today=today,
        entries=entries,
        now=now(),
        prev_url=url_for(endpoint, date=(day - dt.timedelta(days=1)).isoformat(), **args),
        next_url=url_for(endpoint, date=(day + dt.timedelta(days=1)).isoformat(), **args),
        today_url=url_for(endpoint, **args),
        week_url=url_for(
            "schedule.week" if own else "schedule.staff_week", date=day.isoformat(), **args
        ),
    )


@bp.get("/my/week")
@signed_in
def week() -> str:
    return week_page(current_staff())


@bp.post("/my/feed")
@signed_in
def feed() -> str | Response:
    """A new subscribe link for my own schedule, shown once on my week."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("schedule.week"))
    member = current_staff()
    return week_page(member, issue_link(FeedOwnerKind.STAFF, member.id, with_qr=False))


@bp.post("/my/feed/revoke")
@signed_in
def feed_revoke() -> Response:
    if ActionForm().validate_on_submit() and revoke_link(FeedOwnerKind.STAFF, current_staff().id):
        flash("Your calendar link is switched off.", "success")
    return redirect(url_for("schedule.week") + "#feed-title")


@bp.get("/my/day")
@signed_in
def day() -> str:
    return day_page(current_staff())


def other_member(staff_id: int) -> StaffMember:
    permissions.require(
        permissions.can_view_staff_schedule(current_staff(), staff_id), "see this schedule"
    )
    member = db.session.get(StaffMember, staff_id) if staff_id <= MAX_ID else None
    if member is None:
        raise NotFound("No such staff member")
    return member


@bp.get("/staff/<int:staff_id>/week")
@signed_in
def staff_week(staff_id: int) -> str:
    return week_page(other_member(staff_id))


@bp.get("/staff/<int:staff_id>/day")
@signed_in
def staff_day(staff_id: int) -> str:
    return day_page(other_member(staff_id))
