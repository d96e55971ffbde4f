"""The front desk's day view: one location, one local day, its rooms and chairs as columns."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth import permissions
from ..auth.web import allowed, current_staff
from ..clinic.staff import home_location_id
from ..clock import now
from ..db import db
from ..models import Appointment, AppointmentStatus, Closure, Location, RoomKind
from .appointment_lists import load_entries
from .calendar import Column, Grid, closed_spans, hour_range, now_marker, place
from .query_params import day_param, id_param

bp = Blueprint("front_desk", __name__, url_prefix="/desk")

#: Columns left to right: where dosing happens first, then talking rooms, then video lines.
ROOM_ORDER = [
    RoomKind.INFUSION_CHAIR,
    RoomKind.PROCEDURE_ROOM,
    RoomKind.MONITORED_TREATMENT_ROOM,
    RoomKind.THERAPY_ROOM,
    RoomKind.TELEHEALTH,
]


@bp.get("/day")
@allowed(permissions.can_book, "see the clinic's day view")
def day() -> str:
    locations = db.session.scalars(
        select(Location)
        .where(Location.active)
        .options(selectinload(Location.opening_hours), selectinload(Location.rooms))
        .order_by(Location.name)
    ).all()
    if not locations:
        return render_template("front_desk/no_locations.html")
    location = choose_location(locations, id_param("location"))
    zone = ZoneInfo(location.timezone)
    today = now().astimezone(zone).date()
    day_ = day_param("date") or today

    begin = dt.datetime.combine(day_, dt.time(0), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day_ + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.UTC)
    entries = load_entries(
        db.session,
        select(Appointment)
        .where(
            Appointment.location_id == location.id,
            Appointment.starts_at < end,
            Appointment.ends_at > begin,
        )
        .order_by(Appointment.starts_at, Appointment.id),
    )
    live = [e for e in entries if e.appointment.status != AppointmentStatus.CANCELLED]
    cancelled = [e for e in entries if e.appointment.status == AppointmentStatus.CANCELLED]
    closure = db.session.scalars(
        select(Closure).where(
            Closure.location_id == location.id,
            Closure.starts_on <= day_,
            Closure.ends_on >= day_,
        )
    ).first()

    hours = [(h.opens, h.closes) for h in location.opening_hours if h.weekday == day_.weekday()]
    first, last = hour_range(
        hours,
        [
            (e.appointment.starts_at.astimezone(zone), e.appointment.ends_at.astimezone(zone))
            for e in live
        ],
    )
    rooms = sorted(
        (r for r in location.rooms if r.active),
        key=lambda r: (ROOM_ORDER.index(r.kind), r.name),
    )
    shaded = closed_spans([] if closure else hours, first, last)
    columns = {
        r.id: Column(
            key=str(r.id), title=r.name, subtitle=r.kind.value.replace("_", " "), closed=shaded
        )
        for r in rooms
    }
    for entry in live:
        column = columns.get(entry.appointment.room_id)
        if column is not None:
            column.items.append(place(entry, zone, first, last))
    grid = Grid(zone=zone, first_hour=first, last_hour=last, columns=list(columns.values()))
    if day_ == today:
        now_marker(grid, now())
    counts = {
        "total": len(live),
        "dosing": sum(1 for e in live if e.kind.value == "dosing"),
        "checked_in": sum(1 for e in live if e.appointment.status == AppointmentStatus.CHECKED_IN),
        "cancelled": len(cancelled),
    }
    return render_template(
        "front_desk/day.html",
        location=location,
        locations=locations,
        day=day_,
        today=today,
        grid=grid,
        closure=closure,
        open_hours=hours,
        cancelled=cancelled,
        counts=counts,
        prev_day=day_ - dt.timedelta(days=1),
        next_day=day_ + dt.timedelta(days=1),
    )


def choose_location(locations: list[Location], wanted: int | None) -> Location:
    """The asked-for location, else where the signed-in person works, else the first."""
    by_id = {loc.id: loc for loc in locations}
    if wanted in by_id:
        return by_id[wanted]  # type: ignore[index]
    member = current_staff()
    home = home_location_id(member.working_hours)
    return by_id.get(home, locations[0]) if home is not None else locations[0]
