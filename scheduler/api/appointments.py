"""Appointments: ``/api/appointments``. Front desk and admins book, move, cancel and progress
them; clinicians and therapists read their own schedule and their patients' appointments.

Every change goes through ``scheduler.booking`` inside one write transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.api import current_actor
from ..auth.permissions import can_book, can_view_appointment, require, visible_appointments
from ..booking import (
    AppointmentRequest,
    book_appointment,
    get_appointment,
    progress_appointment,
)
from ..courses.moves import SessionsMustFollow, cancel_session, move_session
from ..db import db, write_transaction
from ..errors import Conflict, ValidationFailed
from ..models import Appointment, AppointmentStaff, Room
from ..record_reads import note_read
from .access import action, get_or_404, visible_or_404
from .blueprint import Blueprint
from .pagination import PAGING, SelectPage
from .responses import errors
from .schemas.appointments import (
    AppointmentCreateSchema,
    AppointmentQuerySchema,
    AppointmentSchema,
    AppointmentUpdateSchema,
)
from .schemas.courses import AppointmentCancelSchema

blp = Blueprint(
    "appointments",
    __name__,
    url_prefix="/api/appointments",
    description="Booking, moving, cancelling and progressing appointments",
)


def _ends_at(data: dict[str, Any], starts_at: dt.datetime) -> dt.datetime | None:
    if "ends_at" in data:
        return data["ends_at"]  # type: ignore[no-any-return]
    if "duration_minutes" in data:
        return starts_at + dt.timedelta(minutes=data["duration_minutes"])
    return None


def _staff(items: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    return [(item["staff_id"], item["part"]) for item in items]


def _for_change(appointment_id: int) -> Appointment:
    """The appointment, locked for the rest of the write transaction."""
    get_or_404(Appointment, appointment_id, "appointment")
    return get_appointment(db.session, appointment_id, lock=True)


@blp.route("")
class Appointments(MethodView):
    @blp.arguments(AppointmentQuerySchema, location="query")
    @blp.response(200, AppointmentSchema(many=True))
    @blp.paginate(SelectPage, **PAGING)
    @errors(blp, 422)
    def get(self, query: dict[str, Any]) -> Any:
        """Appointments you may see, by start; filter by staff, room, patient, location, time
        (`from`/`to`: overlapping that span), status and kind."""
        if "starts_from" in query and "until" in query and query["until"] <= query["starts_from"]:
            raise ValidationFailed({"to": "must be after from"})
        statement = select(Appointment).options(selectinload(Appointment.location))
        if "staff_id" in query:
            statement = statement.where(
                Appointment.id.in_(
                    select(AppointmentStaff.appointment_id).where(
                        AppointmentStaff.staff_id == query["staff_id"]
                    )
                )
            )
        for name in ("room_id", "patient_id", "location_id", "status", "kind"):
            if name in query:
                statement = statement.where(getattr(Appointment, name) == query[name])
        if "starts_from" in query:
            statement = statement.where(Appointment.ends_at > query["starts_from"])
        if "until" in query:
            statement = statement.where(Appointment.starts_at < query["until"])
        statement = statement.order_by(Appointment.starts_at, Appointment.id)
        return visible_appointments(current_actor(), statement)

    @blp.arguments(AppointmentCreateSchema)
    @blp.response(201, AppointmentSchema)
    @errors(blp, 400, 403, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Book one appointment (front desk, admins). Give `ends_at` or `duration_minutes`;
        `location_id` defaults to the room's. A broken booking rule answers 409 naming it."""
        require(can_book(current_actor()), "book appointments")
        with write_transaction(db.session):
            room = db.session.get(Room, data["room_id"])
            if room is None:
                raise ValidationFailed({"room_id": f"no room {data['room_id']}"})
            request = AppointmentRequest(
                kind=data["kind"],
                patient_id=data["patient_id"],
                location_id=data.get("location_id", room.location_id),
                room_id=room.id,
                starts_at=data["starts_at"],
                ends_at=_ends_at(data, data["starts_at"]),  # type: ignore[arg-type]
                staff=_staff(data["staff"]),
                buffer_minutes=data["buffer_minutes"],
                internal_note=data["internal_note"],
            )
            appointment = book_appointment(db.session, request, action("appointment.book"))
        return appointment


@blp.route("/<int:appointment_id>")
class AppointmentById(MethodView):
    @blp.response(200, AppointmentSchema)
    @errors(blp, 403, 404)
    def get(self, appointment_id: int) -> Any:
        """One appointment, if you may see it."""
        appointment = get_or_404(Appointment, appointment_id, "appointment")
        viewer = current_actor()
        visible_or_404(
            can_view_appointment(db.session, viewer, appointment), "appointment", appointment_id
        )
        note_read(viewer, appointment.patient_id)
        return appointment

    @blp.arguments(AppointmentUpdateSchema)
    @blp.response(200, AppointmentSchema)
    @errors(blp, 400, 403, 404, 409, 422)
    def patch(self, data: dict[str, Any], appointment_id: int) -> Any:
        """Reschedule: new start (keeping the duration unless an end is given), room or staff.
        The UID stays, the revision rises. With `revision`, a stale edit answers 409."""
        require(can_book(current_actor()), "reschedule appointments")
        with write_transaction(db.session):
            appointment = _for_change(appointment_id)
            if "revision" in data and data["revision"] != appointment.revision:
                raise Conflict(
                    f"Appointment {appointment.id} changed meanwhile "
                    f"(now revision {appointment.revision}); reload and retry",
                    rule="revision",
                )
            starts_at = data.get("starts_at")
            try:
                move_session(
                    db.session,
                    appointment,
                    action("appointment.reschedule"),
                    starts_at=starts_at,
                    ends_at=_ends_at(data, starts_at or appointment.starts_at),
                    room_id=data.get("room_id"),
                    staff=_staff(data["staff"]) if "staff" in data else None,
                )
            except SessionsMustFollow as refused:
                raise _preview_instead(refused) from refused
        return appointment


def _preview_instead(refused: SessionsMustFollow) -> Conflict:
    """The refusal with where to go instead: the routes that preview and apply the whole move."""
    preview = url_for("course-moves.preview", appointment_id=refused.appointment_id)
    return Conflict(
        f"{refused.message} Preview and apply the move together (POST {preview}, "
        "then /reschedule).",
        rule=refused.rule,
        conflicts=refused.conflicts,
    )


@blp.route("/<int:appointment_id>/cancel", methods=["POST"])
@blp.arguments(AppointmentCancelSchema)
@blp.response(200, AppointmentSchema)
@errors(blp, 400, 403, 404, 409, 422)
def cancel(data: dict[str, Any], appointment_id: int) -> Any:
    """Cancel with a reason (front desk, admins). The UID stays; feeds show it as cancelled.
    A dose whose integration session is still to come needs `keep_integration`, as on
    `POST /api/courses/{id}/appointments/{id}/cancel`: true keeps it, false cancels it too."""
    require(can_book(current_actor()), "cancel appointments")
    with write_transaction(db.session):
        appointment = _for_change(appointment_id)
        cancel_session(
            db.session,
            action("appointment.cancel"),
            appointment,
            data["reason"],
            data.get("keep_integration"),
        )
    return appointment


def _progress_view(step: str, path: str, summary: str) -> None:
    def view(appointment_id: int) -> Any:
        require(can_book(current_actor()), "change an appointment's status")
        with write_transaction(db.session):
            appointment = _for_change(appointment_id)
            progress_appointment(db.session, appointment, action(f"appointment.{step}"), step)
        return appointment

    view.__name__ = step
    view.__doc__ = summary
    decorated = errors(blp, 403, 404, 409)(blp.response(200, AppointmentSchema)(view))
    blp.route(f"/<int:appointment_id>/{path}", methods=["POST"], endpoint=step)(decorated)


_progress_view("confirm", "confirm", "Mark as confirmed by the patient (from scheduled).")
_progress_view(
    "check_in", "check-in", "Check the patient in: on the appointment's day, before it ends."
)
_progress_view("complete", "complete", "Mark a checked-in appointment as completed.")
_progress_view("no_show", "no-show", "Record a no-show, after the appointment's start.")
