"""One appointment: what it is, what it is paired with, and the front desk's actions on it
(check in, complete, no-show, cancel with a reason, move with everything that follows)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..audit import Action
from ..auth import permissions
from ..auth.web import allowed, current_staff, signed_in
from ..booking import get_appointment, progress_appointment
from ..booking.appointments import TRANSITIONS
from ..clock import now
from ..courses import MovePreview, apply_moves, cancel_session, preview_move, read_token
from ..db import db, write_transaction
from ..errors import Conflict, DomainError
from ..feeds.render import render_appointment_ics
from ..models import ROOM_KINDS_FOR, Appointment, AuditEntry, Room
from ..reminders.admin import list_for_appointment
from .appointment_access import visible_appointment
from .appointment_lists import describe, load_entries, preview_changes
from .downloads import ics_response
from .forms.appointments import CancelForm, MoveForm, StatusForm
from .forms.auth import ActionForm
from .forms.fields import choices

bp = Blueprint("appointment", __name__, url_prefix="/appointments")

#: The cancel form's choice for a dose's integration session; none chosen: the domain asks.
KEEP_PAIR = {"keep": True, "cancel": False}

STEP_VERBS = {
    "confirm": "Confirmed",
    "check_in": "Checked in",
    "complete": "Completed",
    "no_show": "Recorded a no-show for",
}


def action(name: str) -> Action:
    return Action(name, current_staff(), now())


def locked(appointment_id: int, revision: str | int | None) -> Appointment:
    """Inside a write transaction: the appointment, locked, unchanged since the page showed it."""
    appointment = get_appointment(db.session, appointment_id, lock=True)
    if revision not in (None, "") and str(revision) != str(appointment.revision):
        raise Conflict(
            "This appointment changed since the page was loaded; check it and try again",
            rule="revision",
        )
    return appointment


@bp.get("/<int:appointment_id>")
@signed_in
def show(appointment_id: int) -> str:
    appointment = visible_appointment(appointment_id)
    (entry,) = load_entries(db.session, select(Appointment).where(Appointment.id == appointment.id))
    history = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "appointment", AuditEntry.entity_id == appointment.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(50)
    ).all()
    actor = current_staff()
    may_change = permissions.can_book(actor)
    steps = [s for s, (before, _) in TRANSITIONS.items() if appointment.status in before]
    pair = describe(db.session, [entry.pair])[0] if entry.pair is not None else None
    return render_template(
        "appointments/show.html",
        entry=entry,
        a=appointment,
        pair=pair,
        history=history if may_change else [],
        may_change=may_change,
        steps=steps if may_change else [],
        status_form=StatusForm(revision=appointment.revision),
        cancel_form=CancelForm(revision=appointment.revision),
        reminders=list_for_appointment(db.session, appointment.id),
        may_resend=permissions.can_manage_clinic(actor),
    )


@bp.get("/<int:appointment_id>.ics")
@signed_in
def ics(appointment_id: int) -> Response:
    """The appointment as the patient's .ics file (at their privacy level), to hand over."""
    appointment = visible_appointment(appointment_id)
    data = render_appointment_ics(db.session, appointment)
    return ics_response(data, f"appointment-{appointment.id}.ics")


def move_form(appointment: Appointment) -> MoveForm:
    form = MoveForm()
    rooms = db.session.scalars(
        select(Room)
        .where(
            Room.location_id == appointment.location_id,
            Room.active,
            Room.kind.in_(sorted(ROOM_KINDS_FOR[appointment.kind])),
        )
        .order_by(Room.name)
    ).all()
    form.room_id.choices = choices(
        [(0, "Any free room (this one if free)")] + [(r.id, r.name) for r in rooms]
    )
    return form


@bp.route("/<int:appointment_id>/move", methods=["GET", "POST"])
@allowed(permissions.can_book, "move appointments")
def move(appointment_id: int) -> str | tuple[str, int]:
    """Choose a new time; the preview shows everything that would move with it."""
    appointment = visible_appointment(appointment_id)
    (entry,) = load_entries(db.session, select(Appointment).where(Appointment.id == appointment.id))
    zone = ZoneInfo(appointment.location.timezone)
    form = move_form(appointment)
    if request.method == "GET":
        local = appointment.starts_at.astimezone(zone)
        form.day.data, form.time.data = local.date(), local.time().replace(second=0)
        form.room_id.data = 0
        return render_template("appointments/move.html", a=appointment, entry=entry, form=form)
    problem = None
    if form.validate_on_submit():
        starts_at = dt.datetime.combine(form.day.data, form.time.data, zone).astimezone(dt.UTC)
        try:
            preview = preview_move(
                db.session,
                appointment,
                starts_at=starts_at,
                room_id=form.room_id.data or None,
                staff=None,
                now=now(),
                release=True,
            )
        except DomainError as error:
            db.session.rollback()
            problem = error.message
        else:
            return move_preview_page(appointment, preview), 200
    return render_template(
        "appointments/move.html", a=appointment, entry=entry, form=form, problem=problem
    ), 422


def move_preview_page(appointment: Appointment, preview: MovePreview) -> str:
    return render_template(
        "appointments/move_preview.html",
        a=appointment,
        changes=preview_changes(preview),
        plan_json=preview.token(current_app.config["SECRET_KEY"]),
    )


@bp.post("/<int:appointment_id>/move/apply")
@allowed(permissions.can_book, "move appointments")
def move_apply(appointment_id: int) -> Response:
    """Apply exactly the previewed moves, together; if anything changed since, nothing does."""
    visible_appointment(appointment_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("appointment.move", appointment_id=appointment_id))
    try:
        approved = read_token(
            request.form.get("plan", ""), current_app.config["SECRET_KEY"], appointment_id
        )
        with write_transaction(db.session):
            moved = apply_moves(db.session, action("appointment.move"), approved)
    except DomainError as error:
        flash(f"{error.message}. Nothing was changed.", "error")
        return redirect(url_for("appointment.move", appointment_id=appointment_id))
    flash(f"Moved {len(moved)} appointment{'s' if len(moved) != 1 else ''}.", "success")
    return redirect(url_for("appointment.show", appointment_id=appointment_id))


@bp.post("/<int:appointment_id>/status")
@allowed(permissions.can_book, "change an appointment's status")
def status(appointment_id: int) -> Response:
    visible_appointment(appointment_id)
    form = StatusForm()
    if not form.validate_on_submit():
        flash("That action is not available.", "error")
        return redirect(url_for("appointment.show", appointment_id=appointment_id))
    step = form.step.data
    try:
        with write_transaction(db.session):
            appointment = locked(appointment_id, form.revision.data)
            progress_appointment(db.session, appointment, action(f"appointment.{step}"), step)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"{STEP_VERBS[step]} the appointment.", "success")
    return redirect(url_for("appointment.show", appointment_id=appointment_id))


@bp.post("/<int:appointment_id>/cancel")
@allowed(permissions.can_book, "cancel appointments")
def cancel(appointment_id: int) -> Response | tuple[str, int]:
    appointment = visible_appointment(appointment_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            with write_transaction(db.session):
                appointment = locked(appointment_id, form.revision.data)
                cancel_session(
                    db.session,
                    action("appointment.cancel"),
                    appointment,
                    form.reason.data,
                    keep_pair=KEEP_PAIR.get(form.pair.data),
                )
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("The appointment is cancelled.", "success")
        return redirect(url_for("appointment.show", appointment_id=appointment_id))
    flash("Give a reason to cancel.", "error")
    return redirect(url_for("appointment.show", appointment_id=appointment_id))
