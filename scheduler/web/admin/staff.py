"""Staff members: roles, sign-in, weekly working hours per location and time off.

Every change goes through ``scheduler.clinic.staff`` (the same functions as the API)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ...audit import Action
from ...auth import permissions
from ...auth.web import allowed, current_staff
from ...clinic.staff import create_staff, home_location_id, update_staff
from ...clock import now
from ...db import db, write_transaction
from ...errors import NotFound, ValidationFailed
from ...models import Location, StaffMember
from ..forms.admin import WEEKDAYS, StaffForm, StaffHoursForm, TimeOffForm
from ..forms.auth import ActionForm
from ..forms.fields import choices, saved, show_domain_errors
from ..query_params import MAX_ID
from .blueprint import bp
from .impact import saved_message

ADMIN = permissions.can_manage_clinic
WHAT = "manage staff"


def action(name: str) -> Action:
    return Action(name, current_staff(), now())


def load_member(staff_id: int) -> StaffMember:
    member = (
        db.session.scalars(
            select(StaffMember)
            .where(StaffMember.id == staff_id)
            .options(selectinload(StaffMember.working_hours), selectinload(StaffMember.time_off))
        ).first()
        if staff_id <= MAX_ID
        else None
    )
    if member is None:
        raise NotFound("No such staff member")
    return member


def active_locations() -> list[Location]:
    return list(db.session.scalars(select(Location).order_by(Location.name)))


@bp.route("/staff", methods=["GET", "POST"])
@allowed(ADMIN, WHAT)
def staff() -> Response | tuple[str, int]:
    form = StaffForm()
    if request.method == "POST" and form.validate_on_submit():
        if not form.password.data:
            form.password.errors = ["A new staff member needs a password to sign in."]
        else:
            try:
                with write_transaction(db.session):
                    member = create_staff(
                        db.session, action("staff.create"), form.data_for_domain()
                    )
            except ValidationFailed as error:
                show_domain_errors(form, error.fields)
            else:
                flash(f"{member.name} added. Set their working hours next.", "success")
                return redirect(url_for("admin.staff_member", staff_id=member.id))
    members = db.session.scalars(
        select(StaffMember)
        .options(selectinload(StaffMember.working_hours))
        .order_by(StaffMember.active.desc(), StaffMember.name)
    ).all()
    locations = {loc.id: loc for loc in active_locations()}
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/staff.html", members=members, form=form, locations=locations
    ), status


def member_page(
    member: StaffMember,
    *,
    form: StaffForm | None = None,
    hours: StaffHoursForm | None = None,
    time_off: TimeOffForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    locations = active_locations()
    if form is None:
        form = StaffForm(formdata=None, obj=member)
        form.roles.data = sorted(r.value for r in member.roles)
        form.password.data = ""
    hour_forms = []
    for loc in locations:
        mine = {
            h.weekday: (h.starts, h.ends) for h in member.working_hours if h.location_id == loc.id
        }
        if hours is not None and hours.location_id.data == loc.id:
            sub = hours
        else:
            sub = StaffHoursForm(formdata=None, prefix=f"loc{loc.id}")
            sub.fill(mine)
        sub.location_id.choices = choices([(loc.id, loc.name)])
        sub.location_id.data = loc.id
        hour_forms.append((loc, sub, bool(mine)))
    return render_template(
        "admin/staff_member.html",
        member=member,
        form=form,
        hour_forms=hour_forms,
        time_off=time_off or TimeOffForm(formdata=None),
        zone=member_zone(member),
        weekdays=WEEKDAYS,
    ), status


def member_zone(member: StaffMember) -> ZoneInfo:
    location_id = home_location_id(member.working_hours)
    location = db.session.get(Location, location_id) if location_id else None
    return ZoneInfo(location.timezone if location else "UTC")


@bp.route("/staff/<int:staff_id>", methods=["GET", "POST"])
@allowed(ADMIN, WHAT)
def staff_member(staff_id: int) -> Response | tuple[str, int]:
    member = load_member(staff_id)
    if request.method == "GET":
        return member_page(member)
    form = StaffForm()
    if form.validate_on_submit() and change(member, form, form.data_for_domain(), "staff.update"):
        flash(saved_message("Staff member saved.", form), "success")
        return redirect(url_for("admin.staff_member", staff_id=member.id))
    return member_page(member, form=form, status=422)


@bp.post("/staff/<int:staff_id>/hours/<int:location_id>")
@allowed(ADMIN, WHAT)
def working_hours(staff_id: int, location_id: int) -> Response | tuple[str, int]:
    member = load_member(staff_id)
    form = StaffHoursForm(prefix=f"loc{location_id}")
    form.location_id.choices = choices([(location_id, "")])
    if form.validate_on_submit():
        others = [
            {"location_id": h.location_id, "weekday": h.weekday, "starts": h.starts, "ends": h.ends}
            for h in member.working_hours
            if h.location_id != location_id
        ]
        mine = [
            {"location_id": location_id, "weekday": d, "starts": a, "ends": b}
            for d, a, b in form.intervals()
        ]
        if change(member, form, {"working_hours": others + mine}, "staff.hours"):
            flash(saved_message("Working hours saved.", form), "success")
            return redirect(url_for("admin.staff_member", staff_id=member.id) + "#hours")
    return member_page(member, hours=form, status=422)


def time_off_items(member: StaffMember) -> list[dict[str, Any]]:
    return [
        {"starts_at": t.starts_at, "ends_at": t.ends_at, "reason": t.reason}
        for t in member.time_off
    ]


@bp.post("/staff/<int:staff_id>/time-off")
@allowed(ADMIN, WHAT)
def time_off_add(staff_id: int) -> Response | tuple[str, int]:
    member = load_member(staff_id)
    form = TimeOffForm()
    if form.validate_on_submit():
        zone = member_zone(member)
        new = {
            "starts_at": dt.datetime.combine(form.starts_on.data, dt.time(0), zone),
            "ends_at": dt.datetime.combine(
                form.ends_on.data + dt.timedelta(days=1), dt.time(0), zone
            ),
            "reason": (form.reason.data or "").strip(),
        }
        new = {k: v.astimezone(dt.UTC) if isinstance(v, dt.datetime) else v for k, v in new.items()}
        if change(member, form, {"time_off": [*time_off_items(member), new]}, "staff.time_off"):
            flash(saved_message("Time off added.", form), "success")
            return redirect(url_for("admin.staff_member", staff_id=member.id) + "#time-off")
    return member_page(member, time_off=form, status=422)


@bp.post("/staff/<int:staff_id>/time-off/<int:time_off_id>/delete")
@allowed(ADMIN, WHAT)
def time_off_delete(staff_id: int, time_off_id: int) -> Response:
    member = load_member(staff_id)
    form = ActionForm()
    keep = [
        {"starts_at": t.starts_at, "ends_at": t.ends_at, "reason": t.reason}
        for t in member.time_off
        if t.id != time_off_id
    ]
    removing = len(keep) < len(member.time_off)
    if (
        form.validate_on_submit()
        and removing
        and change(member, form, {"time_off": keep}, "staff.time_off")
    ):
        flash("Time off removed.", "success")
    return redirect(url_for("admin.staff_member", staff_id=member.id) + "#time-off")


def change(member: StaffMember, form: Any, data: dict[str, Any], name: str) -> bool:
    """Apply ``data`` through the domain, showing its impact on booked sessions first; on a
    refusal, show why on ``form``."""
    act = action(name)
    return saved(form, lambda session: update_staff(session, act, member, data), guard=act)
