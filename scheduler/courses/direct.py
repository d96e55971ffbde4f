"""Moving one course session directly (a plain reschedule), without breaking its course.

A plain reschedule of a course session is fine when nothing else has to follow; when its
integration session or a later session would have to move too, the move is refused with the
list of what would move, so the caller uses the preview/apply flow that moves them together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from ..audit import Action
from ..booking import reschedule_appointment
from ..errors import Conflict, ValidationFailed
from ..models import Appointment, StaffPart
from .moves import ApprovedMoves, apply_moves, preview_move


def reschedule_session(
    session: Session,
    appointment: Appointment,
    action: Action,
    *,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    room_id: int | None = None,
    staff: Sequence[tuple[int, StaffPart]] | None = None,
) -> Appointment:
    """Reschedule ``appointment``; for a course session, only if its course stays whole."""
    if appointment.course_id is None:
        return reschedule_appointment(
            session,
            appointment,
            action,
            starts_at=starts_at,
            ends_at=ends_at,
            room_id=room_id,
            staff=staff,
        )
    start = starts_at or appointment.starts_at
    if ends_at is not None and ends_at - start != appointment.ends_at - appointment.starts_at:
        raise ValidationFailed({"ends_at": "a course session keeps its protocol's duration"})
    preview = preview_move(
        session,
        appointment,
        starts_at=start,
        room_id=room_id,
        staff=list(staff) if staff is not None else None,
        now=action.now,
    )
    followers = [m for m in preview.moves if m.appointment_id != appointment.id]
    if followers:
        listed = "; ".join(
            f"{m.title} (appointment {m.appointment_id}) to {m.starts_at.isoformat()}"
            for m in followers
        )
        raise Conflict(
            f"Moving this session moves {len(followers)} more of its course with it: {listed}. "
            f"Preview and apply the move together (POST /api/appointments/{appointment.id}"
            "/reschedule/preview, then /reschedule).",
            rule="course_moves",
            conflicts=[
                {
                    "appointment_id": m.appointment_id,
                    "reason": m.reason,
                    "starts_at": m.starts_at.isoformat(),
                    "ends_at": m.ends_at.isoformat(),
                }
                for m in followers
            ],
        )
    approved = ApprovedMoves(
        appointment_id=appointment.id,
        course_id=preview.course_id,
        basis=preview.basis,
        moves=tuple(
            (m.appointment_id, m.revision, m.starts_at, m.ends_at, m.room_id, m.staff)
            for m in preview.moves
        ),
    )
    apply_moves(session, action, approved)
    return appointment
