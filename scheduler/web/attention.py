"""Needs attention: the front desk's list of sessions that a change after booking left
breaking a rule (a therapist's time off, a closure, a room out of service, a cancelled pair),
oldest flag first, each with a one-click re-plan with its pair (preview, then apply).

The flags themselves are kept by ``scheduler.integrity``; re-planning is
``courses.replan.preview_replan`` applied through the same signed token as a requested move.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, func, select
from werkzeug.wrappers import Response

from ..audit import Action
from ..auth import permissions
from ..auth.web import allowed, current_staff
from ..clock import now
from ..courses import apply_moves, read_token
from ..courses.replan import preview_replan
from ..db import db, write_transaction
from ..errors import DomainError
from ..integrity.check import OPEN
from ..models import Appointment, Location
from .appointment_access import visible_appointment
from .appointment_lists import load_entries, preview_changes
from .forms.auth import ActionForm
from .query_params import id_param

bp = Blueprint("needs_attention", __name__, url_prefix="/desk/attention")

#: More than this many flags is a clinic-wide problem; the page says how many are not shown.
LIMIT = 200
WHAT = "see sessions that need attention"


def flagged(
    location_id: int | None,
) -> tuple[Select[tuple[Appointment]], Select[tuple[int]]]:
    """The open flagged sessions (optionally at one location), oldest flag first, and their
    count."""
    where = [Appointment.attention_rule.is_not(None), Appointment.status.in_(OPEN)]
    if location_id is not None:
        where.append(Appointment.location_id == location_id)
    rows = (
        select(Appointment)
        .where(*where)
        .order_by(Appointment.attention_since, Appointment.starts_at, Appointment.id)
    )
    return rows, select(func.count(Appointment.id)).where(*where)


@bp.get("")
@allowed(permissions.can_book, WHAT)
def index() -> str:
    locations = db.session.scalars(select(Location).order_by(Location.name)).all()
    wanted = id_param("location")
    location = next((loc for loc in locations if loc.id == wanted), None)
    rows, count = flagged(location.id if location else None)
    entries = load_entries(db.session, rows.limit(LIMIT))
    return render_template(
        "attention/index.html",
        entries=entries,
        total=db.session.scalar(count) or 0,
        locations=locations,
        location=location,
        replan_form=ActionForm(),
    )


def back_to_list() -> Response:
    """The list, at the location it was filtered by (an id, nothing about the patient)."""
    return redirect(url_for("needs_attention.index", location=id_param("location")))


@bp.route("/<int:appointment_id>/replan", methods=["GET", "POST"])
@allowed(permissions.can_manage_courses, "re-plan appointments")
def replan(appointment_id: int) -> Response | str:
    """The preview: every session that would move, from where to where. Writes nothing; a
    button rather than a link so the planner does not run for prefetches and crawlers."""
    appointment = visible_appointment(appointment_id)
    if request.method == "GET" or not ActionForm().validate_on_submit():
        return back_to_list()
    try:
        preview = preview_replan(db.session, appointment, now=now())
    except DomainError as error:
        db.session.rollback()
        flash(f"Cannot re-plan this session: {error.message}", "error")
        return back_to_list()
    (entry,) = load_entries(db.session, select(Appointment).where(Appointment.id == appointment.id))
    return render_template(
        "attention/replan_preview.html",
        a=appointment,
        entry=entry,
        changes=preview_changes(preview),
        plan=preview.token(current_app.config["SECRET_KEY"]),
        location_id=id_param("location"),
    )


@bp.post("/<int:appointment_id>/replan/apply")
@allowed(permissions.can_manage_courses, "re-plan appointments")
def replan_apply(appointment_id: int) -> Response:
    """Apply exactly the previewed moves, together; if anything changed since, nothing does."""
    visible_appointment(appointment_id)
    if not ActionForm().validate_on_submit():
        return back_to_list()
    try:
        approved = read_token(
            request.form.get("plan", ""), current_app.config["SECRET_KEY"], appointment_id
        )
        with write_transaction(db.session):
            moved = apply_moves(
                db.session, Action("appointment.replan", current_staff(), now()), approved
            )
    except DomainError as error:
        db.session.rollback()
        flash(f"{error.message}. Nothing was changed.", "error")
        return back_to_list()
    count = len(moved)
    flash(
        f"Re-planned: {count} session{'s' if count != 1 else ''} moved. "
        "The patient is told the new times.",
        "success",
    )
    return back_to_list()
