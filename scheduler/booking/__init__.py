"""Transactions that change appointments: book, move, cancel, progress; and their rules."""

from .appointments import (
    AppointmentRequest,
    Move,
    book_appointment,
    cancel_appointment,
    check_rules,
    get_appointment,
    progress_appointment,
    reschedule_appointment,
    reschedule_appointments,
    snapshot,
)

__all__ = [
    "AppointmentRequest",
    "Move",
    "book_appointment",
    "cancel_appointment",
    "check_rules",
    "get_appointment",
    "progress_appointment",
    "reschedule_appointment",
    "reschedule_appointments",
    "snapshot",
]
