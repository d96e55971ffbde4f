"""One appointment: what it is, what it is paired with, and the front desk's actions on it
(check in, complete, no-show, cancel with a reason, move with everything that follows)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..audit import Action
from ..auth import permissions
from ..booking import cancel_appointment, get_appointment, progress_appointment
from ..booking.appointments import TRANSITIONS
from ..clock import now
from ..db import db, write_transaction
from ..errors import Conflict, DomainError, NotFound
from ..feeds.render import render_appointment_ics
from ..models import Appointment, AuditEntry
from ..reminders.admin import list_for_appointment
from .forms.appointments import CancelForm, StatusForm
from .listings import describe, load_entries
from .login import allowed, current_staff, signed_in
from .params import MAX_ID

bp = Blueprint("appointment", __name__, url_prefix="/appointments")

STEP_VERBS = {
    "confirm": "Confirmed",
    "check_in": "Checked in",
    "complete": "Completed",
    "no_show": "Recorded a no-show for",
}


def action(name: str) -> Action:
    return Action(name, current_staff(), now())


def load(appointment_id: int) -> Appointment:
    """The appointment, if it exists and the signed-in person may see it (else 404/403)."""
    appointment = db.session.get(Appointment, appointment_id) if appointment_id <= MAX_ID else None
    if appointment is None:
        raise NotFound("No such appointment")
    permissions.require(
        permissions.can_view_appointment(db.session, current_staff(), appointment),
        "see this appointment",
    )
    return appointment


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
    appointment = load(appointment_id)
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
    appointment = load(appointment_id)
    data = render_appointment_ics(db.session, appointment)
    return ics_response(data, f"appointment-{appointment.id}.ics")


def ics_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:appointment_id>/move", methods=["GET", "POST"])
@allowed(permissions.can_book, "move appointments")
def move(appointment_id: int) -> str:
    appointment = load(appointment_id)
    return render_template("appointments/move.html", a=appointment)


@bp.post("/<int:appointment_id>/status")
@allowed(permissions.can_book, "change an appointment's status")
def status(appointment_id: int) -> Response:
    load(appointment_id)
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
    appointment = load(appointment_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            with write_transaction(db.session):
                appointment = locked(appointment_id, form.revision.data)
                cancel_appointment(
                    db.session, appointment, action("appointment.cancel"), form.reason.data
                )
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("The appointment is cancelled.", "success")
        return redirect(url_for("appointment.show", appointment_id=appointment_id))
    flash("Give a reason to cancel.", "error")
    return redirect(url_for("appointment.show", appointment_id=appointment_id))
