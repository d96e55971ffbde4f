"""Moving an appointment with what follows it: ``/api/appointments/{id}/reschedule/preview``
lists every appointment that would move (a dosing session, its paired session, any later
session whose spacing fails) with a token; ``/api/appointments/{id}/reschedule`` applies
exactly that preview, or answers 409 if anything changed since. Front desk and admins."""

from __future__ import annotations

from typing import Any

from flask import current_app

from ..auth.api import current_actor
from ..auth.permissions import can_manage_courses, require
from ..booking import get_appointment
from ..clock import now
from ..courses import apply_moves, preview_move, read_token
from ..courses.numbering import session_numbers
from ..db import db, write_transaction
from ..models import Appointment
from .access import action, get_or_404
from .blueprint import Blueprint
from .courses import names
from .responses import errors
from .schemas.courses import (
    ApplyMoveSchema,
    MovedSchema,
    MovePreviewSchema,
    PreviewRequestSchema,
    appointment_item,
    move_preview,
)

blp = Blueprint(
    "course-moves",
    __name__,
    url_prefix="/api/appointments",
    description="Moving a session with its paired session and the sessions that follow it",
)


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


@blp.route("/<int:appointment_id>/reschedule/preview", methods=["POST"])
@blp.arguments(PreviewRequestSchema)
@blp.response(200, MovePreviewSchema)
@errors(blp, 400, 403, 404, 409, 422)
def preview(data: dict[str, Any], appointment_id: int) -> Any:
    """What moving the appointment to `starts_at` (and `room_id`/`staff`, if given) would move:
    its paired session re-planned and any later session whose spacing now fails, with their
    new times. Writes nothing; a move that cannot keep every rule is a 409 saying why."""
    require(can_manage_courses(current_actor()), "move appointments")
    appointment = get_or_404(Appointment, appointment_id, "appointment")
    staff = data.get("staff")
    result = preview_move(
        db.session,
        appointment,
        starts_at=data["starts_at"],
        room_id=data.get("room_id"),
        staff=[(s["staff_id"], s["part"]) for s in staff] if staff else None,
        now=now(),
        release=True,
    )
    return move_preview(result, names(appointment.location.timezone), result.token(_secret()))


@blp.route("/<int:appointment_id>/reschedule", methods=["POST"])
@blp.arguments(ApplyMoveSchema)
@blp.response(200, MovedSchema)
@errors(blp, 400, 403, 404, 409, 422)
def reschedule(data: dict[str, Any], appointment_id: int) -> Any:
    """Apply exactly the preview whose `token` is given, in one transaction: each moved
    appointment's revision rises and the audit log has one entry per appointment under one
    action. If the course changed since the preview, or a slot was taken, 409 and nothing moves."""
    require(can_manage_courses(current_actor()), "move appointments")
    get_or_404(Appointment, appointment_id, "appointment")
    approved = read_token(data["token"], _secret(), appointment_id)
    with write_transaction(db.session):
        get_appointment(db.session, appointment_id, lock=True)
        moved = apply_moves(db.session, action("appointment.reschedule_with_course"), approved)
    numbers = session_numbers(db.session, moved)
    return {
        "appointment_id": appointment_id,
        "moved": [appointment_item(a, numbers=numbers) for a in moved],
    }
