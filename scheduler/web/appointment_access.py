"""The appointment a page shows, only if the signed-in staff member may see it."""

from __future__ import annotations

from ..auth import permissions
from ..auth.web import current_staff
from ..db import db
from ..errors import NotFound
from ..models import Appointment
from ..record_reads import note_read
from .query_params import MAX_ID


def visible_appointment(appointment_id: int) -> Appointment:
    """The appointment, if it exists and the signed-in person may see it (else 404/403)."""
    appointment = db.session.get(Appointment, appointment_id) if appointment_id <= MAX_ID else None
    viewer = current_staff()
    if appointment is None or not permissions.can_view_appointment(db.session, viewer, appointment):
        # One they may not see is answered as if it did not exist.
        raise NotFound("No such appointment")
    note_read(viewer, appointment.patient_id)
    return appointment
