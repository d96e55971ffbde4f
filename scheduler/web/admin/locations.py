"""Locations with their weekly opening hours and closures, and the rooms and chairs in them.

Every change goes through ``scheduler.clinic`` (the same functions as the API)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ...audit import Action
from ...auth import permissions
from ...auth.web import allowed, current_staff
from ...clinic.locations import create_location, update_location
from ...clinic.rooms import create_room, update_room
from ...clock import now
from ...db import db, write_transaction
from ...errors import NotFound, ValidationFailed
from ...models import Appointment, Location, Room
from ..forms.admin import WEEKDAYS, ClosureForm, LocationForm, RoomForm, WeekHoursForm
from ..forms.auth import ActionForm
from ..forms.fields import saved, show_domain_errors
from ..query_params import MAX_ID
from .blueprint import bp
from .impact import saved_message

ADMIN = permissions.can_manage_clinic
WHAT = "manage locations and rooms"


def action(name: str) -> Action:
    return Action(name, current_staff(), now())


def load_location(location_id: int) -> Location:
    location = (
        db.session.scalars(
            select(Location)
            .where(Location.id == location_id)
            .options(
                selectinload(Location.opening_hours),
                selectinload(Location.closures),
                selectinload(Location.rooms),
            )
        ).first()
        if location_id <= MAX_ID
        else None
    )
    if location is None:
        raise NotFound("No such location")
    return location


@bp.route("/locations", methods=["GET", "POST"])
@allowed(ADMIN, WHAT)
def locations() -> Response | str | tuple[str, int]:
    form = LocationForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            with write_transaction(db.session):
                location = create_location(
                    db.session, action("location.create"), form.data_for_domain()
                )
        except ValidationFailed as error:
            show_domain_errors(form, error.fields)
        else:
            flash(f"{location.name} added. Set its opening hours next.", "success")
            return redirect(url_for("admin.location", location_id=location.id))
    rows = db.session.scalars(
        select(Location)
        .options(selectinload(Location.opening_hours), selectinload(Location.rooms))
        .order_by(Location.name)
    ).all()
    status = 422 if request.method == "POST" else 200
    return render_template("admin/locations.html", rows=rows, form=form, weekdays=WEEKDAYS), status


def location_page(
    location: Location,
    *,
    form: LocationForm | None = None,
    hours: WeekHoursForm | None = None,
    closure: ClosureForm | None = None,
    room: RoomForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    if form is None:
        form = LocationForm(formdata=None, obj=location)
    if hours is None:
        hours = WeekHoursForm(formdata=None)
        hours.fill({h.weekday: (h.opens, h.closes) for h in location.opening_hours})
    booked = dict(
        db.session.execute(
            select(Appointment.room_id, func.count(Appointment.id))
            .where(Appointment.location_id == location.id)
            .group_by(Appointment.room_id)
        ).all()
    )
    return render_template(
        "admin/location.html",
        location=location,
        form=form,
        hours=hours,
        closure=closure or ClosureForm(formdata=None),
        room=room or RoomForm(formdata=None),
        booked=booked,
        weekdays=WEEKDAYS,
    ), status


@bp.route("/locations/<int:location_id>", methods=["GET", "POST"])
@allowed(ADMIN, WHAT)
def location(location_id: int) -> Response | tuple[str, int]:
    location = load_location(location_id)
    if request.method == "GET":
        return location_page(location)
    form = LocationForm()
    if form.validate_on_submit() and change(
        location, form, form.data_for_domain(), "location.update"
    ):
        flash(saved_message("Location saved.", form), "success")
        return redirect(url_for("admin.location", location_id=location.id))
    return location_page(location, form=form, status=422)


@bp.post("/locations/<int:location_id>/hours")
@allowed(ADMIN, WHAT)
def location_hours(location_id: int) -> Response | tuple[str, int]:
    location = load_location(location_id)
    hours = WeekHoursForm()
    if hours.validate_on_submit():
        data = {
            "opening_hours": [
                {"weekday": d, "opens": a, "closes": b} for d, a, b in hours.intervals()
            ]
        }
        if change(location, hours, data, "location.hours"):
            flash(saved_message("Opening hours saved.", hours), "success")
            return redirect(url_for("admin.location", location_id=location.id) + "#hours")
    return location_page(location, hours=hours, status=422)


def closures_of(location: Location) -> list[dict[str, Any]]:
    return [
        {"starts_on": c.starts_on, "ends_on": c.ends_on, "reason": c.reason}
        for c in location.closures
    ]


@bp.post("/locations/<int:location_id>/closures")
@allowed(ADMIN, WHAT)
def closure_add(location_id: int) -> Response | tuple[str, int]:
    location = load_location(location_id)
    form = ClosureForm()
    if form.validate_on_submit():
        new = {
            "starts_on": form.starts_on.data,
            "ends_on": form.ends_on.data,
            "reason": (form.reason.data or "").strip(),
        }
        if change(location, form, {"closures": [*closures_of(location), new]}, "closure.add"):
            flash(saved_message("Closure added.", form), "success")
            return redirect(url_for("admin.location", location_id=location.id) + "#closures")
    return location_page(location, closure=form, status=422)


@bp.post("/locations/<int:location_id>/closures/<int:closure_id>/delete")
@allowed(ADMIN, WHAT)
def closure_delete(location_id: int, closure_id: int) -> Response:
    location = load_location(location_id)
    form = ActionForm()
    keep = [
        {"starts_on": c.starts_on, "ends_on": c.ends_on, "reason": c.reason}
        for c in location.closures
        if c.id != closure_id
    ]
    removing = len(keep) < len(location.closures)
    if (
        form.validate_on_submit()
        and removing
        and change(location, form, {"closures": keep}, "closure.remove")
    ):
        flash("Closure removed.", "success")
    return redirect(url_for("admin.location", location_id=location.id) + "#closures")


def change(location: Location, form: Any, data: dict[str, Any], name: str) -> bool:
    """Apply ``data`` through the domain, showing its impact on booked sessions first; on a
    refusal, show why on ``form``."""
    act = action(name)
    return saved(form, lambda session: update_location(session, act, location, data), guard=act)


@bp.post("/locations/<int:location_id>/rooms")
@allowed(ADMIN, WHAT)
def room_add(location_id: int) -> Response | tuple[str, int]:
    location = load_location(location_id)
    form = RoomForm()
    if form.validate_on_submit():
        try:
            with write_transaction(db.session):
                create_room(db.session, action("room.create"), form.data_for_domain(location.id))
        except ValidationFailed as error:
            show_domain_errors(form, error.fields)
        else:
            flash("Room added.", "success")
            return redirect(url_for("admin.location", location_id=location.id) + "#rooms")
    return location_page(load_location(location_id), room=form, status=422)


@bp.route("/rooms/<int:room_id>", methods=["GET", "POST"])
@allowed(ADMIN, WHAT)
def room(room_id: int) -> Response | tuple[str, int]:
    room = db.session.get(Room, room_id) if room_id <= MAX_ID else None
    if room is None:
        raise NotFound("No such room")
    form = RoomForm(obj=room) if request.method == "GET" else RoomForm()
    act = action("room.update")
    if request.method == "GET":
        form.kind.data = room.kind.value
    elif form.validate_on_submit() and saved(
        form,
        lambda session: update_room(session, act, room, form.data_for_domain(room.location_id)),
        guard=act,
    ):
        flash(saved_message("Room saved.", form), "success")
        return redirect(url_for("admin.location", location_id=room.location_id) + "#rooms")
    status = 422 if request.method == "POST" else 200
    return render_template("admin/room.html", room=room, form=form), status
