"""What each change puts in scope for the needs-attention flags (connected in ``init_app``)."""

from __future__ import annotations

from sqlalchemy.orm import Session, scoped_session

from ..signals import AppointmentChange, ClinicDataChange, appointment_changed, clinic_data_changed
from .check import Scope
from .flags import note


def _session(sender: object) -> Session:
    return sender() if isinstance(sender, scoped_session) else sender  # type: ignore[return-value]


def on_appointment_change(sender: object, change: AppointmentChange) -> None:
    """The patient's sessions (their courses' spacing, pairs and other courses) and the
    appointment itself (a cancellation clears its flag)."""
    appointment = change.appointment
    courses = {appointment.course_id} if appointment.course_id is not None else set()
    scope = Scope(
        patient_ids=frozenset({appointment.patient_id}),
        appointment_ids=frozenset({appointment.id}),
    )
    note(_session(sender), change.action, scope, courses)


def on_clinic_data_change(sender: object, change: ClinicDataChange) -> None:
    """Sessions the changed record takes part in: a location's (hours, closures), a staff
    member's (roles, hours, time off), a room's (kind, in service), a patient's
    (an enrollment a precondition reads)."""
    ids = {
        "location_ids": change.location_id if change.what in LOCATION_DATA else None,
        "staff_ids": change.staff_id,
        "room_ids": change.room_id,
        "patient_ids": change.patient_id,
    }
    scope = Scope(**{k: frozenset({v}) for k, v in ids.items() if v is not None})
    if scope:
        note(_session(sender), change.action, scope)


#: Changes whose location id means "every session at this location".
LOCATION_DATA = frozenset({"location", "opening_hours", "closure"})


def connect_listeners() -> None:
    """Strong references: listeners must outlive any one app; connecting again is a no-op."""
    appointment_changed.connect(on_appointment_change, weak=False)
    clinic_data_changed.connect(on_clinic_data_change, weak=False)
