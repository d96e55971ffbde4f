"""Transactions that change appointments: book, move, cancel, progress; and their rules."""

from .appointments import (
    AppointmentRequest,
    book_appointment,
    cancel_appointment,
    check_rules,
    get_appointment,
    progress_appointment,
    reschedule_appointment,
    snapshot,
)

__all__ = [
    "AppointmentRequest",
    "book_appointment",
    "cancel_appointment",
    "check_rules",
    "get_appointment",
    "progress_appointment",
    "reschedule_appointment",
    "snapshot",
]
